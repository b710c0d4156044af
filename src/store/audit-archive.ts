import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from './kysely.js';
import type { ArchiveCheck, ArchiveResult } from '../keys/ports.js';
import { verifyChain, type AuditRow } from './audit-chain.js';
import { appendAuditEntries } from './audit-entries.js';
import { GENESIS_HASH, type StoreTables } from './schema.js';
import type { StoreConnection } from './store-connection.js';

/** The first line of an archive file: what it holds and the hash its first entry links to. */
interface ArchiveHeader {
  readonly type: 'dke-audit-archive';
  readonly version: 1;
  readonly storeId: string;
  readonly anchor: { readonly seq: number; readonly hash: string };
  readonly first: number;
  readonly last: number;
  readonly createdAt: string;
}

interface ArchiveLine {
  readonly seq: number;
  readonly at: string;
  readonly entry: string;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * Audit retention (issue 17): moves the oldest entries (those before `before`, from the start of what the store
 * holds, at most `limit`) into a JSON Lines file that carries them unchanged, with their own chain and the anchor
 * hash the first of them links to. The file is written and fsynced first; then, in one transaction, the entries
 * leave the store, the store's anchor moves to the last archived entry, the archive's checkpoint (range, last hash,
 * SHA-256 of the file) is kept, and an `audit-archive` entry is appended . `dke audit verify` then proves
 * the stored chain from that anchor, and `--archive` proves each file against its checkpoint.
 * Returns undefined when nothing is old enough.
 */
export async function archiveAuditBefore(
  connection: StoreConnection,
  before: Date,
  file: string,
  options: { readonly limit?: number; readonly actor: string; readonly now?: Date },
): Promise<ArchiveResult | undefined> {
  const db = connection.db;
  const head = await db.selectFrom('audit_head').select(['anchor_seq', 'anchor_hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const anchorSeq = Number(head.anchor_seq);
  const candidates = await db.selectFrom('audit').selectAll().where('seq', '>', anchorSeq).orderBy('seq').limit(options.limit ?? 50_000).execute();
  const cutoff = before.toISOString();
  const rows: AuditRow[] = [];
  for (const row of candidates) {
    if (row.at >= cutoff) break;
    rows.push({ ...row, seq: Number(row.seq) });
  }
  if (rows.length === 0) return undefined;
  const broken = verifyChain(rows, anchorSeq, head.anchor_hash);
  if (broken !== undefined) throw new Error(`the audit trail is broken at entry ${broken.brokenAt} (${broken.problem}); it is not archived`);
  const first = rows[0]!.seq;
  const last = rows.at(-1)!;
  const header: ArchiveHeader = {
    type: 'dke-audit-archive',
    version: 1,
    storeId: await storeIdOf(db),
    anchor: { seq: anchorSeq, hash: head.anchor_hash },
    first,
    last: last.seq,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  const lines = [JSON.stringify(header), ...rows.map((r) => JSON.stringify({ seq: r.seq, at: r.at, entry: r.entry, prevHash: r.prev_hash, hash: r.hash } satisfies ArchiveLine))];
  const text = `${lines.join('\n')}\n`;
  writeDurably(file, text);
  const sha256 = createHash('sha256').update(text).digest('hex');
  await connection.transaction(async (trx) => {
    // The head row first, compare-and-set on the anchor read above: it takes the write lock (SQLite) or the row lock
    // every audit writer queues on (PostgreSQL), and a concurrent archive leaves nothing to move.
    const moved = await trx
      .updateTable('audit_head')
      .set({ anchor_seq: last.seq, anchor_hash: last.hash })
      .where('id', '=', 1)
      .where('anchor_seq', '=', anchorSeq)
      .returning('id')
      .execute();
    if (moved.length === 0) throw new Error('another archive ran meanwhile; nothing was removed');
    await trx.deleteFrom('audit').where('seq', '>=', first).where('seq', '<=', last.seq).execute();
    await trx.insertInto('audit_archives').values({ first, last: last.seq, last_hash: last.hash, sha256, file, created_at: header.createdAt }).execute();
    await appendAuditEntries(trx, [
      { at: (options.now ?? new Date()).toISOString(), event: { actor: options.actor, action: 'audit-archive', outcome: 'succeeded', details: { file, first, last: last.seq, lastHash: last.hash, sha256 } } },
    ]);
  }, { waitForLock: true });
  return { file, first, last: last.seq, count: rows.length, lastHash: last.hash, sha256 };
}

/** The identity written at the store's creation (store_meta), or '' for a store without one. */
export async function storeIdOf(db: Kysely<StoreTables>): Promise<string> {
  return (await db.selectFrom('store_meta').select('value').where('key', '=', 'store_id').executeTakeFirst())?.value ?? '';
}

/**
 * Checks archive files: each one's own chain from its anchor, its checkpoint in the store (range, last hash and the
 * file's SHA-256), and that consecutive archives link (each anchor is the previous file's last entry).
 */
export async function checkArchives(db: Kysely<StoreTables>, files: readonly string[]): Promise<ArchiveCheck[]> {
  const checkpoints = (await db.selectFrom('audit_archives').select(['first', 'last', 'last_hash', 'sha256']).execute()).map((c) => ({ ...c, first: Number(c.first), last: Number(c.last) }));
  const parsed = files.map((file) => readArchive(file));
  const byLast = new Map<number, string>();
  for (const p of parsed) if ('header' in p) byLast.set(p.header.last, p.lines.at(-1)!.hash);
  return parsed.map((p): ArchiveCheck => {
    if (!('header' in p)) return { file: p.file, ok: false, problem: p.problem };
    const { header, lines, sha256 } = p;
    const fail = (problem: string): ArchiveCheck => ({ file: p.file, ok: false, first: header.first, last: header.last, problem });
    const rows = lines.map((l) => ({ seq: l.seq, at: l.at, entry: l.entry, prev_hash: l.prevHash, hash: l.hash }));
    const broken = verifyChain(rows, header.anchor.seq, header.anchor.hash);
    if (broken !== undefined) return fail(broken.problem);
    if (rows.length === 0 || rows[0]!.seq !== header.first || rows.at(-1)!.seq !== header.last) return fail('its entries do not cover the range its header names');
    const checkpoint = checkpoints.find((c) => c.first === header.first && c.last === header.last);
    if (checkpoint === undefined) return fail('the store holds no checkpoint for this range');
    if (checkpoint.last_hash !== rows.at(-1)!.hash) return fail('its last entry is not the one the store checkpointed');
    if (checkpoint.sha256 !== sha256) return fail('the file differs from the one archived (SHA-256)');
    const previous = byLast.get(header.anchor.seq);
    if (header.anchor.seq === 0 ? header.anchor.hash !== GENESIS_HASH : previous !== undefined && previous !== header.anchor.hash) {
      return fail('it does not link to the archive before it');
    }
    return { file: p.file, ok: true, first: header.first, last: header.last };
  });
}

function readArchive(file: string): { file: string; header: ArchiveHeader; lines: ArchiveLine[]; sha256: string } | { file: string; problem: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { file, problem: `cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
  try {
    const [first, ...rest] = text.split('\n').filter((l) => l !== '');
    const header = JSON.parse(first ?? '') as ArchiveHeader;
    if (header.type !== 'dke-audit-archive') return { file, problem: 'is not a dke audit archive' };
    return { file, header, lines: rest.map((l) => JSON.parse(l) as ArchiveLine), sha256: createHash('sha256').update(text).digest('hex') };
  } catch {
    return { file, problem: 'is not valid JSON Lines' };
  }
}

/** Written under a temporary name, fsynced and renamed: the entries leave the store only once the file is durable. */
function writeDurably(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.partial`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
