/**
 * Contract §3 `dke audit` and `dke audit verify` (src/store/sqlite-audit-trail.ts, issue 4): an append-only trail
 * whose entries are hash-chained, so an edited, removed or reordered entry is reported at its place; the service's
 * group-committed decrypt entries keep the time each decision was made and settle only once written (issue 17).
 * Real SQLite in a temporary data dir.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { openStoreDatabase, type StoreDatabase } from '../../src/store/database.js';
import { SqliteAuditTrail } from '../../src/store/sqlite-audit-trail.js';

describe('§3 the audit trail (store/sqlite-audit-trail)', () => {
  let dir: string;
  let db: StoreDatabase;
  let trail: SqliteAuditTrail;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-audit-'));
    db = openStoreDatabase(dir, { role: 'admin', create: true });
    trail = new SqliteAuditTrail(db);
    for (const action of ['create', 'grant', 'set-state', 'disable', 'enable']) {
      trail.append({ actor: 'admin@contoso.dev', action, keyName: 'finance', keyId: 'v1', outcome: 'succeeded' });
    }
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verdict = (): Record<string, unknown> => {
    const { ok, entries, brokenAt, problem } = trail.verify();
    return { ok, entries, ...(brokenAt !== undefined ? { brokenAt, problem } : {}) };
  };

  it('an intact chain verifies; editing an entry breaks it there, and restoring the entry mends it', () => {
    assert.deepEqual(verdict(), { ok: true, entries: 5 });
    const original = (db.prepare('SELECT entry FROM audit WHERE seq = 3').get() as { entry: string }).entry;
    db.prepare('UPDATE audit SET entry = ? WHERE seq = 3').run(original.replace('"actor":"admin@contoso.dev"', '"actor":"mallory"'));
    assert.deepEqual(verdict(), { ok: false, entries: 5, brokenAt: 3, problem: 'entry 3 was altered' });
    db.prepare('UPDATE audit SET entry = ? WHERE seq = 3').run(original);
    assert.equal(trail.verify().ok, true);
  });

  it('a removed entry is reported at its place', () => {
    const row = db.prepare('SELECT * FROM audit WHERE seq = 4').get() as Record<string, unknown>;
    db.prepare('DELETE FROM audit WHERE seq = 4').run();
    assert.deepEqual(verdict(), { ok: false, entries: 4, brokenAt: 4, problem: 'entry 4 is missing' });
    db.prepare('INSERT INTO audit (seq, at, entry, prev_hash, hash) VALUES (?, ?, ?, ?, ?)').run(row.seq, row.at, row.entry, row.prev_hash, row.hash);
    assert.equal(trail.verify().ok, true);
  });

  it('group commit (issue 17): decrypt entries are written together, each promise settles only once its entry is in the table', async () => {
    let now = new Date('2026-11-30T10:00:00.000Z');
    const batched = new SqliteAuditTrail(db, { groupCommit: { intervalMs: 20, waitLimitMs: 1000 }, now: () => now });
    const settled: string[] = [];
    const first = batched.record({ actor: 'oid-1 (alice)', action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'allowed', reason: 'decrypted' });
    void first.then(() => settled.push(`alice after ${trail.list().length} entries`));
    now = new Date('2026-11-30T10:00:01.000Z');
    const second = batched.record({ actor: 'oid-2 (bob)', action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'denied', reason: 'access_denied' });
    assert.equal(trail.list().length, 5, 'nothing written before the batch window ends');
    await Promise.all([first, second]);
    assert.deepEqual(settled, ['alice after 7 entries'], 'the answer is released after the commit of its batch');
    const written = trail.list().slice(5);
    assert.deepEqual(written.map((e) => [e.at, e.outcome]), [['2026-11-30T10:00:00.000Z', 'allowed'], ['2026-11-30T10:00:01.000Z', 'denied']]);
    assert.deepEqual(verdict(), { ok: true, entries: 7 });
  });
});
