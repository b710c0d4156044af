/**
 * Contract §2 `DKE_DATABASE_URL`, `DKE_STATE_STALENESS_SECONDS`, §3 `dke db migrate`, §5 (src/store/postgres-*.ts,
 * issue 13) on the run's real, throwaway PostgreSQL: instances starting together migrate one at a time (advisory
 * lock); a schema newer than the code and an unreachable or wrong URL are refused with a sentence naming host and
 * database, never the password; a change reaches another instance within a second even when its notification is
 * lost; a schema-6 database upgrades in place (issue 26); while the database is down lookups answer from the last
 * state for the staleness limit, then 503, and every change is refused at once with a sentence naming the database.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import pg from 'pg';
import { DatabaseUnavailable, StoreRefused, StoreUnavailable } from '../../src/keys/errors.js';
import { KeyStore } from '../../src/store/key-store.js';
import { openPostgresStore, type PostgresStoreConnection } from '../../src/store/postgres/postgres-store-connection.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { freshPostgresDatabase, resumePostgres, suspendPostgres } from '../support/postgres.js';
import { SINCE_SCHEMA_6, within } from '../support/store-engines.js';

const AT = '2026-11-30T10:00:00.000Z';
const publicKey = { modulus: Buffer.alloc(256, 0x5c), publicExponent: Buffer.from([1, 0, 1]) };

describe('§2, §3, §5 the PostgreSQL store (store/postgres-store-connection)', () => {
  const opened: PostgresStoreConnection[] = [];
  const open = async (url: string, stalenessMs = 300_000): Promise<PostgresStoreConnection> => {
    const connection = await openPostgresStore(url, { stalenessMs });
    opened.push(connection);
    return connection;
  };
  after(async () => {
    for (const connection of opened) await connection.close();
  });

  it('instances starting together on an empty database migrate one at a time: one schema, one store identity', async () => {
    const url = await freshPostgresDatabase('migrate-race');
    await Promise.all([open(url), open(url), open(url), open(url)]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const meta = await client.query<{ key: string; value: string }>('SELECT key, value FROM store_meta ORDER BY key');
      assert.deepEqual(
        meta.rows.map((r) => r.key),
        ['created_at', 'schema_version', 'store_id'],
      );
      assert.equal(meta.rows.find((r) => r.key === 'schema_version')?.value, String(SCHEMA_VERSION));
      assert.equal((await client.query('SELECT count(*)::int AS n FROM audit_head')).rows[0].n, 1);
    } finally {
      await client.end();
    }
  });

  it('a schema-6 database upgrades in place to the admin policy and bound proposals (issue 26), keeping its keys', async () => {
    const url = await freshPostgresDatabase('from-six');
    const made = await openPostgresStore(url, { stalenessMs: 1000 });
    await new KeyStore(made).change((tx) => tx.addVersion({ name: 'kept', keyId: 'v1', state: 'active', origin: 'generated', publish: true, publicKey }, AT));
    await made.close();
    // As dke-service wrote it at schema 6.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const statement of SINCE_SCHEMA_6) await client.query(statement);
    await client.query("UPDATE store_meta SET value = '6' WHERE key = 'schema_version'");
    await client.end();
    const store = new KeyStore(await open(url));
    assert.equal(store.findKey('kept')?.versions[0]?.state, 'active');
    assert.equal(store.policy(), undefined, 'no policy until a configuration seeds it');
    // The new column is there, and every write of the row counts.
    assert.deepEqual(await store.change((tx) => tx.versionMarker('kept', 'v1')), { state: 'active', rowVersion: 0 });
    await store.change((tx) => tx.setEnabled('kept', 'v1', false, AT));
    assert.deepEqual(await store.change((tx) => tx.versionMarker('kept', 'v1')), { state: 'active', rowVersion: 1 });
  });

  it('a schema newer than the code is refused with a sentence, never guessed at', async () => {
    const url = await freshPostgresDatabase('too-new');
    await (await openPostgresStore(url, { stalenessMs: 1000 })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'");
    await client.end();
    const database = new URL(url).pathname.slice(1);
    await assert.rejects(openPostgresStore(url, { stalenessMs: 1000 }), (error: Error) => {
      assert.ok(error instanceof StoreRefused);
      assert.match(error.message, new RegExp(`^The database "${database}" on 127\\.0\\.0\\.1:\\d+ has schema version 99, newer than this dke-service understands \\(${SCHEMA_VERSION}\\)`));
      return true;
    });
  });

  it('an unreachable server and a database that does not exist are named (host, port, database), never the password', async () => {
    const base = new URL(await freshPostgresDatabase('wrong-url'));
    const unreachable = `postgres://dke:sekrit-pw@127.0.0.1:1/dke`;
    await assert.rejects(openPostgresStore(unreachable, { stalenessMs: 1000 }), (error: Error) => {
      assert.ok(error instanceof StoreRefused);
      assert.match(error.message, /^The database "dke" on 127\.0\.0\.1:1 cannot be reached: .*ECONNREFUSED.*Check DKE_DATABASE_URL/);
      assert.doesNotMatch(error.message, /sekrit-pw/);
      return true;
    });
    const missing = `postgres://postgres:sekrit-pw@127.0.0.1:${base.port}/no_such_db`;
    await assert.rejects(openPostgresStore(missing, { stalenessMs: 1000 }), (error: Error) => {
      assert.match(error.message, new RegExp(`^The database "no_such_db" on 127\\.0\\.0\\.1:${base.port} cannot be reached: database "no_such_db" does not exist`));
      assert.doesNotMatch(error.message, /sekrit-pw/);
      return true;
    });
  });

  it('a change reaches another instance within a second, by notification, and by the poll when the notification is lost', async () => {
    const url = await freshPostgresDatabase('propagation');
    const writer = new KeyStore(await open(url));
    const readerConnection = await open(url);
    const reader = new KeyStore(readerConnection);
    await writer.change((tx) => tx.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, publicKey }, AT));
    let started = Date.now();
    await within(1000, () => assert.equal(reader.findKey('finance')?.versions[0]?.enabled, true));
    const byNotification = Date.now() - started;
    // The listening connections are cut (as a network blip or a failover would): notifications sent now are lost.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const cut = await admin.query("SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()");
      assert.equal(cut.rowCount, 2, "both instances' listening connections were found");
    } finally {
      await admin.end();
    }
    started = Date.now();
    await writer.change((tx) => tx.setEnabled('finance', 'v1', false, AT));
    await within(1000, () => assert.equal(reader.findKey('finance')?.versions[0]?.enabled, false));
    const afterCut = Date.now() - started;
    // A change whose notification never comes (committed by a writer that does not notify): only the poll carries it.
    const silent = new pg.Client({ connectionString: url });
    await silent.connect();
    try {
      await silent.query('BEGIN');
      await silent.query('UPDATE store_version SET version = version + 1');
      await silent.query("UPDATE key_versions SET enabled = 1 WHERE name = 'finance'");
      await silent.query('COMMIT');
    } finally {
      await silent.end();
    }
    started = Date.now();
    await within(1000, () => assert.equal(reader.findKey('finance')?.versions[0]?.enabled, true));
    assert.ok(byNotification < 1000 && afterCut < 1000 && Date.now() - started < 1000);
  });

  it('while the database is down: lookups answer from the last state until the staleness limit, then 503; changes are refused at once, naming the database', async function () {
    this.timeout(60_000);
    const url = await freshPostgresDatabase('outage');
    const connection = await open(url, 2000);
    const store = new KeyStore(connection);
    await store.change((tx) => tx.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, publicKey }, AT));
    const before = store.findKey('finance');
    await suspendPostgres();
    try {
      await within(3000, () => assert.notEqual(connection.snapshots.health().problem, undefined));
      assert.equal(store.findKey('finance'), before, 'the last state, the same objects');
      const refusedAt = Date.now();
      await assert.rejects(
        store.change((tx) => tx.setEnabled('finance', 'v1', false, AT)),
        (error: Error) => {
          assert.ok(error instanceof DatabaseUnavailable);
          assert.match(error.message, /^The database "outage_\d+_\d+" on 127\.0\.0\.1:\d+ cannot be reached \(.*\); nothing was changed\. Try again when it is back\.$/);
          return true;
        },
      );
      assert.ok(Date.now() - refusedAt < 1000, 'refused at once');
      await within(4000, () =>
        assert.throws(
          () => store.findKey('finance'),
          (error: Error) => error instanceof StoreUnavailable && error.retryAfterSeconds > 0,
        ),
      );
    } finally {
      await resumePostgres();
    }
    await within(5000, () => assert.equal(store.findKey('finance')?.versions[0]?.enabled, true));
    assert.equal(await store.change((tx) => tx.setEnabled('finance', 'v1', false, AT)), true);
  });
});
