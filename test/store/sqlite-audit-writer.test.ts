/**
 * Issue 30: the embedded store's decrypt entries are written on a thread of their own (src/store/sqlite/
 * sqlite-audit-writer.ts), with a connection of its own, so the event loop never holds a batch's SQL, hashes or fsync,
 * and nothing the main thread's connection does (an admin reading the whole trail, say) holds decrypts back. Each
 * promise still settles only once its entry is committed; SQLite's own words reach the group commit; a store file moved
 * away or replaced by another store refuses the batch with a sentence; close() writes what waits.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import type { AuditEvent } from '../../src/keys/ports.js';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import { openStoreDatabase, storePath } from '../../src/store/sqlite/database.js';
import { SqliteAuditWriter } from '../../src/store/sqlite/sqlite-audit-writer.js';
import { openSqliteServiceStore } from '../../src/store/sqlite/sqlite-service-store.js';
import { openSqliteStore, type SqliteStoreConnection } from '../../src/store/sqlite/sqlite-store-connection.js';
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
      // Bounded: an entry that close() left behind would otherwise wait for mocha's timeout instead of failing here.
      const settled = await Promise.race([last.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000))]);
      assert.equal(settled, true, 'the entry recorded just before close() was written by it');
      const after = await entriesSeenElsewhere(dataDir);
      assert.equal(after.actors.at(-1), 'at-close (at-close@contoso.dev)');
      assert.equal(after.ok, true);
    });
  });

  describe('the writer thread', () => {
    /** A new store, the service's main connection to it and a writer thread for it; all closed after `work`. */
    async function withWriter(work: (store: { dataDir: string; watchedPath: string; main: SqliteStoreConnection; writer: SqliteAuditWriter }) => Promise<void>): Promise<void> {
      const dataDir = newStore();
      const watchedPath = storePath(dataDir);
      const main = openSqliteStore(dataDir, { role: 'service' });
      const writer = new SqliteAuditWriter({ watchedPath, path: main.path, opened: openedStore(watchedPath, main.file) });
      try {
        await work({ dataDir, watchedPath, main, writer });
      } finally {
        await writer.close();
        await main.close();
      }
    }
    const batchOf = (user: string) => [{ at: new Date().toISOString(), event: decision(user) }];

    it('keeps SQLite\'s code for the group commit (a lock held elsewhere is SQLITE_BUSY), and writes once the lock is gone', () =>
      withWriter(async ({ dataDir, main, writer }) => {
        const holder = openStoreDatabase(dataDir, { role: 'admin' });
        try {
          holder.exec('BEGIN IMMEDIATE');
          const refused = await writer.write(batchOf('locked')).then(
            () => undefined,
            (error: unknown) => error as Error & { code?: string },
          );
          assert.equal(refused?.code, 'SQLITE_BUSY');
          assert.equal(main.dialect.describeError(refused), 'database is locked (SQLITE_BUSY)');
          holder.exec('ROLLBACK');
          await writer.write(batchOf('released'));
          assert.deepEqual((await entriesSeenElsewhere(dataDir)).actors, ['released (released@contoso.dev)']);
        } finally {
          holder.close();
        }
      }));

    it('refuses a batch when another store was copied over the file (same inode, another store id), naming it', () =>
      withWriter(async ({ dataDir, watchedPath, writer }) => {
        // `cp other.sqlite dke.sqlite`: the bytes of another store written into the same file.
        writeFileSync(watchedPath, readFileSync(storePath(newStore())));
        await assert.rejects(writer.write(batchOf('elsewhere')), {
          message: `the store file ${watchedPath} was replaced by another store while the service runs`,
        });
        assert.deepEqual(actorsInFile(dataDir), [], 'nothing was written into the other store');
      }));

    it('refuses a batch while the store file is moved away, naming it, and writes a later batch once it is back', () =>
      withWriter(async ({ dataDir, watchedPath, writer }) => {
        renameSync(watchedPath, `${watchedPath}.away`);
        await assert.rejects(writer.write(batchOf('away')), /dke\.sqlite/);
        renameSync(`${watchedPath}.away`, watchedPath);
        await writer.write(batchOf('back'));
        assert.deepEqual((await entriesSeenElsewhere(dataDir)).actors, ['back (back@contoso.dev)']);
      }));
  });
});
