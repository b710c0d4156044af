/**
 * Issue 25, contract §5 "the HSM anchors what must never be undone", on the embedded store: a store restored from a
 * backup taken before a compromise never brings the version back (the token's record re-applies it, audited as
 * `restore-conflict`), `dke audit verify` fails on a trail behind the head anchored on the token, and a token that
 * keeps no records still serves, with a readiness warning naming what is not anchored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { anchoredHeadProblem } from '../../src/app/anchored-audit-head.js';
import { backupToFile, restoreFromFile } from '../../src/main/store-admin.js';
import { storePath } from '../../src/store/sqlite/database.js';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { FaultPlan } from '../support/fault-injection.js';
import { runCli } from '../support/run-cli.js';
import { until } from '../support/until.js';
import { makeTestToken, startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

describe('issue 25: a store restored from before a compromise (embedded store, real NSS token)', () => {
  let dir: string;
  let env: TestEnv | undefined;
  let keyId: string;
  let jwk: { n: string; e: number };

  before(async function () {
    this.timeout(20_000);
    dir = mkdtempSync(join(tmpdir(), 'dke-anchor-restore-'));
    makeTestToken(dir);
    env = await startTestEnv({ dir });
    keyId = (await env.admin.create('restored-key', { allow })).keyId;
    jwk = await versionJwk(env, 'restored-key', keyId);
    assert.equal((await decryptAs(env, USER, 'restored-key', keyId, Buffer.from('before'), jwk)).status, 200);
    const backup = join(dir, 'before-compromise.db');
    await backupToFile(backup, env.config);
    await env.admin.setState('restored-key', keyId, 'compromised', true);
    const config = env.config;
    // Stopped: the head at shutdown is anchored on the token. Then the disk is lost and the backup restored.
    await env.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath(config.dataDir)}${suffix}`, { force: true });
    await restoreFromFile(backup, false, config);
    env = await startTestEnv({ dir });
  });
  after(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the version stays Compromised: not published, never decrypts, the store corrected at start', async () => {
    assert.equal((await env!.admin.show('restored-key')).versions[0]!.state, 'compromised');
    await env!.http.get('/restored-key').expect(404);
    const res = await decryptAs(env!, USER, 'restored-key', keyId, Buffer.from('after'), jwk);
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, { error: 'key_not_usable', message: 'This key cannot be used to decrypt.' });
  });

  it('the conflict is in the trail, without a person: restore-conflict by token-anchor, from Active to Compromised', async () => {
    const conflicts = (await env!.service.audit.list()).filter((e) => e.action === 'restore-conflict');
    assert.deepEqual(
      conflicts.map((e) => [e.actor, e.keyName, e.keyId, e.outcome, e.details?.from, e.details?.to]),
      [['token-anchor', 'restored-key', keyId, 'succeeded', 'active', 'compromised']],
    );
  });

  it('a store set back under a running instance: refused at once, readiness stays ready, corrected and audited within seconds', async () => {
    const conflicts = async () => (await env!.service.audit.list()).filter((e) => e.action === 'restore-conflict').length;
    const earlier = await conflicts();
    await env!.service.store.change((tx) => tx.setState('restored-key', keyId, 'compromised', 'active', new Date().toISOString()));
    await env!.http.get('/restored-key').expect(404);
    assert.equal((await decryptAs(env!, USER, 'restored-key', keyId, Buffer.from('set back'), jwk)).status, 403);
    const report = await env!.service.readiness.check();
    assert.equal(report.ready, true, JSON.stringify(report.checks));
    await until(() => env!.service.store.findKey('restored-key')?.versions[0]?.state === 'compromised', 'the store corrected', 4_000);
    assert.equal(await conflicts(), earlier + 1);
  });

  it('readiness stays ready and warns that the trail is behind the head anchored on the token', async () => {
    const report = await env!.service.readiness.check();
    assert.equal(report.ready, true, JSON.stringify(report.checks));
    assert.equal(report.checks.tokenRecords?.status, 'warn');
    assert.match(report.checks.tokenRecords!.detail!, /^the audit trail is behind the head anchored on the token \(entry \d+ is not the entry the token anchored at [^:]+:\d\d:[\d.]+Z: the trail was rolled back or restored from an earlier copy and written on since\); run "dke audit verify"$/);
  });

  it('GET /admin/api/audit/verify answers ok:false with the sentence', async () => {
    const token = await env!.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const res = await supertest(env!.service.adminApp).get('/admin/api/audit/verify').set('Authorization', `Bearer ${token}`).expect(200);
    assert.equal(res.body.ok, false);
    // The restore and the correction wrote entries since, past the anchored one: that entry differs.
    const [, anchored] = /^entry (\d+) is not the entry the token anchored at \S+Z: the trail was rolled back or restored from an earlier copy and written on since$/.exec(res.body.problem) ?? [];
    assert.ok(anchored !== undefined, res.body.problem);
    assert.equal(res.body.brokenAt, Number(anchored));
  });

  it('dke audit verify exits 4 with the sentence', () => {
    const result = runCli(['audit', 'verify'], env!.cliEnv);
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stdout, /^The audit trail is BROKEN at entry (\d+): entry \1 is not the entry the token anchored at \S+Z: the trail was rolled back or restored from an earlier copy and written on since\.\n$/);
  });
});

describe('issue 25: the token keeps what a restored store lost (embedded store, real NSS token)', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  it('Destroyed: the key objects go, the record stays', async () => {
    const keyId = (await env.admin.create('gone-key', { allow })).keyId;
    await env.admin.delete('gone-key', keyId, true);
    const vault = env.service.hsm.vault;
    assert.deepEqual((await vault.listKeyObjects()).filter((o) => o.ref.name === 'gone-key'), []);
    assert.deepEqual(
      (await vault.anchoredStates()).filter((s) => s.ref.name === 'gone-key').map((s) => [s.ref.keyId, s.state]),
      [[keyId, 'destroyed']],
    );
  });

  it('a compromise whose command died after its intent is finished by the reconcile, its record written on the token', async () => {
    const keyId = (await env.admin.create('died-key', { allow })).keyId;
    // The intent of a command whose process is gone (no pid is that high) and whose lease has passed, written before
    // its token step.
    const owner = `${hostname()}:2147483646`;
    await env.service.store.change((tx) =>
      tx.beginIntent({ action: 'set-state', name: 'died-key', keyId, actor: 'os:gone', owner, createdAt: new Date().toISOString(), leaseUntil: new Date(0).toISOString(), details: { from: 'active', to: 'compromised' } }),
    );
    await env.admin.reconcile(false);
    assert.equal(env.service.store.findKey('died-key')?.versions[0]?.state, 'compromised');
    const anchored = (await env.service.hsm.vault.anchoredStates()).filter((s) => s.ref.name === 'died-key');
    assert.deepEqual(anchored.map((s) => [s.ref.keyId, s.state]), [[keyId, 'compromised']]);
  });

  it('an emergency block the store lost (restored from before it) still refuses, is shown, and lifts', async () => {
    const keyId = (await env.admin.create('blocked-key', { allow })).keyId;
    await env.admin.setEmergencyBlock(true);
    await env.service.store.change((tx) => tx.setEmergencyBlock(undefined));
    assert.equal(env.service.store.emergencyBlock(), undefined);
    assert.equal((await decryptAs(env, USER, 'blocked-key', keyId, Buffer.from('x'))).status, 403);
    await env.http.get('/blocked-key').expect(404);
    assert.equal(env.admin.emergencyBlock().blocked, true);
    await env.admin.setEmergencyBlock(false);
    assert.deepEqual(env.admin.emergencyBlock(), { blocked: false });
    assert.equal((await decryptAs(env, USER, 'blocked-key', keyId, Buffer.from('y'))).status, 200);
  });
});

describe('issue 25: a token that keeps no records (both kinds refused)', () => {
  let env: TestEnv;
  before(async () => {
    const faults = new FaultPlan();
    // The first record written at start (the audit head) is refused as a data object and as a secret object.
    faults.inject('C_CreateObject', 'CKR_TEMPLATE_INCONSISTENT', 2);
    env = await startTestEnv({ service: { hsm: { wrapModule: faults.wrapModule } } });
  });
  after(() => env?.close());

  it('the service starts and serves; readiness warns, naming what is not anchored', async () => {
    const keyId = (await env.admin.create('unanchored', { allow })).keyId;
    assert.equal((await decryptAs(env, USER, 'unanchored', keyId, Buffer.from('x'))).status, 200);
    const report = await env.service.readiness.check();
    assert.equal(report.ready, true);
    assert.deepEqual(report.checks.tokenRecords?.detail, 'the token refused a data object (CKO_DATA) with CKR_TEMPLATE_INCONSISTENT and a generic secret object with CKR_TEMPLATE_INCONSISTENT: permanent states, the emergency block and the audit head are not anchored on the token');
    assert.equal(report.checks.tokenRecords?.status, 'warn');
  });
});

describe('issue 25: the trail against the anchored head (src/app/anchored-audit-head.ts)', () => {
  const anchored = { seq: 9, hash: 'a'.repeat(64), at: '2026-01-01T00:00:00.000Z' };

  it('a trail that ends before the anchored entry, one that holds another entry there, and one that went on from it', () => {
    assert.deepEqual(anchoredHeadProblem(anchored, { head: { seq: 5 }, entryHash: undefined }), {
      brokenAt: 6,
      problem: 'the trail ends at entry 5 but the token anchored entry 9 at 2026-01-01T00:00:00.000Z: the trail was rolled back or restored from an earlier copy',
    });
    assert.deepEqual(anchoredHeadProblem(anchored, { head: { seq: 12 }, entryHash: 'b'.repeat(64) }), {
      brokenAt: 9,
      problem: 'entry 9 is not the entry the token anchored at 2026-01-01T00:00:00.000Z: the trail was rolled back or restored from an earlier copy and written on since',
    });
    assert.equal(anchoredHeadProblem(anchored, { head: { seq: 12 }, entryHash: anchored.hash }), undefined);
    assert.equal(anchoredHeadProblem(anchored, { head: { seq: 9 }, entryHash: anchored.hash }), undefined);
  });
});
