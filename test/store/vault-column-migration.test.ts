// Contract §9: "a store without vaults upgrades in place into the vault `default`". A store as the code before vaults
// wrote it (schema 6: key_versions without the vault column) is opened by this code on both engines: the column is
// added, every existing version is in `default`, and a new version records the vault it names.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import pg from 'pg';
import { KeyStore } from '../../src/store/key-store.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store-connection.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { storePath } from '../../src/store/sqlite/database.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { SINCE_SCHEMA_6 } from '../support/store-engines.js';

const AT = '2026-11-30T10:00:00.000Z';
const publicKey = { modulus: Buffer.alloc(256, 0x41), publicExponent: Buffer.from([1, 0, 1]) };

/** Two versions written by this code, then the store put back as schema 6 wrote it; `back` does that per engine. */
async function olderStore(open: () => Promise<StoreConnection>, back: () => Promise<void>): Promise<void> {
  const made = await open();
  await new KeyStore(made).change(async (tx) => {
    await tx.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, publicKey }, AT);
    await tx.addVersion({ name: 'finance', keyId: 'v2', state: 'pre-active', origin: 'imported', publish: false, publicKey }, AT);
  });
  await made.close();
  await back();
}

/** Opened by this code: the old versions are in `default`, a new one in the vault it names; then closed. */
async function assertUpgraded(connection: StoreConnection): Promise<void> {
  const store = new KeyStore(connection);
  try {
    assert.deepEqual(store.findKey('finance')?.versions.map((v) => [v.keyId, v.vault, v.state]), [
      ['v1', 'default', 'active'],
      ['v2', 'default', 'pre-active'],
    ]);
    assert.equal(await store.change((tx) => tx.addVersion({ name: 'finance', keyId: 'v3', state: 'active', origin: 'generated', publish: false, publicKey, vault: 'eu' }, AT)), 'added');
    assert.equal(store.findKey('finance')?.versions.find((v) => v.keyId === 'v3')?.vault, 'eu');
  } finally {
    await connection.close();
  }
}

describe('§9 a store from before vaults upgrades in place: its versions belong to the vault default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-vault-migrate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: a schema-6 store gains the column, its versions in default', async () => {
    await olderStore(
      async () => openSqliteStore(dir, { role: 'admin', create: true }),
      async () => {
        const file = new Database(storePath(dir));
        // As schema 6 left it: without 7's policy and bindings, 8's intent leases and 9's vault.
        for (const statement of SINCE_SCHEMA_6) file.exec(statement);
        file.pragma('user_version = 6');
        file.close();
      },
    );
    const opened = openSqliteStore(dir, { role: 'service' });
    assert.equal(opened.file.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    await assertUpgraded(opened);
  });

  it('SQLite: a schema-8 store runs migration 9 alone (no earlier ALTER TABLE again), its versions in default', async () => {
    const later = mkdtempSync(join(tmpdir(), 'dke-vault-migrate-8-'));
    try {
      await olderStore(
        async () => openSqliteStore(later, { role: 'admin', create: true }),
        async () => {
          const file = new Database(storePath(later));
          file.exec('ALTER TABLE key_versions DROP COLUMN vault');
          file.pragma('user_version = 8');
          file.close();
        },
      );
      const opened = openSqliteStore(later, { role: 'service' });
      assert.equal(opened.file.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      await assertUpgraded(opened);
    } finally {
      rmSync(later, { recursive: true, force: true });
    }
  });

  it('PostgreSQL: a schema-6 database gains the column, its versions in default', async () => {
    const url = await freshPostgresDatabase('vault-column');
    await olderStore(
      () => openPostgresStore(url, { stalenessMs: 1000 }),
      async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        for (const statement of SINCE_SCHEMA_6) await client.query(statement);
        await client.query("UPDATE store_meta SET value = '6' WHERE key = 'schema_version'");
        await client.end();
      },
    );
    await assertUpgraded(await openPostgresStore(url, { stalenessMs: 1000 }));
  });
});
