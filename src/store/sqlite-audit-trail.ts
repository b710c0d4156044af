import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEvent, AuditReader, AuditTrail, AuditVerification, KeyUsage } from '../keys/ports.js';
import type { StoreDatabase } from './database.js';

const GENESIS_HASH = '0'.repeat(64);

/**
 * Append-only audit trail: each entry's hash covers its content and the previous entry's hash, so removing or
 * editing any stored line breaks the chain from that point on (`dke audit verify`).
 */
export interface AuditTrailOptions {
  readonly now?: () => Date;
  /**
   * The service batches: decrypt decisions are queued (with the time they were made) and written together, in one
   * transaction, within `batchMs`, instead of one locked write per decrypt on the request path. A crash can lose at
   * most that window of decrypt entries; admin commands (the CLI) always write at once.
   */
  readonly batchMs?: number;
}

/**
 * Append-only audit trail: each entry's hash covers its content and the previous entry's hash, so removing or
 * editing any stored line breaks the chain from that point on (`dke audit verify`).
 */
export class SqliteAuditTrail implements AuditTrail, AuditReader {
  readonly #db: StoreDatabase;
  readonly #now: () => Date;
  readonly #batchMs: number | undefined;
  readonly #queue: { at: string; event: AuditEvent }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #lastStatement;
  readonly #insertStatement;

  constructor(db: StoreDatabase, options: AuditTrailOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#batchMs = options.batchMs;
    this.#lastStatement = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.#insertStatement = db.prepare('INSERT INTO audit (seq, at, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
  }

  append(event: AuditEvent): void {
    this.#queue.push({ at: this.#now().toISOString(), event });
    if (this.#batchMs === undefined) {
      this.flush();
      return;
    }
    this.#flushTimer ??= setTimeout(() => this.flush(), this.#batchMs);
  }

  /** Writes every queued entry now, chained in order, in one IMMEDIATE transaction. */
  flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#queue.length === 0) return;
    const pending = this.#queue.splice(0);
    const write = this.#db.transaction(() => {
      const last = this.#lastStatement.get() as { seq: number; hash: string } | undefined;
      let seq = last?.seq ?? 0;
      let prevHash = last?.hash ?? GENESIS_HASH;
      for (const { at, event } of pending) {
        seq += 1;
        const entry = canonicalEntry(seq, at, event);
        const hash = chainHash(prevHash, entry);
        this.#insertStatement.run(seq, at, entry, prevHash, hash);
        prevHash = hash;
      }
    });
    write.immediate();
  }

  /** Entries in order, optionally only those at or after `since`. */
  list(since?: Date): AuditEntry[] {
    this.flush();
    const rows = (
      since === undefined
        ? this.#db.prepare('SELECT * FROM audit ORDER BY seq').all()
        : this.#db.prepare('SELECT * FROM audit WHERE at >= ? ORDER BY seq').all(since.toISOString())
    ) as AuditRow[];
    return rows.map(toEntry);
  }

  decryptUsage(name: string, keyId: string, since: Date): KeyUsage {
    this.flush();
    const row = this.#db
      .prepare(
        `SELECT count(*) AS decrypts, count(DISTINCT json_extract(entry, '$.actor')) AS users, max(at) AS lastUse
         FROM audit WHERE at >= ? AND json_extract(entry, '$.action') = 'decrypt' AND json_extract(entry, '$.outcome') = 'allowed'
         AND json_extract(entry, '$.keyName') = ? AND json_extract(entry, '$.keyId') = ?`,
      )
      .get(since.toISOString(), name, keyId) as { decrypts: number; users: number; lastUse: string | null };
    return { decrypts: row.decrypts, distinctUsers: row.users, lastUse: row.lastUse ?? undefined };
  }

  verify(): AuditVerification {
    this.flush();
    const rows = this.#db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return { ok: false, entries: rows.length, brokenAt: expectedSeq, problem: `entry ${expectedSeq} is missing` };
      }
      if (row.prev_hash !== prevHash) {
        return { ok: false, entries: rows.length, brokenAt: row.seq, problem: `entry ${row.seq} does not link to entry ${row.seq - 1}` };
      }
      if (chainHash(prevHash, row.entry) !== row.hash || !entryMatchesRow(row)) {
        return { ok: false, entries: rows.length, brokenAt: row.seq, problem: `entry ${row.seq} was altered` };
      }
      prevHash = row.hash;
      expectedSeq += 1;
    }
    return { ok: true, entries: rows.length };
  }
}

interface AuditRow {
  seq: number;
  at: string;
  entry: string;
  prev_hash: string;
  hash: string;
}

function canonicalEntry(seq: number, at: string, event: AuditEvent): string {
  return JSON.stringify({
    seq,
    at,
    actor: event.actor,
    action: event.action,
    keyName: event.keyName ?? null,
    keyId: event.keyId ?? null,
    outcome: event.outcome,
    reason: event.reason ?? null,
    details: event.details ?? null,
  });
}

function chainHash(prevHash: string, entry: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(entry).digest('hex');
}

function entryMatchesRow(row: AuditRow): boolean {
  const parsed = JSON.parse(row.entry) as { seq: number; at: string };
  return parsed.seq === row.seq && parsed.at === row.at;
}

function toEntry(row: AuditRow): AuditEntry {
  const parsed = JSON.parse(row.entry) as {
    actor: string;
    action: string;
    keyName: string | null;
    keyId: string | null;
    outcome: AuditEntry['outcome'];
    reason: string | null;
    details: AuditEntry['details'] | null;
  };
  return {
    seq: row.seq,
    at: row.at,
    actor: parsed.actor,
    action: parsed.action,
    ...(parsed.keyName !== null ? { keyName: parsed.keyName } : {}),
    ...(parsed.keyId !== null ? { keyId: parsed.keyId } : {}),
    outcome: parsed.outcome,
    ...(parsed.reason !== null ? { reason: parsed.reason } : {}),
    ...(parsed.details !== null ? { details: parsed.details } : {}),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
