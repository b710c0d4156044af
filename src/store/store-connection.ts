import type { Kysely, RawBuilder, Transaction } from './kysely.js';
import type { StoreSnapshot } from './key-records.js';
import type { StoreTables } from './schema.js';

/**
 * Where the key-state snapshot comes from and how it is kept current: SQLite re-reads it when another connection
 * committed (checked at each lookup); PostgreSQL re-reads it when notified, and polls the change counter because
 * notifications are lost across reconnects.
 */
export interface SnapshotSource {
  /**
   * The snapshot as fresh as the engine promises; throws StoreUnavailable when it cannot be given. SQLite checks it
   * at each call unless it did so less than `maxAgeMs` ago (PostgreSQL's is kept current in the background anyway).
   */
  current(maxAgeMs?: number): StoreSnapshot;
  /** Re-reads now, or at the next lookup (after this process committed a change, so its next lookup sees it). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * SQLite only: may the transaction wait (up to a second) for a lock another process holds? The service's own
   * connection never waits by default (a wait blocks its event loop); admin writes made through it may, briefly.
   */
  readonly waitForLock?: boolean;
  /**
   * Every read of the transaction sees one snapshot of the store, as of its first read: PostgreSQL runs it at
   * REPEATABLE READ (its default, READ COMMITTED, shows each statement what was committed before that statement);
   * a SQLite transaction always does.
   */
  readonly consistentRead?: boolean;
}

/**
 * What the SQL and the errors of one engine look like, for the code every engine shares (key-store.ts,
 * audit-trail.ts, store-copy.ts): each engine's folder has its own, and nothing outside it asks which engine it is.
 */
export interface EngineDialect {
  /** A top-level field of an audit entry's canonical JSON (the `entry` column), in the engine's own JSON function. */
  jsonField(key: string): RawBuilder<string>;
  /**
   * Last statement of every change transaction: tells the other instances, at commit, that the change counter moved
   * to `version` (nothing to do where every lookup asks the store itself whether it changed).
   */
  announceChange(trx: Transaction<StoreTables>, version: number): Promise<void>;
  /** The intents were inserted with their ids given (a copy): the engine's own numbering continues after them. */
  continueIntentIds(trx: Transaction<StoreTables>): Promise<void>;
  /** The engine's error in words for a sentence (with the engine's own code where it has one), never the data. */
  describeError(error: unknown): string;
  /** Did a write fail only because another process holds the store's lock (to be waited out, not a fault)? */
  isLockHeldElsewhere(error: unknown): boolean;
  /** The database server's clock, where the store has a server of its own (undefined for a file). */
  databaseTime(db: Kysely<StoreTables>): Promise<Date | undefined>;
}

/** One open store, on any engine: the query builder, the snapshot source, and how to name it in sentences. */
export interface StoreConnection {
  readonly dialect: EngineDialect;
  readonly db: Kysely<StoreTables>;
  /** The store as a sentence names it: `the store /data/dke.sqlite`, `the database dke on db.example:5432`. */
  readonly location: string;
  readonly snapshots: SnapshotSource;
  /** The error a failed query becomes for callers: a lost database is DatabaseUnavailable with its sentence. */
  translate(error: unknown): unknown;
  /** Runs `work` in one transaction; throws what the engine threw (the transaction is rolled back). */
  transaction<T>(work: (trx: Transaction<StoreTables>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}
