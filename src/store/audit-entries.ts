import { sql, type Kysely, type Transaction } from './kysely.js';
import type { AuditEntry, AuditEvent } from '../keys/ports.js';
import { chainHash, type AuditRow } from './audit-chain.js';
import type { StoreTables } from './schema.js';

/** One entry to append: `at` is the time the decision was made (stamped when it was queued). */
export interface QueuedEntry {
  at: string;
  readonly event: AuditEvent;
}

/**
 * Appends entries, chained in order, and moves the head, inside the caller's transaction. The head row is updated
 * first (UPDATE … RETURNING): that takes SQLite's write lock at once and makes PostgreSQL writers queue on the row,
 * so the trail stays one chain however many instances write.
 */
export async function appendAuditEntries(trx: Transaction<StoreTables> | Kysely<StoreTables>, entries: readonly QueuedEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const head = await trx.updateTable('audit_head').set({ seq: sql`seq` }).where('id', '=', 1).returning(['seq', 'hash']).executeTakeFirstOrThrow();
  let seq = Number(head.seq);
  let prevHash = head.hash;
  const rows: AuditRow[] = [];
  for (const { at, event } of entries) {
    seq += 1;
    const entry = canonicalEntry(seq, at, event);
    const hash = chainHash(prevHash, entry);
    rows.push({ seq, at, entry, prev_hash: prevHash, hash });
    prevHash = hash;
  }
  // Chunks keep every INSERT under both engines' limits on bound parameters.
  for (let i = 0; i < rows.length; i += 500) await trx.insertInto('audit').values(rows.slice(i, i + 500)).execute();
  await trx.updateTable('audit_head').set({ seq, hash: prevHash }).where('id', '=', 1).execute();
}

/**
 * Each version's last successful decrypt (contract §4 `lastUsedAt`), written with the batch that records the
 * decrypts: one UPDATE per version per batch, not a write per decrypt. Run before the chain is appended, so every
 * writer takes version rows before the audit head (no lock-order deadlock on PostgreSQL).
 */
export async function recordLastUses(trx: Transaction<StoreTables>, entries: readonly QueuedEntry[]): Promise<void> {
  const latest = new Map<string, { name: string; keyId: string; at: string }>();
  for (const { at, event } of entries) {
    if (event.action !== 'decrypt' || event.outcome !== 'allowed' || event.keyName === undefined || event.keyId === undefined) continue;
    const key = `${event.keyName}\u0000${event.keyId}`;
    const seen = latest.get(key);
    if (seen === undefined || seen.at < at) latest.set(key, { name: event.keyName, keyId: event.keyId, at });
  }
  for (const { name, keyId, at } of [...latest.values()].sort((a, b) => (a.name + a.keyId < b.name + b.keyId ? -1 : 1))) {
    await trx
      .updateTable('key_versions')
      .set({ last_used_at: at })
      .where('name', '=', name)
      .where('key_id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}

export function canonicalEntry(seq: number, at: string, event: AuditEvent): string {
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
    seq: Number(row.seq),
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
