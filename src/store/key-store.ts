import { sql } from './kysely.js';
import type { AdminPolicy } from '../keys/admin-policy.js';
import type { KeyRecord } from '../keys/key-version.js';
import type { Approval, ApprovalBinding, ApprovalStatus, ProposedChange, EmergencyBlock, Intent, KeyLookup, KeyStateStore, StoreTransaction } from '../keys/ports.js';
import type { StoreConnection, TransactionOptions } from './store-connection.js';
import { KyselyStoreTransaction, pendingIntents } from './store-transaction.js';

/**
 * Key names, versions, states, allow lists and the kill switch, on any engine. Reads come from the connection's
 * snapshot (synchronous, immutable records); every change is one transaction that first bumps the change counter
 * (so SQLite takes its write lock at once and PostgreSQL writers queue on that row), then runs the caller's
 * compare-and-set writes with their audit entries, and lastly announces the change as its engine does (PostgreSQL
 * notifies every instance at commit).
 */
export class KeyStore implements KeyStateStore {
  readonly #connection: StoreConnection;
  readonly #now: () => Date;
  readonly #transactionOptions: TransactionOptions;

  constructor(connection: StoreConnection, options: { readonly now?: () => Date; readonly waitForLock?: boolean } = {}) {
    this.#connection = connection;
    this.#now = options.now ?? (() => new Date());
    this.#transactionOptions = { waitForLock: options.waitForLock ?? true };
  }

  emergencyBlock(): EmergencyBlock | undefined {
    return this.#connection.snapshots.current().block;
  }

  policy(): AdminPolicy | undefined {
    return this.#connection.snapshots.current().policy;
  }

  findKey(name: string): KeyRecord | undefined {
    return this.#connection.snapshots.current().records.get(name);
  }

  lookup(name: string, maxAgeMs = 0): KeyLookup {
    const snapshot = this.#connection.snapshots.current(maxAgeMs);
    return { record: snapshot.records.get(name), block: snapshot.block };
  }

  listKeys(): readonly KeyRecord[] {
    return this.#connection.snapshots.current().sorted;
  }

  async change<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const dialect = this.#connection.dialect;
    const result = await this.#connection.transaction(async (trx) => {
      const { version } = await trx.updateTable('store_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).returning('version').executeTakeFirstOrThrow();
      const value = await work(new KyselyStoreTransaction(trx, this.#now));
      await dialect.announceChange(trx, version);
      return value;
    }, this.#transactionOptions);
    await this.#connection.snapshots.refresh();
    return result;
  }

  async lastUses(name: string): Promise<ReadonlyMap<string, string>> {
    const rows = await this.#read((db) => db.selectFrom('key_versions').select(['key_id', 'last_used_at']).where('name', '=', name).where('last_used_at', 'is not', null).execute());
    return new Map(rows.map((r) => [r.key_id, r.last_used_at!]));
  }

  async listApprovals(): Promise<Approval[]> {
    const rows = await this.#read((db) => db.selectFrom('approvals').selectAll().orderBy('requested_at').orderBy('id').execute());
    return rows.map((row) => ({
      id: row.id,
      operation: row.operation as Approval['operation'],
      ...(row.key_name !== null ? { keyName: row.key_name } : {}),
      ...(row.key_id !== null ? { keyId: row.key_id } : {}),
      ...(row.target_state !== null ? { state: row.target_state as Approval['state'] & string } : {}),
      requestedBy: row.requested_by,
      requestedByPrincipal: row.requested_by_principal,
      requestedAt: row.requested_at,
      expiresAt: row.expires_at,
      status: row.status as ApprovalStatus,
      ...(row.decided_by !== null ? { decidedBy: row.decided_by } : {}),
      ...(row.decided_at !== null ? { decidedAt: row.decided_at } : {}),
      ...(row.bound_to !== null ? { boundTo: JSON.parse(row.bound_to) as ApprovalBinding } : {}),
      ...(row.proposed !== null ? { proposed: JSON.parse(row.proposed) as ProposedChange } : {}),
    }));
  }

  async claimJobLease(job: string, owner: string, now: string, until: string, takeOverFrom?: string): Promise<boolean> {
    return this.#connection.transaction(async (trx) => {
      // The lease row is written first (made free when missing): SQLite takes its write lock at once, PostgreSQL
      // locks the row, so two instances claiming together serialise here.
      await trx.insertInto('job_leases').values({ job, owner: '', until: '' }).onConflict((oc) => oc.column('job').doNothing()).execute();
      const held = await trx.updateTable('job_leases').set({ owner: sql`owner` }).where('job', '=', job).returning(['owner', 'until']).executeTakeFirstOrThrow();
      if (held.owner !== '' && held.owner !== owner && held.owner !== takeOverFrom && held.until > now) return false;
      await trx.updateTable('job_leases').set({ owner, until }).where('job', '=', job).execute();
      return true;
    }, this.#transactionOptions);
  }

  async jobLeaseHolder(job: string): Promise<string | undefined> {
    const owner = (await this.#read((db) => db.selectFrom('job_leases').select('owner').where('job', '=', job).executeTakeFirst()))?.owner;
    return owner === '' ? undefined : owner;
  }

  pendingIntents(): Promise<Intent[]> {
    return this.#read((db) => pendingIntents(db));
  }

  async renewIntentLease(id: number, owner: string, until: string): Promise<boolean> {
    try {
      const result = await this.#connection.db.updateTable('intents').set({ lease_until: until }).where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    } catch (error) {
      throw this.#connection.translate(error);
    }
  }

  databaseTime(): Promise<Date | undefined> {
    return this.#read((db) => this.#connection.dialect.databaseTime(db));
  }

  /** A read outside any change; a lost database is reported as DatabaseUnavailable, naming it. */
  async #read<T>(query: (db: StoreConnection['db']) => Promise<T>): Promise<T> {
    try {
      return await query(this.#connection.db);
    } catch (error) {
      throw this.#connection.translate(error);
    }
  }
}
