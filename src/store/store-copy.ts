import { AdminRefused } from '../keys/errors.js';
import { appendAuditEntries, auditRowPages } from './audit-entries.js';
import { StoreAuditTrail } from './audit-trail.js';
import type { Transaction } from './kysely.js';
import type { StoreTables } from './schema.js';
import type { StoreConnection } from './store-connection.js';

/**
 * The tables copied as they are, parents first (grants and versions name their key). Job leases belong to processes.
 * The audit trail, which grows with every decrypt, is copied a page at a time after them (see copyAuditPages).
 */
const COPIED_TABLES = ['key_names', 'key_versions', 'grants', 'approvals', 'admin_policy', 'emergency_block', 'intents', 'audit_archives'] as const satisfies readonly (keyof StoreTables)[];
/** Audit entries read from the source at a time, and rows per INSERT (under both engines' limits on bound parameters). */
const AUDIT_PAGE_ROWS = 5_000;
const INSERT_ROWS = 200;

export interface CopyResult {
  readonly keys: number;
  readonly versions: number;
  readonly grants: number;
  readonly auditEntries: number;
  /** The target's audit head after the copy (the source's head, then the copy's own entry). */
  readonly auditHead: { readonly seq: number; readonly hash: string };
}

/**
 * `dke db copy --from DATA_DIR` (contract §3): every row of an embedded store into an empty database store, in one
 * transaction: key names, versions (kids, states, public keys), grants, approvals, the kill switch, unfinished
 * intents, the audit trail with its head and anchor exactly as they were (so it still verifies), archive checkpoints
 * and the store's identity (archive files name it); then a `db-copy` entry continues the chain. A source whose trail
 * does not verify is refused, and so is a target that already holds keys or audit entries.
 */
export async function copyStore(
  source: StoreConnection,
  target: StoreConnection,
  options: { readonly actor: string; readonly from: string; /** Tests make it small. */ readonly auditPageRows?: number },
): Promise<CopyResult> {
  const verdict = await new StoreAuditTrail(source).verify();
  if (!verdict.ok) throw new AdminRefused(`The audit trail of ${source.location} does not verify (${verdict.problem}); nothing was copied.`);
  const rows: Partial<Record<(typeof COPIED_TABLES)[number], Record<string, unknown>[]>> = {};
  for (const table of COPIED_TABLES) rows[table] = (await source.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
  const head = await source.db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  let auditEntries = 0;
  const storeId = await source.db.selectFrom('store_meta').select('value').where('key', '=', 'store_id').executeTakeFirst();
  await target.transaction(async (trx) => {
    const { version } = await trx.updateTable('store_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).returning('version').executeTakeFirstOrThrow();
    const keys = Number((await trx.selectFrom('key_names').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const entries = Number((await trx.selectFrom('audit').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    if (keys > 0 || entries > 0) {
      throw new AdminRefused(
        `${capitalised(target.location)} already holds ${keys > 0 ? `${keys} key names` : `${entries} audit entries`}; "dke db copy" fills only an empty database, and nothing was copied.`,
      );
    }
    // The source's admin policy replaces the one the target was seeded with when it was migrated (contract §10).
    if ((rows.admin_policy ?? []).length > 0) await trx.deleteFrom('admin_policy').execute();
    for (const table of COPIED_TABLES) await insertRows(trx, table, rows[table] ?? []);
    auditEntries = await copyAuditPages(source, trx, Number(head.seq), options.auditPageRows ?? AUDIT_PAGE_ROWS);
    // The copied ids were given explicitly: the engine's own numbering continues after them.
    if (rows.intents !== undefined && rows.intents.length > 0) await target.dialect.continueIntentIds(trx);
    await trx.updateTable('audit_head').set({ seq: head.seq, hash: head.hash, anchor_seq: head.anchor_seq, anchor_hash: head.anchor_hash }).where('id', '=', 1).execute();
    if (storeId !== undefined) await trx.updateTable('store_meta').set({ value: storeId.value }).where('key', '=', 'store_id').execute();
    await appendAuditEntries(trx, [
      {
        at: new Date().toISOString(),
        event: {
          actor: options.actor,
          action: 'db-copy',
          outcome: 'succeeded',
          details: { from: options.from, keys: rows.key_names?.length ?? 0, versions: rows.key_versions?.length ?? 0, auditEntries, sourceHeadSeq: Number(head.seq) },
        },
      },
    ]);
    await target.dialect.announceChange(trx, version);
  });
  await target.snapshots.refresh();
  const after = await new StoreAuditTrail(target).verify();
  return {
    keys: rows.key_names?.length ?? 0,
    versions: rows.key_versions?.length ?? 0,
    grants: rows.grants?.length ?? 0,
    auditEntries,
    auditHead: after.head,
  };
}

/**
 * The source's audit entries up to the head read before (entries a running source appends meanwhile stay behind, so
 * the copy ends where its head says), a page at a time, so that a trail of any length is copied in bounded memory.
 */
async function copyAuditPages(source: StoreConnection, trx: Transaction<StoreTables>, headSeq: number, pageRows: number): Promise<number> {
  let copied = 0;
  for await (const rows of auditRowPages(source.db, pageRows, headSeq)) {
    await insertRows(trx, 'audit', rows as unknown as Record<string, unknown>[]);
    copied += rows.length;
  }
  return copied;
}

async function insertRows(trx: Transaction<StoreTables>, table: keyof StoreTables, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) await trx.insertInto(table).values(rows.slice(i, i + INSERT_ROWS) as never).execute();
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
