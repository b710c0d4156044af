import type Database from 'better-sqlite3';
import { chainedRows, lastUses, type QueuedEntry } from '../audit-chain.js';
import type { StoreDatabase } from './database.js';

/**
 * A batch of decrypt entries written straight through better-sqlite3, for the audit writer thread: the same rows and
 * the same order as StoreAuditTrail.writeEntries through Kysely (each version's last use, then the head taken with an
 * UPDATE … RETURNING, the chained rows, the new head; audit-chain.ts computes them for both), in one transaction.
 * The thread loads no query builder: it starts in about half the time (a thread start is paid once per service, and
 * by every test service that decrypts), and its statements are prepared once.
 */
export class SqliteAuditBatch {
  readonly #write: (entries: readonly QueuedEntry[]) => void;

  constructor(db: StoreDatabase) {
    const takeHead = db.prepare('UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash');
    const insert = db.prepare('INSERT INTO audit (seq, at, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
    const moveHead = db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1');
    const lastUse = db.prepare('UPDATE key_versions SET last_used_at = ? WHERE name = ? AND key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)');
    const write = (entries: readonly QueuedEntry[]): void => {
      for (const use of lastUses(entries)) lastUse.run(use.at, use.name, use.keyId, use.at);
      const head = takeHead.get() as { seq: number; hash: string } | undefined;
      if (head === undefined) throw new Error('the audit head row is missing');
      const { rows, seq, hash } = chainedRows({ seq: Number(head.seq), hash: head.hash }, entries);
      for (const row of rows) insert.run(row.seq, row.at, row.entry, row.prev_hash, row.hash);
      moveHead.run(seq, hash);
    };
    // IMMEDIATE: the write lock is taken at BEGIN, or SQLITE_BUSY at once (the connection has no busy timeout).
    this.#write = (db as Database.Database).transaction(write).immediate;
  }

  /** Commits the entries or throws SQLite's error (its code kept); nothing of a failed batch stays. */
  write(entries: readonly QueuedEntry[]): void {
    if (entries.length > 0) this.#write(entries);
  }
}
