import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEvent, AuditReader, AuditTrail, KeyUsage } from '../keys/ports.js';
import type { StoreDatabase } from './database.js';

const GENESIS_HASH = '0'.repeat(64);

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** The first entry whose hash or link does not match, when not ok. */
  readonly brokenAt?: number;
  readonly problem?: string;
}

/**
 * Append-only audit trail: each entry's hash covers its content and the previous entry's hash, so removing or
 * editing any stored line breaks the chain from that point on (`dke audit verify`).
 */
export class SqliteAuditTrail implements AuditTrail, AuditReader {
  readonly #db: StoreDatabase;
  readonly #now: () => Date;

  constructor(db: StoreDatabase, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  append(event: AuditEvent): void {
    const append = this.#db.transaction(() => {
      const last = this.#db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const at = this.#now().toISOString();
      const entry = canonicalEntry(seq, at, event);
      this.#db
        .prepare('INSERT INTO audit (seq, at, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)')
        .run(seq, at, entry, prevHash, chainHash(prevHash, entry));
    });
    append.immediate();
  }

  /** Entries in order, optionally only those at or after `since`. */
  list(since?: Date): AuditEntry[] {
    const rows = (
      since === undefined
        ? this.#db.prepare('SELECT * FROM audit ORDER BY seq').all()
        : this.#db.prepare('SELECT * FROM audit WHERE at >= ? ORDER BY seq').all(since.toISOString())
    ) as AuditRow[];
    return rows.map(toEntry);
  }

  decryptUsage(name: string, keyId: string, since: Date): KeyUsage {
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
