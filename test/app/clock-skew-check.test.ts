/**
 * Issue 25 (src/app/clock-skew-check.ts): readiness warns when this instance's clock and PostgreSQL's now() differ by
 * more than the token skew (DKE_AUTH_CLOCK_SKEW_SECONDS), naming by how much and which way; the embedded store has no
 * clock of its own and is skipped; a database that does not answer gives no verdict (the store check names it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { clockSkewProblem } from '../../src/app/clock-skew-check.js';
import { KeyStore } from '../../src/store/key-store.js';
import { openPostgresStore, type PostgresStoreConnection } from '../../src/store/postgres/postgres-store-connection.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import { freshPostgresDatabase } from '../support/postgres.js';

describe('issue 25: readiness compares the instance clock with the database\'s', () => {
  let connection: PostgresStoreConnection;
  let store: KeyStore;
  before(async () => {
    connection = await openPostgresStore(await freshPostgresDatabase('clock-skew'), { stalenessMs: 300_000 });
    store = new KeyStore(connection);
  });
  after(() => connection?.close());

  it('PostgreSQL: in step passes; 400 s behind or ahead warns with a sentence', async () => {
    const database = () => store.databaseTime();
    assert.equal(await clockSkewProblem(database, 300), undefined);
    const behind = await clockSkewProblem(database, 300, () => new Date(Date.now() - 400_000));
    assert.match(
      behind?.warning ?? '',
      /^this instance's clock is 400 s behind the database's, more than the 300 s tokens are allowed \(DKE_AUTH_CLOCK_SKEW_SECONDS\): valid users may be refused; set the clock right \(NTP\)$/,
    );
    assert.match((await clockSkewProblem(database, 300, () => new Date(Date.now() + 400_000)))?.warning ?? '', /^this instance's clock is 400 s ahead of the database's/);
  });

  it('the embedded store has no clock to compare: no verdict; nor while the database does not answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-clock-'));
    const sqlite = openSqliteStore(dir, { role: 'admin', create: true });
    try {
      assert.equal(await new KeyStore(sqlite).databaseTime(), undefined);
      assert.equal(await clockSkewProblem(() => new KeyStore(sqlite).databaseTime(), 0, () => new Date(0)), undefined);
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await clockSkewProblem(() => Promise.reject(new Error('down')), 0, () => new Date(0)), undefined);
  });
});
