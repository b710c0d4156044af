/**
 * Contract §3 `dke audit` and `dke audit verify`, §5 (src/store/audit-trail.ts, issues 4, 13, 17), on both engines: an
 * append-only trail whose entries are hash-chained, so an edited, removed or truncated entry is reported at its place;
 * several writers at once (instances, CLIs) still make one chain; verify reads one snapshot, page by page, so that
 * entries written meanwhile are no alarm; the service's group-committed decrypt entries keep the time each decision
 * was made and settle only once written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { storeEngines } from '../support/store-engines.js';

for (const engine of storeEngines('audit-trail')) {
  describe(`§3, §5 the audit trail (store/audit-trail) on ${engine.engine}`, () => {
    let connection: StoreConnection;
    let other: StoreConnection;
    let trail: StoreAuditTrail;
    before(async () => {
      connection = await engine.open('admin');
      other = await engine.open('admin');
      // Two entries a page: every verdict below reads the trail over several pages.
      trail = new StoreAuditTrail(connection, { verifyPageRows: 2 });
      for (const action of ['create', 'grant', 'set-state', 'disable', 'enable']) {
        await trail.append({ actor: 'admin@contoso.dev', action, keyName: 'finance', keyId: 'v1', outcome: 'succeeded' });
      }
    });
    after(async () => {
      await other.close();
      await connection.close();
      engine.dispose();
    });

    const verdict = async (): Promise<Record<string, unknown>> => {
      const { ok, entries, brokenAt, problem } = await trail.verify();
      return { ok, entries, ...(brokenAt !== undefined ? { brokenAt, problem } : {}) };
    };

    it('an intact chain verifies; editing an entry breaks it there, and restoring the entry mends it', async () => {
      assert.deepEqual(await verdict(), { ok: true, entries: 5 });
      const { entry } = await connection.db.selectFrom('audit').select('entry').where('seq', '=', 3).executeTakeFirstOrThrow();
      await connection.db.updateTable('audit').set({ entry: entry.replace('"actor":"admin@contoso.dev"', '"actor":"mallory"') }).where('seq', '=', 3).execute();
      assert.deepEqual(await verdict(), { ok: false, entries: 5, brokenAt: 3, problem: 'entry 3 was altered' });
      await connection.db.updateTable('audit').set({ entry }).where('seq', '=', 3).execute();
      assert.equal((await trail.verify()).ok, true);
    });

    it('a removed entry is reported at its place, and removing the last entries (truncation) too', async () => {
      const rows = await connection.db.selectFrom('audit').selectAll().where('seq', '>=', 4).orderBy('seq').execute();
      await connection.db.deleteFrom('audit').where('seq', '=', 4).execute();
      assert.deepEqual(await verdict(), { ok: false, entries: 4, brokenAt: 4, problem: 'entry 4 is missing' });
      await connection.db.deleteFrom('audit').where('seq', '>=', 4).execute();
      assert.deepEqual(await verdict(), {
        ok: false,
        entries: 3,
        brokenAt: 4,
        problem: 'the trail ends at entry 3 but its head records entry 5: entries were removed from the end',
      });
      await connection.db.insertInto('audit').values(rows).execute();
      assert.equal((await trail.verify()).ok, true);
    });

    it('two writers appending at once (two instances, a CLI) still make one chain that verifies', async () => {
      const second = new StoreAuditTrail(other);
      const before = (await trail.list()).length;
      const writes = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? trail : second).append({ actor: `writer-${i % 2}`, action: 'grant', keyName: 'finance', outcome: 'succeeded', details: { i } }),
      );
      await Promise.all(writes);
      const entries = await trail.list();
      assert.equal(entries.length, before + 20);
      assert.deepEqual(
        entries.map((e) => e.seq),
        Array.from({ length: before + 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(await verdict(), { ok: true, entries: before + 20 });
    });

    it('verify reads one snapshot: entries another connection commits meanwhile are neither an alarm nor counted', async () => {
      // As a decrypt on another instance would, while `dke audit verify` reads the trail page by page.
      const second = new StoreAuditTrail(other);
      const before = (await trail.list()).length;
      const [during] = await Promise.all([verdict(), second.append({ actor: 'writer-meanwhile', action: 'grant', keyName: 'finance', outcome: 'succeeded' })]);
      // The snapshot is taken at the first read, which the append's commit may precede (then it is counted, whole).
      assert.ok([before, before + 1].includes(during.entries as number), `entries ${String(during.entries)}`);
      assert.deepEqual(during, { ok: true, entries: during.entries });
      assert.deepEqual(await verdict(), { ok: true, entries: before + 1 });
    });

    it('verify lets the event loop run between its pages (SQLite reads would otherwise hold it for the whole trail)', async () => {
      // Ten pages of two at least, whichever tests ran before this one.
      for (let i = (await trail.list()).length; i < 20; i += 1) {
        await trail.append({ actor: 'admin@contoso.dev', action: 'grant', keyName: 'finance', outcome: 'succeeded', details: { i } });
      }
      const entries = (await trail.list()).length;
      // Counted only while verify runs, without a cap: a PostgreSQL read waits on the network, and a capped
      // counter started earlier could spend all its turns before verify begins.
      let turns = 0;
      let counting = true;
      const count = (): void => {
        if (!counting) return;
        turns += 1;
        setImmediate(count);
      };
      setImmediate(count);
      const { ok } = await trail.verify();
      counting = false;
      assert.equal(ok, true);
      // At least one turn of the loop per page after the first.
      assert.ok(turns >= Math.floor(entries / 2) - 1, `${turns} turns for ${entries} entries`);
    });

    it('group commit (issue 17): decrypt entries are written together, each promise settles only once its entry is in the table', async () => {
      // Counted from what is there now, so that the test holds when run alone (mocha --grep) or in any order.
      const before = (await trail.list()).length;
      let now = new Date('2026-11-30T10:00:00.000Z');
      const batched = new StoreAuditTrail(connection, { groupCommit: { intervalMs: 20, waitLimitMs: 1000 }, now: () => now });
      try {
        const settled: Promise<number>[] = [];
        const first = batched.record({ actor: 'oid-1 (alice)', action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'allowed', reason: 'decrypted' });
        settled.push(first.then(async () => (await trail.list()).length - before));
        now = new Date('2026-11-30T10:00:01.000Z');
        const second = batched.record({ actor: 'oid-2 (bob)', action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'denied', reason: 'access_denied' });
        assert.equal((await trail.list()).length, before, 'nothing written before the batch window ends');
        await Promise.all([first, second]);
        assert.deepEqual(await Promise.all(settled), [2], 'the answer is released after the commit of its batch, both entries in it');
        const written = (await trail.list()).slice(before);
        assert.deepEqual(
          written.map((e) => [e.at, e.outcome]),
          [
            ['2026-11-30T10:00:00.000Z', 'allowed'],
            ['2026-11-30T10:00:01.000Z', 'denied'],
          ],
        );
        assert.deepEqual(await verdict(), { ok: true, entries: before + 2 });
      } finally {
        // A failed assertion must not leave the batch retrying against a connection the after hook closes.
        await batched.drain();
      }
    });
  });
}
