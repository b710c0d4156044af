/**
 * Contract §3 `dke db migrate` and `dke db copy --from DATA_DIR`, §2 `DKE_DATABASE_URL` (issue 13), with the real
 * `dke` command, the real token and the run's throwaway PostgreSQL: an embedded store moves into an empty database with
 * every kid and state unchanged and its audit trail complete (`dke audit verify` passes there); a target that holds
 * keys is refused; a wrong URL is a sentence naming host and database (never the password) and exit 2; with
 * PostgreSQL configured nothing is written to DKE_DATA_DIR's store.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { freshPostgresDatabase } from '../support/postgres.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

interface ListedKey {
  name: string;
  versions: { keyId: string; state: string; enabled: boolean; published: boolean }[];
}

describe('§3 dke db migrate and dke db copy (PostgreSQL)', () => {
  let env: TestEnv;
  let url: string;
  let pgEnv: NodeJS.ProcessEnv;
  let emptyDataDir: string;
  before(async function () {
    this.timeout(60_000);
    env = await startTestEnv();
    const { keyId } = await env.admin.create('finance', { allow: { users: ['alice@contoso.dev'], groups: ['6F1E0000-0000-4000-8000-0000000000E1'], roles: [] } });
    await env.admin.rotate('finance');
    await env.admin.setEnabled('finance', keyId, false);
    const legal = await env.admin.create('legal', { state: 'pre-active' });
    await env.admin.setState('legal', legal.keyId, 'compromised', true);
    url = await freshPostgresDatabase('db-copy');
    emptyDataDir = mkdtempSync(join(tmpdir(), 'dke-pg-data-'));
    pgEnv = { ...env.cliEnv, DKE_DATABASE_URL: url, DKE_DATA_DIR: emptyDataDir };
  });
  after(async () => {
    await env?.close();
    if (emptyDataDir !== undefined) rmSync(emptyDataDir, { recursive: true, force: true });
  });

  it('dke db migrate creates the schema and names the database', () => {
    const result = runCli(['db', 'migrate'], pgEnv);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^The database "db_copy_\d+_\d+" on 127\.0\.0\.1:\d+ has the current schema\.\n$/);
  });

  it('dke db copy moves every key, version, state and grant, and the audit trail verifies there', () => {
    const embedded = JSON.parse(runCli(['keys', 'list', '--json'], env.cliEnv).stdout) as ListedKey[];
    const embeddedTrail = (JSON.parse(runCli(['audit', 'verify', '--json'], env.cliEnv).stdout) as { entries: number; head: { seq: number } }).head.seq;
    const copy = runCli(['db', 'copy', '--from', env.config.dataDir, '--json'], pgEnv);
    assert.equal(copy.status, 0, copy.stderr);
    const report = JSON.parse(copy.stdout) as { keys: number; versions: number; grants: number; auditEntries: number; auditHead: { seq: number } };
    assert.deepEqual({ keys: report.keys, versions: report.versions, grants: report.grants }, { keys: 2, versions: 3, grants: 2 });
    // A verify is a read and writes no entry (issue 27): the copy holds the whole trail and its own copy entry.
    assert.equal(report.auditHead.seq, embeddedTrail + 1, 'the whole trail and the copy entry');
    const copied = JSON.parse(runCli(['keys', 'list', '--json'], pgEnv).stdout) as ListedKey[];
    const kidsAndStates = (keys: ListedKey[]): unknown => keys.map((k) => [k.name, k.versions.map((v) => [v.keyId, v.state, v.enabled, v.published])]);
    assert.deepEqual(kidsAndStates(copied), kidsAndStates(embedded));
    const verify = runCli(['audit', 'verify', '--json'], pgEnv);
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);
    const show = JSON.parse(runCli(['keys', 'show', 'finance', '--json'], pgEnv).stdout) as { allow: { users: string[]; groups: string[] } };
    assert.deepEqual(show.allow, { users: ['alice@contoso.dev'], groups: ['6f1e0000-0000-4000-8000-0000000000e1'], roles: [] });
  });

  it('a database that already holds keys is refused (exit 2, nothing copied)', async function () {
    this.timeout(60_000);
    // Its own database, filled by a first copy, so that the test holds when run alone or in any order.
    const filledEnv = { ...pgEnv, DKE_DATABASE_URL: await freshPostgresDatabase('db-copy') };
    const filled = runCli(['db', 'copy', '--from', env.config.dataDir], filledEnv);
    assert.equal(filled.status, 0, filled.stderr);
    const again = runCli(['db', 'copy', '--from', env.config.dataDir], filledEnv);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /^dke: The database "db_copy_\d+_\d+" on 127\.0\.0\.1:\d+ already holds 2 key names; "dke db copy" fills only an empty database, and nothing was copied\.\n$/);
  });

  it('with DKE_DATABASE_URL set, nothing is written to DKE_DATA_DIR', () => {
    // A command of its own first, so that the test checks something when run alone too.
    assert.equal(runCli(['keys', 'list'], pgEnv).status, 0);
    assert.equal(existsSync(join(emptyDataDir, 'dke.sqlite')), false);
  });

  it('an unreachable or wrong DKE_DATABASE_URL exits 2 with a sentence naming host and database, never the password (audit verify too)', () => {
    const unreachable = runCli(['keys', 'list'], { ...pgEnv, DKE_DATABASE_URL: 'postgres://dke:sekrit-pw@127.0.0.1:1/keys' });
    assert.equal(unreachable.status, 2);
    assert.match(unreachable.stderr, /^dke: The database "keys" on 127\.0\.0\.1:1 cannot be reached: .*ECONNREFUSED.*\. Check DKE_DATABASE_URL and that the database server runs\.\n$/);
    const port = new URL(url).port;
    const wrong = runCli(['keys', 'list'], { ...pgEnv, DKE_DATABASE_URL: `postgres://postgres:sekrit-pw@127.0.0.1:${port}/nope` });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, new RegExp(`^dke: The database "nope" on 127\\.0\\.0\\.1:${port} cannot be reached: database "nope" does not exist`));
    // Not a broken chain (exit 4): nothing could be read, so the command is refused.
    const verify = runCli(['audit', 'verify'], { ...pgEnv, DKE_DATABASE_URL: 'postgres://dke:sekrit-pw@127.0.0.1:1/keys' });
    assert.equal(verify.status, 2);
    assert.match(verify.stderr, /^dke: The database "keys" on 127\.0\.0\.1:1 cannot be reached/);
    for (const output of [unreachable, wrong, verify]) assert.doesNotMatch(output.stdout + output.stderr, /sekrit-pw/);
  });
});
