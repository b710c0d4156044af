/**
 * Issue 17 (contract §3 `dke audit verify`, extended): `dke audit archive --before TIME --to FILE.jsonl` moves old
 * entries into a file with its own chain and anchor, the store keeps a checkpoint so `dke audit verify` still proves
 * what it holds, `--archive FILE` proves the file (an edited file fails, exit 4); DKE_AUDIT_RETENTION archives into
 * DKE_DATA_DIR/audit-archive/ by itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('issue 17: audit archive and retention', () => {
  describe('dke audit archive, then verify with and without --archive', () => {
    let env: TestEnv;
    let keyId: string;
    let cutoff: string;
    let archive: string;
    let archived: CliResult;
    before(async () => {
      env = await startTestEnv();
      keyId = (await env.admin.create('archived', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
      // The create, its grant and 4 decrypts: the 6 entries before the cutoff.
      for (let i = 0; i < 4; i += 1) assert.equal((await decryptAs(env, USER, 'archived', keyId, Buffer.from(`old ${i}`))).status, 200);
      await pause(20);
      cutoff = new Date().toISOString();
      await pause(20);
      for (let i = 0; i < 3; i += 1) assert.equal((await decryptAs(env, USER, 'archived', keyId, Buffer.from(`new ${i}`))).status, 200);
      archive = join(env.dir, 'old.jsonl');
      // Archived here, not in the first test, so that every test below holds when run alone or in any order.
      archived = runCli(['audit', 'archive', '--before', cutoff, '--to', archive, '--json'], env.cliEnv);
    });
    after(() => env?.close());

    it('archives the 6 entries before the cutoff into a file that starts from the genesis anchor', async () => {
      assert.equal(archived.status, 0, archived.stderr);
      const made = JSON.parse(archived.stdout) as { first: number; last: number; count: number };
      assert.deepEqual([made.first, made.last, made.count], [1, 6, 6]);
      const lines = readFileSync(archive, 'utf8').trim().split('\n');
      assert.equal(lines.length, 7);
      assert.deepEqual(JSON.parse(lines[0]!).anchor, { seq: 0, hash: '0'.repeat(64) });
      assert.equal((await env.service.audit.list())[0]!.seq, 7, 'the archived entries left the store');
    });

    it('verify proves the store from the checkpoint; --archive proves the file too', async () => {
      const plain = runCli(['audit', 'verify', '--json'], env.cliEnv);
      assert.equal(plain.status, 0, plain.stdout);
      assert.deepEqual((JSON.parse(plain.stdout) as { anchor: { seq: number } }).anchor.seq, 6);
      const withArchive = runCli(['audit', 'verify', '--archive', archive], env.cliEnv);
      assert.equal(withArchive.status, 0, withArchive.stdout);
      assert.match(withArchive.stdout, new RegExp(`after the 6 archived ones.*\\n${archive}: intact, entries 1 to 6\\n$`, 's'));
    });

    it('an archived entry edited in the file → exit 4 naming the file and the entry', async () => {
      const original = readFileSync(archive, 'utf8');
      writeFileSync(archive, original.replace('"outcome\\":\\"allowed', '"outcome\\":\\"denied'));
      const result = runCli(['audit', 'verify', '--archive', archive, '--json'], env.cliEnv);
      assert.equal(result.status, 4);
      const verdict = JSON.parse(result.stdout) as { ok: boolean; problem: string; archives: { ok: boolean; problem: string }[] };
      assert.equal(verdict.ok, false);
      assert.match(verdict.archives[0]!.problem, /^entry \d was altered$/);
      writeFileSync(archive, original);
    });

    it('the first entry left in the store removed → verify exit 4 (it no longer links to the checkpoint)', async () => {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(env.config.dataDir, 'dke.sqlite'));
      db.prepare('DELETE FROM audit WHERE seq = 7').run();
      db.close();
      const result = runCli(['audit', 'verify', '--json'], env.cliEnv);
      assert.equal(result.status, 4);
      assert.equal((JSON.parse(result.stdout) as { problem: string }).problem, 'entry 7 is missing');
    });
  });

  describe('DKE_AUDIT_RETENTION', () => {
    let env: TestEnv;
    before(async () => {
      env = await startTestEnv({ settings: { DKE_AUDIT_RETENTION: '1s' } });
    });
    after(() => env?.close());

    it('entries older than the retention go to DKE_DATA_DIR/audit-archive/, and the archives verify against the store', async () => {
      const { keyId } = await env.admin.create('retained', { allow: { users: [USER], groups: [], roles: [] } });
      assert.equal((await decryptAs(env, USER, 'retained', keyId, Buffer.from('aging'))).status, 200);
      await pause(1_100);
      const made = (await env.service.archiveExpiredAudit());
      // The create, its grant and the decrypt.
      assert.deepEqual(made.map((m) => [m.first, m.last]), [[1, 3]]);
      const dir = join(env.config.dataDir, 'audit-archive');
      const files = readdirSync(dir).map((f) => join(dir, f));
      assert.equal(files.length, 1);
      const verify = runCli(['audit', 'verify', '--archive', ...files, '--json'], env.cliEnv);
      assert.equal(verify.status, 0, verify.stdout);
      // Verifying is a read: it writes no entry (issue 27).
      assert.deepEqual((await env.service.audit.list()).map((e) => e.action), ['audit-archive']);
    });
  });
});
