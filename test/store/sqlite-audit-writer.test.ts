/**
 * Issue 30: the embedded store's decrypt entries are written on a thread of their own (src/store/sqlite/
 * sqlite-audit-writer.ts), with a connection of its own, so the event loop never holds a batch's SQL, hashes or fsync,
 * and nothing the main thread's connection does (an admin reading the whole trail, say) holds decrypts back. Each
 * promise still settles only once its entry is committed; SQLite's own words reach the group commit; the thread starts
 * again after it could not open the store; close() writes what waits.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import type { AuditEvent } from '../../src/keys/ports.js';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import { openStoreDatabase, storePath } from '../../src/store/sqlite/database.js';
import { SqliteAuditWriter } from '../../src/store/sqlite/sqlite-audit-writer.js';
import { openSqliteServiceStore } from '../../src/store/sqlite/sqlite-service-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import { openedStore } from '../../src/store/sqlite/store-file-check.js';
import type { ServiceStore } from '../../src/store/store-engine.js';

const decision = (user: string): AuditEvent => ({ actor: `${user} (${user}@contoso.dev)`, action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'allowed', reason: 'decrypted' });

function newStore(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'dke-audit-writer-'));
  openStoreDatabase(dataDir, { role: 'admin', create: true }).close();
  return dataDir;
}

/** The entries' actors as a plain read-only connection sees them (no transaction of this process's store code). */
function actorsInFile(dataDir: string): string[] {
  const db = new Database(storePath(dataDir), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT entry FROM audit ORDER BY seq').all() as { entry: string }[]).map((row) => (JSON.parse(row.entry) as { actor: string }).actor);
  } finally {
    db.close();
  }
}

/** The trail as another process would read it: a connection of its own, opened for each look. */
async function entriesSeenElsewhere(dataDir: string): Promise<{ actors: string[]; ok: boolean }> {
  const connection = openSqliteStore(dataDir, { role: 'admin' });
  try {
    const trail = new StoreAuditTrail(connection);
    return { actors: (await trail.list()).map((e) => e.actor), ok: (await trail.verify()).ok };
  } finally {
    await connection.close();
  }
}

describe('issue 30: decrypt entries of the embedded store are written on a thread of their own', () => {
  describe('the service store', () => {
    let dataDir: string;
    let store: ServiceStore;
    before(async () => {
      dataDir = newStore();
      store = await openSqliteServiceStore(dataDir, { groupCommit: { intervalMs: 2, waitLimitMs: 1000 } });
      // The thread starts with the first batch (tens of ms, more on a loaded machine): started here, not in a measurement.
      await store.audit.record(decision('first'));
    });
    after(() => store?.close());

    it('an admin read of the trail on the main connection (a transaction open for 400 ms) holds no decrypt entry back', async () => {
      let durable: Promise<number> | undefined;
      let settledWithinRead: number | undefined;
      let seenWithinRead: string[] = [];
      await store.connection.transaction(async (trx) => {
        await trx.selectFrom('audit').select('seq').execute();
        const recorded = Date.now();
        durable = store.audit.record(decision('during-read')).then(() => Date.now() - recorded);
        settledWithinRead = await Promise.race([durable, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300))]);
        if (settledWithinRead !== undefined) seenWithinRead = actorsInFile(dataDir);
        await new Promise((resolve) => setTimeout(resolve, 100));
      });
      const settledAfter = await durable;
      // On the main connection the batch would queue behind the read (both are this process's transactions on one
      // file, run one at a time): no decrypt could be answered until the read ended.
      assert.notEqual(settledWithinRead, undefined, `the entry was committed while the read went on (it took ${settledAfter} ms)`);
      assert.equal(seenWithinRead.at(-1), 'during-read (during-read@contoso.dev)', 'and any other reader saw it then');
    });

    it('each promise settles once its entry is committed, in one chain, and close() writes what still waits', async () => {
      await Promise.all(['a', 'b', 'c'].map((user) => store.audit.record(decision(user))));
      const seen = await entriesSeenElsewhere(dataDir);
      assert.deepEqual(seen.actors.slice(-3).sort(), ['a (a@contoso.dev)', 'b (b@contoso.dev)', 'c (c@contoso.dev)']);
      assert.equal(seen.ok, true);
      const last = store.audit.record(decision('at-close'));
      await store.close();
      await last;
      const after = await entriesSeenElsewhere(dataDir);
      assert.equal(after.actors.at(-1), 'at-close (at-close@contoso.dev)');
      assert.equal(after.ok, true);
    });
  });

  describe('the writer thread', () => {
    it('keeps SQLite\'s code for the group commit (a lock held elsewhere is SQLITE_BUSY), and writes once the lock is gone', async () => {
      const dataDir = newStore();
      const main = openSqliteStore(dataDir, { role: 'service' });
      const writer = new SqliteAuditWriter({ watchedPath: storePath(dataDir), path: main.path, opened: openedStore(storePath(dataDir), main.file) });
      const holder = openStoreDatabase(dataDir, { role: 'admin' });
      try {
        holder.exec('BEGIN IMMEDIATE');
        const refused = await writer.write([{ at: new Date().toISOString(), event: decision('locked') }]).then(
          () => undefined,
          (error: unknown) => error as Error & { code?: string },
        );
        assert.equal(refused?.code, 'SQLITE_BUSY');
        assert.equal(main.dialect.describeError(refused), 'database is locked (SQLITE_BUSY)');
        holder.exec('ROLLBACK');
        await writer.write([{ at: new Date().toISOString(), event: decision('released') }]);
        assert.deepEqual((await entriesSeenElsewhere(dataDir)).actors, ['released (released@contoso.dev)']);
      } finally {
        holder.close();
        await writer.close();
        await main.close();
      }
    });

    it('refuses a batch while it cannot open the store (moved away), and starts again with a later batch', async () => {
      const dataDir = newStore();
      const main = openSqliteStore(dataDir, { role: 'service' });
      const watchedPath = storePath(dataDir);
      const writer = new SqliteAuditWriter({ watchedPath, path: main.path, opened: openedStore(watchedPath, main.file) });
      try {
        renameSync(watchedPath, `${watchedPath}.away`);
        await assert.rejects(writer.write([{ at: new Date().toISOString(), event: decision('away') }]), /dke\.sqlite/);
        renameSync(`${watchedPath}.away`, watchedPath);
        await writer.write([{ at: new Date().toISOString(), event: decision('back') }]);
        assert.deepEqual((await entriesSeenElsewhere(dataDir)).actors, ['back (back@contoso.dev)']);
      } finally {
        await writer.close();
        await main.close();
      }
    });
  });
});
