/**
 * Issue 17, contract §1 (/health/ready "state store") and §3 (`dke store init`, `dke db migrate`): a store is
 * created only by an explicit command, never by `serve` or a read; a missing or emptied store refuses to start with
 * a sentence naming it; a store file removed, emptied or replaced while running fails readiness and refuses
 * decrypts; a key whose private object left the token is reported by readiness and no longer published by GET.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { makeTestToken, startTestEnv, type TestEnv } from '../support/test-env.js';
import { destroyPrivateOnly } from '../support/token-objects.js';

const USER = 'alice@contoso.dev';

describe('issue 17: the store is never created implicitly, and a replaced store is noticed', () => {
  describe('at start', () => {
    let dir: string;
    let cliEnv: NodeJS.ProcessEnv;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'dke-nostore-'));
      const token = makeTestToken(dir);
      cliEnv = { ...process.env, ...token.settings, DKE_DATA_DIR: join(dir, 'data'), DKE_AUTH_METADATA_URL: 'http://127.0.0.1:9/none', DKE_PORT: '0', DKE_HOST: '127.0.0.1' };
      // Authentication configured as any deployment has it (issue 16: without it serve refuses before it looks at the store).
      Object.assign(cliEnv, { DKE_AUTH_AUDIENCE: 'https://dke.test.example', DKE_AUTH_TENANT_IDS: '00000000-0000-4000-8000-00000000d0e0' });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('no store: serve and keys list refuse with a sentence naming the path, and create nothing', () => {
      const path = join(dir, 'data', 'dke.sqlite');
      for (const args of [['serve'], ['keys', 'list'], ['audit']]) {
        const result = runCli(args, cliEnv);
        assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.equal(
          result.stderr,
          `dke: There is no store at ${path}. Create one with "dke store init" (or "dke keys create", "dke dev", "dke db migrate"); if it should exist, check that its volume is mounted.\n`,
        );
        assert.equal(existsSync(path), false, `${args.join(' ')} created no store`);
      }
    });

    it('dke store init creates it (and says so), a second run keeps it; an emptied file is refused', () => {
      const path = join(dir, 'data', 'dke.sqlite');
      const first = runCli(['store', 'init'], cliEnv);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(first.stdout, `Created the store ${path}.\n`);
      assert.equal(runCli(['store', 'init'], cliEnv).stdout, `Kept the existing store ${path}.\n`);
      assert.equal(runCli(['keys', 'list'], cliEnv).stdout, 'No keys yet.\n');
      truncateSync(path, 0);
      for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
      const refused = runCli(['serve'], cliEnv);
      assert.equal(refused.status, 2);
      assert.equal(refused.stderr, `dke: The store ${path} is an empty file: it looks replaced or truncated. Restore it from a backup ("dke store restore FILE").\n`);
      writeFileSync(path, 'not a database, but not empty either');
      const garbage = runCli(['keys', 'list'], cliEnv);
      assert.equal(garbage.status, 2);
      assert.match(garbage.stderr, new RegExp(`^dke: The store ${path} cannot be used: file is not a database`));
    });
  });

  describe('while running', () => {
    let env: TestEnv;
    let keyId: string;
    beforeEachEnv();
    function beforeEachEnv(): void {
      before(async () => {
        env = await startTestEnv();
        keyId = (await env.admin.create('watched', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
      });
      after(() => env?.close());
    }

    it('the private key destroyed behind the service: readiness warns naming it (issue 25: that version only) and GET stops publishing it', async () => {
      const spare = (await env.admin.create('spare', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
      assert.equal((await env.http.get('/spare')).status, 200);
      // Remove only the private object, as a token admin (or a failed HSM restore) would.
      await destroyPrivateOnly(env, 'spare', spare);
      // GET learns it at the background recheck (test/app/published-key-answers.test.ts proves its bound); run it now.
      await env.service.protocol.recheckPrivateKeys();
      assert.equal((await env.http.get('/spare')).status, 404);
      const report = await env.service.readiness.check();
      assert.equal(report.ready, true);
      assert.equal(report.checks.keyRecords!.status, 'warn');
      assert.match(report.checks.keyRecords!.detail!, new RegExp(`the private key of spare/${spare} is missing from the token; run "dke keys reconcile"`));
      assert.equal((await env.http.get('/watched')).status, 200, 'other keys are still published');
      await env.service.hsm.vault.destroy({ name: 'spare', keyId: spare });
      await env.admin.delete('spare', spare, true);
      assert.equal((await env.service.readiness.check()).ready, true);
    });

    it('a token object no record knows: a warning naming it (ready); the store replaced by an empty one: fail', async () => {
      await env.service.hsm.vault.generateKeyPair({ name: 'orphan', keyId: 'orphan-1' });
      let report = await env.service.readiness.check();
      assert.equal(report.checks.keyRecords!.status, 'warn');
      assert.match(report.checks.keyRecords!.detail!, /no record knows \(orphan\/orphan-1\)/);
      assert.equal(report.ready, true);
      await env.service.hsm.vault.destroy({ name: 'orphan', keyId: 'orphan-1' });
      report = await env.service.readiness.check();
      assert.equal(report.checks.keyRecords!.status, 'pass');
    });

    it('the store file emptied while running (: > dke.sqlite): readiness fails naming it', async () => {
      const path = join(env.config.dataDir, 'dke.sqlite');
      const kept = readFileSync(path);
      truncateSync(path, 0);
      const report = await env.service.readiness.check();
      assert.equal(report.ready, false);
      assert.equal(report.checks.store!.detail, `the store file ${path} was emptied while the service runs`);
      writeFileSync(path, kept);
      assert.equal((await env.service.readiness.check()).checks.store!.status, 'pass', 'the same file back: passes again');
    });

    it('the store file removed while running: readiness fails naming it, decrypts get 503', async () => {
      const path = join(env.config.dataDir, 'dke.sqlite');
      assert.equal((await decryptAs(env, USER, 'watched', keyId, Buffer.from('before'))).status, 200);
      const kept = join(env.dir, 'kept.sqlite');
      copyFileSync(path, kept);
      unlinkSync(path);
      const report = await env.service.readiness.check();
      assert.equal(report.ready, false);
      assert.equal(report.checks.store!.detail, `the store file ${path} was removed while the service runs`);
      const res = await decryptAs(env, USER, 'watched', keyId, Buffer.from('after removal'));
      assert.equal(res.status, 503);
      assert.equal(res.body.error, 'store_unavailable');
    });
  });
});
