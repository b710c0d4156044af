import { sql, type Kysely } from '../kysely.js';
import pg from 'pg';
import { StoreUnavailable } from '../../keys/errors.js';
import { SNAPSHOT_QUERIES, snapshotFrom, type SnapshotRows, type StoreSnapshot } from '../key-records.js';
import { describeDatabaseError, type DatabaseLocation } from './postgres-location.js';
import type { StoreTables } from '../schema.js';
import type { SnapshotSource } from '../store-connection.js';

/** The change counter is asked this often: a change whose notification was lost still arrives within a second. */
export const VERSION_POLL_MS = 400;
/** The listening connection is re-opened after this long when it drops (then everything is re-read). */
const RELISTEN_MS = 500;

export interface PostgresSnapshotsOptions {
  readonly url: string;
  readonly db: Kysely<StoreTables>;
  readonly location: DatabaseLocation;
  readonly stalenessMs: number;
  readonly channel: string;
  readonly typeParser: (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
  readonly onReachability?: (reachable: boolean, detail: string) => void;
  readonly now?: () => number;
}

/**
 * The snapshot of a PostgreSQL store, kept current for synchronous lookups: a dedicated connection LISTENs on the
 * change channel (every change transaction notifies at commit), and the change counter is polled, since notifications
 * sent while the listening connection was down are lost. A snapshot is replaced only when the counter moved, so its
 * records stay the same objects while nothing changes.
 *
 * While the database does not answer, lookups go on from the last snapshot the database confirmed, for the staleness
 * limit (DKE_STATE_STALENESS_SECONDS); past it, they throw StoreUnavailable (503 with Retry-After), since the service
 * can no longer know whether a key was revoked meanwhile (contract §5).
 */
export class PostgresSnapshots implements SnapshotSource {
  readonly #options: PostgresSnapshotsOptions;
  readonly #now: () => number;
  #snapshot: StoreSnapshot | undefined;
  /** When the database last confirmed the snapshot current (a poll or a re-read that succeeded). */
  #confirmedAt = 0;
  #problem: string | undefined;
  #listener: pg.Client | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #relistenTimer: NodeJS.Timeout | undefined;
  /** Fires when the last confirmation becomes older than the limit, so readiness turns to fail then, not later. */
  #staleTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #closed = false;
  #polling = false;

  constructor(options: PostgresSnapshotsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Reads the first snapshot (throws when the database cannot be read), then listens and polls. */
  async start(): Promise<void> {
    await this.#load();
    await this.#listen().catch((error: unknown) => this.#lost(error));
    this.#pollTimer = setInterval(() => void this.#poll(), VERSION_POLL_MS);
    this.#pollTimer.unref();
  }

  current(): StoreSnapshot {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) throw new StoreUnavailable(`the key state was never read: ${this.#problem ?? 'not yet started'}`);
    const age = this.#now() - this.#confirmedAt;
    if (age > this.#options.stalenessMs) {
      throw new StoreUnavailable(`${this.#options.location.sentence} has not confirmed the key state for ${Math.round(age / 1000)} s (limit DKE_STATE_STALENESS_SECONDS): ${this.#problem ?? 'no answer'}`);
    }
    return snapshot;
  }

  /** Before the first read: why it could not be made (the service keeps trying; readiness fails meanwhile). */
  notReadYet(problem: string): void {
    this.#problem = problem;
  }

  /** How old the last confirmation is, and why the database does not answer (undefined while it does). */
  health(): { readonly ageMs: number; readonly problem: string | undefined; readonly limitMs: number } {
    return { ageMs: this.#now() - this.#confirmedAt, problem: this.#problem, limitMs: this.#options.stalenessMs };
  }

  /** Re-reads after this process committed; a re-read already under way may have missed the commit, so one more follows it. */
  refresh(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const after = this.#running ?? Promise.resolve();
    const next: Promise<void> = after
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        this.#running = next;
        return this.#load();
      })
      .finally(() => {
        if (this.#running === next) this.#running = undefined;
      });
    this.#queued = next;
    return next;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#relistenTimer);
    clearTimeout(this.#staleTimer);
    await this.#running?.catch(() => undefined);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** One consistent read (REPEATABLE READ) of every query; the snapshot is replaced only when the counter moved. */
  async #load(): Promise<void> {
    const rows = await this.#options.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const read: Record<string, readonly unknown[]> = {};
        for (const [key, query] of Object.entries(SNAPSHOT_QUERIES)) read[key] = (await sql.raw(query).execute(trx)).rows;
        return read as SnapshotRows;
      });
    const version = Number((rows.version[0] as { version: number } | undefined)?.version ?? 0);
    if (this.#snapshot === undefined || version !== this.#snapshot.version) this.#snapshot = snapshotFrom(rows);
    this.#confirmed();
  }

  async #poll(): Promise<void> {
    if (this.#closed || this.#polling) return;
    this.#polling = true;
    try {
      const row = await this.#options.db.selectFrom('store_version').select('version').where('id', '=', 1).executeTakeFirst();
      if (Number(row?.version ?? 0) !== this.#snapshot?.version) await this.refresh();
      else this.#confirmed();
      if (this.#listener === undefined && this.#relistenTimer === undefined) this.#scheduleListen();
    } catch (error) {
      this.#lost(error);
    } finally {
      this.#polling = false;
    }
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url, connectionTimeoutMillis: 5000, types: { getTypeParser: this.#options.typeParser } });
    client.on('error', (error) => this.#dropListener(client, error));
    client.on('end', () => this.#dropListener(client, new Error('the listening connection ended')));
    client.on('notification', (message) => {
      if (Number(message.payload) !== this.#snapshot?.version) void this.refresh().catch((error: unknown) => this.#lost(error));
    });
    await client.connect();
    await client.query(`LISTEN ${this.#options.channel}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#listener = client;
    // Notifications sent while nobody listened are lost: read once more now that someone does.
    await this.refresh();
  }

  #dropListener(client: pg.Client, error: unknown): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    void client.end().catch(() => undefined);
    this.#lost(error);
    this.#scheduleListen();
  }

  #scheduleListen(): void {
    if (this.#closed || this.#relistenTimer !== undefined) return;
    this.#relistenTimer = setTimeout(() => {
      this.#relistenTimer = undefined;
      this.#listen().catch((error: unknown) => {
        this.#lost(error);
        this.#scheduleListen();
      });
    }, RELISTEN_MS);
    this.#relistenTimer.unref();
  }

  #confirmed(): void {
    this.#confirmedAt = this.#now();
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    if (this.#problem !== undefined) {
      this.#problem = undefined;
      this.#options.onReachability?.(true, this.#options.location.sentence);
    }
  }

  #lost(error: unknown): void {
    if (this.#closed) return;
    const first = this.#problem === undefined;
    this.#problem = describeDatabaseError(error, this.#options.url);
    if (!first) return;
    this.#options.onReachability?.(false, this.#problem);
    const untilStale = Math.max(0, this.#confirmedAt + this.#options.stalenessMs - this.#now()) + 10;
    this.#staleTimer = setTimeout(() => {
      this.#staleTimer = undefined;
      if (this.#problem !== undefined) this.#options.onReachability?.(false, `${this.#problem}; the last key state is older than the staleness limit`);
    }, untilStale);
    this.#staleTimer.unref();
  }
}
