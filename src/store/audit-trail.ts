import { sql, type RawBuilder, type Transaction } from './kysely.js';
import type { ArchiveCheck, ArchiveResult, AuditArchiver, AuditEntry, AuditEvent, AuditQuery, AuditReader, AuditTrail, AuditVerification, DurableAuditTrail, KeyUsage } from '../keys/ports.js';
import { ChainWalk, type QueuedEntry } from './audit-chain.js';
import { appendAuditEntries, auditRowPages, recordLastUses, toEntry } from './audit-entries.js';
import { archiveAuditBefore, checkArchives } from './audit-archive.js';
import { findAuditEntries } from './audit-query.js';
import { AuditGroupCommit } from './audit-group-commit.js';
import type { DecryptTally } from '../keys/ports.js';
import { GENESIS_HASH, type StoreTables } from './schema.js';
import type { StoreConnection } from './store-connection.js';

export interface AuditTrailOptions {
  readonly now?: () => Date;
  /**
   * The service: decrypt decisions are group-committed (see AuditGroupCommit). Without it (the CLI) `record` writes
   * at once, as `append` does.
   */
  readonly groupCommit?: {
    readonly intervalMs: number;
    readonly waitLimitMs: number;
    readonly onFailing?: (reason: string) => void;
    readonly onRecovered?: (since: string, reason: string) => void;
    /** Writes a batch in place of `writeEntries` (a database store: through the local journal, see JournaledAuditWrite). */
    readonly write?: (entries: readonly QueuedEntry[]) => Promise<void>;
  };
  /** Asked before every write: a sentence when the store file is no longer the one opened (see StoreFileWatch). */
  readonly storeProblem?: () => string | undefined;
  /** Asked before every decrypt: a sentence when decrypts are refused although entries could wait (DKE_OUTAGE_MODE=refuse). */
  readonly refusal?: () => string | undefined;
  /** How many entries `verify` reads at a time (tests make it small). */
  readonly verifyPageRows?: number;
}

/** Entries per page of `verify`: a few MB of rows at a time. */
const VERIFY_PAGE_ROWS = 5_000;

/**
 * Append-only audit trail, on any engine: each entry's hash covers its content and the previous entry's hash, so
 * removing or editing any stored line breaks the chain from that point on; the head (last seq and hash) is kept in
 * its own row, so removing the last entries breaks it too (`dke audit verify`). One chain, serialised in the
 * database on the head row, however many instances write.
 */
export class StoreAuditTrail implements AuditTrail, DurableAuditTrail, AuditReader, AuditArchiver {
  readonly #connection: StoreConnection;
  readonly #now: () => Date;
  readonly #storeProblem: (() => string | undefined) | undefined;
  readonly #groupCommit: AuditGroupCommit | undefined;
  readonly #refusal: (() => string | undefined) | undefined;
  readonly #verifyPageRows: number;

  constructor(connection: StoreConnection, options: AuditTrailOptions = {}) {
    this.#connection = connection;
    this.#now = options.now ?? (() => new Date());
    this.#storeProblem = options.storeProblem;
    this.#refusal = options.refusal;
    this.#verifyPageRows = options.verifyPageRows ?? VERIFY_PAGE_ROWS;
    const group = options.groupCommit;
    this.#groupCommit =
      group === undefined
        ? undefined
        : new AuditGroupCommit({ ...group, now: this.#now, describeError: connection.dialect.describeError, write: group.write ?? ((entries) => this.writeEntries(entries)) });
  }

  /** Writes one entry now, in its own transaction; rejects when it cannot. */
  async append(event: AuditEvent): Promise<void> {
    await this.#transaction((trx) => appendAuditEntries(trx, [{ at: this.#now().toISOString(), event }]), true);
  }

  /** Resolves once the entry is committed (group commit in the service); rejects with StoreUnavailable otherwise. */
  record(event: AuditEvent): Promise<void> {
    if (this.#groupCommit !== undefined) return this.#groupCommit.submit(event);
    return this.append(event);
  }

  /** Why decrypts are refused for lack of an audit trail, or undefined while it can be written. */
  get problem(): string | undefined {
    return this.#refusal?.() ?? this.#groupCommit?.problem;
  }

  /**
   * Can an entry be written now? Rehearses one inside a transaction that is rolled back, so a full disk or a corrupt
   * last page shows before a decrypt needs it. A lock held elsewhere is not a fault here: the group commit waits it out
   * (or reports it once it has lasted too long).
   */
  async probe(): Promise<string | undefined> {
    const problem = this.#storeProblem?.() ?? this.problem;
    if (problem !== undefined) return problem;
    const rehearsal = new Error('rehearsal');
    try {
      await this.#connection.transaction(async (trx) => {
        await appendAuditEntries(trx, [{ at: this.#now().toISOString(), event: { actor: 'readiness', action: 'rehearsal', outcome: 'succeeded' } }]);
        throw rehearsal;
      });
    } catch (error) {
      if (error === rehearsal || this.#connection.dialect.isLockHeldElsewhere(error)) return undefined;
      return `the audit trail cannot be written: ${this.#connection.dialect.describeError(error)}`;
    }
    return undefined;
  }

  archiveBefore(before: Date, file: string, actor: string): Promise<ArchiveResult | undefined> {
    return archiveAuditBefore(this.#connection, before, file, { actor, now: this.#now() });
  }

  checkArchives(files: readonly string[]): Promise<ArchiveCheck[]> {
    return checkArchives(this.#connection.db, files);
  }

  /** Writes what waits for a batch (at close). */
  async drain(): Promise<void> {
    await this.#groupCommit?.drain();
  }

  /**
   * Writes a batch of decrypt entries, chained in order, with each version's last use, in one transaction that never
   * waits for a lock (the group commit retries on its own timer). Rejects with the engine's error when it cannot:
   * the group commit (and whoever wraps this write) decides what then happens to the entries.
   */
  async writeEntries(entries: readonly QueuedEntry[]): Promise<void> {
    const problem = this.#storeProblem?.();
    if (problem !== undefined) throw new Error(problem);
    await this.#transaction(async (trx) => {
      await recordLastUses(trx, entries);
      await appendAuditEntries(trx, entries);
    }, false);
  }

  /** Entries in order, optionally only those at or after `since`. */
  async list(since?: Date): Promise<AuditEntry[]> {
    let query = this.#connection.db.selectFrom('audit').selectAll().orderBy('seq');
    if (since !== undefined) query = query.where('at', '>=', since.toISOString());
    return (await query.execute().catch((error: unknown) => Promise.reject(this.#connection.translate(error)))).map(toEntry);
  }

  find(query: AuditQuery): Promise<AuditEntry[]> {
    return findAuditEntries(this.#connection, query);
  }

  async decryptUsage(name: string, keyId: string, since: Date): Promise<KeyUsage> {
    const field = (key: string): RawBuilder<string> => this.#connection.dialect.jsonField(key);
    const row = await this.#connection.db
      .selectFrom('audit')
      .select((eb) => [eb.fn.countAll<number>().as('decrypts'), sql<number>`count(DISTINCT ${field('actor')})`.as('users'), eb.fn.max('at').as('lastUse')])
      .where('at', '>=', since.toISOString())
      .where(field('action'), '=', 'decrypt')
      .where(field('outcome'), '=', 'allowed')
      .where(field('keyName'), '=', name)
      .where(field('keyId'), '=', keyId)
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => Promise.reject(this.#connection.translate(error)));
    return { decrypts: Number(row.decrypts), distinctUsers: Number(row.users), lastUse: row.lastUse ?? undefined };
  }

  async decryptTallies(since: Date): Promise<DecryptTally[]> {
    const field = (key: string): RawBuilder<string> => this.#connection.dialect.jsonField(key);
    const rows = await this.#connection.db
      .selectFrom('audit')
      .select((eb) => [field('keyName').as('keyName'), field('outcome').as('outcome'), field('reason').as('reason'), eb.fn.countAll<number>().as('count')])
      .where('at', '>=', since.toISOString())
      .where(field('action'), '=', 'decrypt')
      // By position: PostgreSQL cannot tell that two parameterised JSON fields are the same expression.
      .groupBy([sql`1`, sql`2`, sql`3`])
      .execute()
      .catch((error: unknown) => Promise.reject(this.#connection.translate(error)));
    return rows.map((row) => ({ keyName: row.keyName, outcome: row.outcome as DecryptTally['outcome'], reason: row.reason ?? 'unknown', count: Number(row.count) }));
  }

  /** The head as the store keeps it, and the hash of entry `seq` while it is stored: what the token anchors (issue 25). */
  async headAndEntry(seq: number): Promise<{ readonly head: { readonly seq: number; readonly hash: string }; readonly entryHash: string | undefined }> {
    return this.#connection
      .transaction(async (trx) => {
        const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
        const entry = await trx.selectFrom('audit').select('hash').where('seq', '=', seq).executeTakeFirst();
        return { head: { seq: head === undefined ? 0 : Number(head.seq), hash: head?.hash ?? GENESIS_HASH }, entryHash: entry?.hash };
      })
      .catch((error: unknown) => Promise.reject(this.#connection.translate(error)));
  }

  /**
   * Reads the head, then the entries a page at a time (memory bounded however long the trail), all in one transaction
   * that sees one snapshot, and checks the chain against the head. Without the snapshot, PostgreSQL would show each
   * statement the entries committed since the one before, and a trail that decrypts append to while it is read would
   * seem to run past its head: a tampering alarm for nothing.
   */
  async verify(): Promise<AuditVerification> {
    const pageRows = this.#verifyPageRows;
    return this.#connection.transaction(
      async (trx) => {
        const head = await trx.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
        const headSeq = head === undefined ? 0 : Number(head.seq);
        const anchorSeq = head === undefined ? 0 : Number(head.anchor_seq);
        let entries = 0;
        const base = (): Omit<AuditVerification, 'ok'> => ({
          entries,
          head: { seq: headSeq, hash: head?.hash ?? GENESIS_HASH },
          anchor: { seq: anchorSeq, hash: head?.anchor_hash ?? GENESIS_HASH },
        });
        // A break ends the walk: the entries are then counted (a whole scan on SQLite, which keeps no count).
        const broken = async (brokenAt: number, problem: string): Promise<AuditVerification> => {
          entries = Number((await trx.selectFrom('audit').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
          return { ok: false, ...base(), brokenAt, problem };
        };
        if (head === undefined) return broken(1, 'the audit head is missing');
        const walk = new ChainWalk(anchorSeq, head.anchor_hash);
        for await (const rows of auditRowPages(trx, pageRows)) {
          const result = walk.next(rows);
          if (result !== undefined) return broken(result.brokenAt, result.problem);
          entries += rows.length;
          // SQLite's reads block the event loop while they run: requests are served between pages.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const last = walk.last;
        if (last.seq !== headSeq) {
          return broken(
            Math.min(last.seq, headSeq) + 1,
            last.seq < headSeq
              ? `the trail ends at entry ${last.seq} but its head records entry ${headSeq}: entries were removed from the end`
              : `entries after ${headSeq} were added without moving the head`,
          );
        }
        if (last.hash !== head.hash) return broken(last.seq, `entry ${last.seq} is not the entry the head records`);
        return { ok: true, ...base() };
      },
      { consistentRead: true },
    );
  }

  #transaction<T>(work: (trx: Transaction<StoreTables>) => Promise<T>, waitForLock: boolean): Promise<T> {
    return this.#connection.transaction(work, { waitForLock });
  }
}
