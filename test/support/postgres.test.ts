/**
 * Issue 13 (contract §5; the test harness it needs): `npm test` runs a real throwaway PostgreSQL from Debian's
 * `postgresql` package, and each suite gets its own empty database on it, so store suites never see each other's rows.
 * The server can be stopped and started again with its data (the outage tests), and it is stopped after the run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freshPostgresDatabase, resumePostgres, suspendPostgres } from './postgres.js';

const run = promisify(execFile);

async function sql(url: string, statement: string): Promise<string> {
  const { stdout } = await run('psql', [url, '-Atqc', statement], { timeout: 30_000 });
  return stdout.trim();
}

describe('throwaway PostgreSQL for tests', () => {
  let first: string;
  let second: string;

  before(async () => {
    first = await freshPostgresDatabase('harness a');
    second = await freshPostgresDatabase('harness b');
  });

  it('is a real PostgreSQL server on loopback with trust auth', async () => {
    assert.match(first, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/harness_a_\d+_\d+$/);
    assert.match(await sql(first, 'SHOW server_version'), /^\d+\.\d+/);
    assert.equal(await sql(first, 'SELECT current_database()'), new URL(first).pathname.slice(1));
  });

  it('gives each suite its own empty database on one server', async () => {
    assert.notEqual(first, second);
    assert.equal(new URL(first).port, new URL(second).port);
    await sql(first, 'CREATE TABLE only_in_first (id int); INSERT INTO only_in_first VALUES (1)');
    assert.equal(await sql(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'"), '0');
    assert.equal(await sql(first, 'SELECT count(*) FROM only_in_first'), '1');
  });

  it('can be stopped and started again with its data, as a database outage', async () => {
    await sql(first, 'CREATE TABLE survives (id int); INSERT INTO survives VALUES (7)');
    await suspendPostgres();
    await assert.rejects(sql(first, 'SELECT 1'), /Connection refused|could not connect/);
    await resumePostgres();
    assert.equal(await sql(first, 'SELECT id FROM survives'), '7');
  });
});
