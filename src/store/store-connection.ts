import type { Kysely, Transaction } from 'kysely';
import type { StoreSnapshot } from './key-records.js';
import type { StoreEngine, StoreTables } from './schema.js';

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
}

/** One open store, on either engine: the query builder, the snapshot source, and how to name it in sentences. */
export interface StoreConnection {
  readonly engine: StoreEngine;
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
