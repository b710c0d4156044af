/**
 * Contract §3 `dke audit verify`, issue 17: the head (last seq and hash) is kept apart from the entries, so removing
 * entries from the end is detected; `--json` prints the verdict; a corrupt store exits 4 as a broken chain does.
 */
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'mocha';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('issue 17: dke audit verify detects truncation, prints JSON, exits 4 on a corrupt store', () => {
  let env: TestEnv;
  let storeFile: string;
  before(async () => {
    env = await startTestEnv();
    storeFile = join(env.config.dataDir, 'dke.sqlite');
    await env.admin.create('verify-me', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
    for (const user of ['bob@contoso.dev', 'carol@contoso.dev', 'dave@contoso.dev']) (await env.admin.grant('verify-me', 'users', user));
  });
  after(() => env?.close());

  it('intact → exit 0 and {"ok":true,"entries","head","anchor"}', async () => {
    const result = runCli(['audit', 'verify', '--json'], env.cliEnv);
    assert.equal(result.status, 0, result.stderr);
    const verdict = JSON.parse(result.stdout) as { ok: boolean; entries: number; head: { seq: number; hash: string }; anchor: { seq: number } };
    assert.equal(verdict.ok, true);
    // The create, the grant of its allow list, the three grants; verifying is a read and writes none (issue 27).
    assert.equal(verdict.entries, 5);
    assert.equal(verdict.head.seq, 5);
    assert.match(verdict.head.hash, /^[0-9a-f]{64}$/);
    assert.equal(verdict.anchor.seq, 0);
  });

  it('the last two entries removed → exit 4 naming the truncation (the chain of what is left is still sound)', async () => {
    const db = new Database(storeFile);
    const head = (db.prepare('SELECT seq FROM audit_head').get() as { seq: number }).seq;
    db.prepare('DELETE FROM audit WHERE seq > 2').run();
    db.close();
    const json = runCli(['audit', 'verify', '--json'], env.cliEnv);
    assert.equal(json.status, 4);
    assert.deepEqual(
      (({ ok, entries, brokenAt, problem }) => ({ ok, entries, brokenAt, problem }))(JSON.parse(json.stdout) as Record<string, unknown>),
      { ok: false, entries: 2, brokenAt: 3, problem: `the trail ends at entry 2 but its head records entry ${head}: entries were removed from the end` },
    );
    const text = runCli(['audit', 'verify'], env.cliEnv);
    assert.equal(text.status, 4);
    assert.match(text.stdout, /^The audit trail is BROKEN at entry 3: /);
  });

  it('a corrupt store (garbage over its pages) → exit 4 with the reason, not a stack', async () => {
    const copyDir = join(env.dir, 'corrupt-copy');
    mkdirSync(copyDir);
    const db = new Database(storeFile);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    copyFileSync(storeFile, join(copyDir, 'dke.sqlite'));
    const fd = openSync(join(copyDir, 'dke.sqlite'), 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 0);
    closeSync(fd);
    const result = runCli(['audit', 'verify', '--json'], { ...env.cliEnv, DKE_DATA_DIR: copyDir });
    assert.equal(result.status, 4, result.stderr);
    const verdict = JSON.parse(result.stdout) as { ok: boolean; problem: string };
    assert.equal(verdict.ok, false);
    assert.match(verdict.problem, /^the store cannot be read: .*(not a database|malformed|SQLITE_NOTADB|SQLITE_CORRUPT)/);
    assert.equal(result.stderr, '');
  });
});
