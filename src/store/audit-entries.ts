import { sql, type Kysely, type Transaction } from './kysely.js';
import type { AuditEntry } from '../keys/ports.js';
import { chainedRows, lastUses, type AuditRow, type QueuedEntry } from './audit-chain.js';
import type { StoreTables } from './schema.js';

/**
 * Appends entries, chained in order, and moves the head, inside the caller's transaction. The head row is updated
 * first (UPDATE … RETURNING): that takes SQLite's write lock at once and makes PostgreSQL writers queue on the row,
 * so the trail stays one chain however many instances write.
 */
export async function appendAuditEntries(trx: Transaction<StoreTables> | Kysely<StoreTables>, entries: readonly QueuedEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const head = await trx.updateTable('audit_head').set({ seq: sql`seq` }).where('id', '=', 1).returning(['seq', 'hash']).executeTakeFirstOrThrow();
  const { rows, seq, hash } = chainedRows({ seq: Number(head.seq), hash: head.hash }, entries);
  // Chunks keep every INSERT under both engines' limits on bound parameters.
  for (let i = 0; i < rows.length; i += 500) await trx.insertInto('audit').values(rows.slice(i, i + 500)).execute();
  await trx.updateTable('audit_head').set({ seq, hash }).where('id', '=', 1).execute();
}

/**
 * Each version's last successful decrypt (contract §4 `lastUsedAt`), written with the batch that records the
 * decrypts: one UPDATE per version per batch, not a write per decrypt. Run before the chain is appended, so every
 * writer takes version rows before the audit head (no lock-order deadlock on PostgreSQL).
 */
export async function recordLastUses(trx: Transaction<StoreTables>, entries: readonly QueuedEntry[]): Promise<void> {
  for (const { name, keyId, at } of lastUses(entries)) {
    await trx
      .updateTable('key_versions')
      .set({ last_used_at: at })
      .where('name', '=', name)
      .where('key_id', '=', keyId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}

/**
 * The stored entries in order, `pageRows` at a time (keyset on seq), up to `upToSeq` when given: a trail of any
 * length read in bounded memory (`dke audit verify`, `dke db copy`).
 */
export async function* auditRowPages(db: Transaction<StoreTables> | Kysely<StoreTables>, pageRows: number, upToSeq?: number): AsyncGenerator<AuditRow[]> {
  for (let afterSeq: number | undefined; ; ) {
    let page = db.selectFrom('audit').selectAll().orderBy('seq').limit(pageRows);
    if (upToSeq !== undefined) page = page.where('seq', '<=', upToSeq);
    if (afterSeq !== undefined) page = page.where('seq', '>', afterSeq);
    const rows = (await page.execute()).map((r) => ({ ...r, seq: Number(r.seq) })) as AuditRow[];
    if (rows.length > 0) yield rows;
    if (rows.length < pageRows) return;
    afterSeq = rows.at(-1)!.seq;
  }
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
