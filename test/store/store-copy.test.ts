/**
 * Contract §3 `dke db copy` (src/store/store-copy.ts, issues 13 and 30), store to store: the audit trail is copied a
 * page at a time (memory bounded however long it is), every entry once and in order, so that it verifies in the
 * database with its head and the copy's own entry; an entry a source still in use appends after the head was read
 * stays behind, and the copy still verifies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import type { KyselyPlugin } from '../../src/store/kysely.js';
import { copyStore } from '../../src/store/store-copy.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store-connection.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { freshPostgresDatabase } from '../support/postgres.js';

describe('§3 dke db copy: the audit trail a page at a time (store/store-copy)', () => {
  let dir: string;
  let source: StoreConnection;
  const opened: StoreConnection[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-store-copy-'));
    source = await openSqliteStore(dir, { role: 'admin', create: true });
    const trail = new StoreAuditTrail(source);
    for (let i = 0; i < 12; i++) await trail.append({ actor: 'admin@contoso.dev', action: 'grant', keyName: 'finance', outcome: 'succeeded', details: { i } });
  });
  after(async () => {
    for (const connection of opened) await connection.close();
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const emptyDatabase = async (label: string): Promise<StoreConnection> => {
    const connection = await openPostgresStore(await freshPostgresDatabase(label), { stalenessMs: 300_000 });
    opened.push(connection);
    return connection;
  };
  const entries = async (connection: StoreConnection): Promise<{ seq: number; hash: string }[]> =>
    (await connection.db.selectFrom('audit').select(['seq', 'hash']).orderBy('seq').execute()).map((r) => ({ seq: Number(r.seq), hash: r.hash }));

  it('12 entries in pages of 5 (and a last page that is full) arrive once each, in order, and verify with the copy entry', async () => {
    for (const auditPageRows of [5, 4]) {
      const target = await emptyDatabase(`copy-pages-${auditPageRows}`);
      const result = await copyStore(source, target, { actor: 'admin@contoso.dev', from: dir, auditPageRows });
      assert.equal(result.auditEntries, 12);
      const copied = await entries(target);
      assert.deepEqual(copied.slice(0, 12), await entries(source));
      assert.deepEqual(await new StoreAuditTrail(target).verify().then((v) => ({ ok: v.ok, entries: v.entries, head: v.head.seq })), { ok: true, entries: 13, head: 13 });
    }
  });

  it('an entry the source appends once the copy has begun stays behind: the copy ends at the head it read, and verifies', async () => {
    const target = await emptyDatabase('copy-meanwhile');
    const writerConnection = await openSqliteStore(dir, { role: 'admin', create: false });
    opened.push(writerConnection);
    const writer = new StoreAuditTrail(writerConnection);
    const before = (await entries(source)).length;
    // A service still using the source appends right after the copy read its first page of entries.
    let appended = false;
    const appendAfterFirstPage: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        if (!appended && args.result.rows[0] !== undefined && 'prev_hash' in args.result.rows[0]) {
          appended = true;
          await writer.append({ actor: 'admin@contoso.dev', action: 'grant', keyName: 'finance', outcome: 'succeeded', details: { meanwhile: true } });
        }
        return args.result;
      },
    };
    const result = await copyStore({ ...source, db: source.db.withPlugin(appendAfterFirstPage) }, target, { actor: 'admin@contoso.dev', from: dir, auditPageRows: 5 });
    assert.equal(appended, true);
    assert.equal((await entries(source)).length, before + 1);
    assert.equal(result.auditEntries, before);
    const verdict = await new StoreAuditTrail(target).verify();
    assert.deepEqual({ ok: verdict.ok, entries: verdict.entries }, { ok: true, entries: before + 1 });
  });
});
