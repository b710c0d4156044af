import type { ArchiveCheck, ArchiveResult, AuditArchiver, AuditEntry, AuditEvent, AuditReader, AuditTrail, AuditVerification, DurableAuditTrail, KeyUsage } from '../keys/ports.js';
import { chainHash, verifyChain, type AuditRow } from './audit-chain.js';
import { archiveAuditBefore, checkArchives } from './sqlite-audit-archive.js';
import { AuditGroupCommit, type QueuedEntry } from './audit-group-commit.js';
import { adminWrite, describeSqliteError, GENESIS_HASH, type StoreDatabase } from './database.js';

export interface AuditTrailOptions {
  readonly now?: () => Date;
  /**
   * The service: decrypt decisions are group-committed (see AuditGroupCommit). Without it (the CLI) `record` writes
   * at once, as `append` does.
   */
  readonly groupCommit?: { readonly intervalMs: number; readonly waitLimitMs: number; readonly onFailing?: (reason: string) => void; readonly onRecovered?: (since: string, reason: string) => void };
  /** Asked before every write: a sentence when the store file is no longer the one opened (see StoreFileWatch). */
  readonly storeProblem?: () => string | undefined;
}

interface HeadRow {
  seq: number;
  hash: string;
  anchor_seq: number;
  anchor_hash: string;
}

/**
 * Append-only audit trail: each entry's hash covers its content and the previous entry's hash, so removing or
 * editing any stored line breaks the chain from that point on; the head (last seq and hash) is kept in its own row,
 * so removing the last entries breaks it too (`dke audit verify`).
 */
export class SqliteAuditTrail implements AuditTrail, DurableAuditTrail, AuditReader, AuditArchiver {
  readonly #db: StoreDatabase;
  readonly #now: () => Date;
  readonly #storeProblem: (() => string | undefined) | undefined;
  readonly #groupCommit: AuditGroupCommit | undefined;
  readonly #headStatement;
  readonly #insertStatement;
  readonly #moveHeadStatement;

  constructor(db: StoreDatabase, options: AuditTrailOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#storeProblem = options.storeProblem;
    this.#headStatement = db.prepare('SELECT seq, hash, anchor_seq, anchor_hash FROM audit_head WHERE id = 1');
    this.#insertStatement = db.prepare('INSERT INTO audit (seq, at, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
    this.#moveHeadStatement = db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1');
    const group = options.groupCommit;
    this.#groupCommit =
      group === undefined
        ? undefined
        : new AuditGroupCommit({ ...group, now: this.#now, write: (entries) => this.#writeEntries(entries) });
  }

  /** Writes one entry now, in its own transaction; throws when it cannot. */
  append(event: AuditEvent): void {
    adminWrite(this.#db, () => this.#writeEntries([{ at: this.#now().toISOString(), event }]));
  }

  /** Resolves once the entry is committed (group commit in the service); rejects with StoreUnavailable otherwise. */
  record(event: AuditEvent): Promise<void> {
    if (this.#groupCommit !== undefined) return this.#groupCommit.submit(event);
    try {
      this.append(event);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Why decrypts are refused for lack of an audit trail, or undefined while it can be written. */
  get problem(): string | undefined {
    return this.#groupCommit?.problem;
  }

  /**
   * Can an entry be written now? Rehearses one inside a transaction that is rolled back, so a full disk or a corrupt
   * last page shows before a decrypt needs it. A lock held elsewhere is not a fault here: the group commit waits it out
   * (or reports it once it has lasted too long).
   */
  probe(): string | undefined {
    const problem = this.#storeProblem?.() ?? this.problem;
    if (problem !== undefined) return problem;
    const rehearsal = new Error('rehearsal');
    try {
      this.#db.transaction(() => {
        const head = this.#headStatement.get() as HeadRow;
        this.#insertStatement.run(head.seq + 1, this.#now().toISOString(), '{}', head.hash, GENESIS_HASH);
        this.#moveHeadStatement.run(head.seq + 1, GENESIS_HASH);
        throw rehearsal;
      }).immediate();
    } catch (error) {
      if (error === rehearsal || (error as { code?: unknown }).code === 'SQLITE_BUSY') return undefined;
      return `the audit trail cannot be written: ${describeSqliteError(error)}`;
    }
    return undefined;
  }

  archiveBefore(before: Date, file: string, actor: string): ArchiveResult | undefined {
    return archiveAuditBefore(this.#db, before, file, (event) => this.append(event), { actor, now: this.#now() });
  }

  checkArchives(files: readonly string[]): ArchiveCheck[] {
    return checkArchives(this.#db, files);
  }

  /** Writes what waits for a batch (at close). */
  drain(): void {
    this.#groupCommit?.drain();
  }

  /**
   * Writes entries chained in order, and the head, in one IMMEDIATE transaction: within an existing transaction
   * (an admin change and its entry together) it joins it, since better-sqlite3 nests transactions as savepoints.
   */
  #writeEntries(entries: readonly QueuedEntry[]): void {
    const problem = this.#storeProblem?.();
    if (problem !== undefined) throw new Error(problem);
    const write = this.#db.transaction(() => {
      const head = this.#headStatement.get() as HeadRow;
      let seq = head.seq;
      let prevHash = head.hash;
      for (const { at, event } of entries) {
        seq += 1;
        const entry = canonicalEntry(seq, at, event);
        const hash = chainHash(prevHash, entry);
        this.#insertStatement.run(seq, at, entry, prevHash, hash);
        prevHash = hash;
      }
      this.#moveHeadStatement.run(seq, prevHash);
      this.#recordLastUses(entries);
    });
    if (this.#db.inTransaction) write();
    else write.immediate();
  }

  /**
   * Each version's last successful decrypt (contract §4 `lastUsedAt`), written with the batch that records the
   * decrypts: one UPDATE per version per batch, not a write per decrypt.
   */
  #recordLastUses(entries: readonly QueuedEntry[]): void {
    const latest = new Map<string, { name: string; keyId: string; at: string }>();
    for (const { at, event } of entries) {
      if (event.action !== 'decrypt' || event.outcome !== 'allowed' || event.keyName === undefined || event.keyId === undefined) continue;
      const key = `${event.keyName}\u0000${event.keyId}`;
      const seen = latest.get(key);
      if (seen === undefined || seen.at < at) latest.set(key, { name: event.keyName, keyId: event.keyId, at });
    }
    for (const { name, keyId, at } of latest.values()) {
      this.#db.prepare('UPDATE key_versions SET last_used_at = ? WHERE name = ? AND key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(at, name, keyId, at);
    }
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
    const read = this.#db.transaction(() => ({
      head: this.#headStatement.get() as HeadRow | undefined,
      rows: this.#db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[],
    }));
    const { head, rows } = read();
    const base = {
      entries: rows.length,
      head: { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH },
      anchor: { seq: head?.anchor_seq ?? 0, hash: head?.anchor_hash ?? GENESIS_HASH },
    };
    const broken = (brokenAt: number, problem: string): AuditVerification => ({ ok: false, ...base, brokenAt, problem });
    if (head === undefined) return broken(1, 'the audit head is missing');
    const result = verifyChain(rows, head.anchor_seq, head.anchor_hash);
    if (result !== undefined) return broken(result.brokenAt, result.problem);
    const lastSeq = rows.at(-1)?.seq ?? head.anchor_seq;
    const lastHash = rows.at(-1)?.hash ?? head.anchor_hash;
    if (lastSeq !== head.seq) {
      return broken(
        Math.min(lastSeq, head.seq) + 1,
        lastSeq < head.seq
          ? `the trail ends at entry ${lastSeq} but its head records entry ${head.seq}: entries were removed from the end`
          : `entries after ${head.seq} were added without moving the head`,
      );
    }
    if (lastHash !== head.hash) return broken(lastSeq, `entry ${lastSeq} is not the entry the head records`);
    return { ok: true, ...base };
  }
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

export function toEntry(row: AuditRow): AuditEntry {
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
