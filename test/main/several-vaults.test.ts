// Contract §9 and issue 28: one service with two vaults on two different PKCS#11 modules in one process, NSS softoken
// (the default vault "nss") and openCryptoki's soft token (the vault "ock", inactive: the old HSM being left). A key
// made in "ock" before it was retired keeps decrypting from it, and rotated it gets its new version in "nss" while the
// old one still opens from "ock"; an inactive vault takes no new keys (409); "ock" taken away (its library failing
// with CKR_DEVICE_REMOVED) leaves the keys in "nss" at 200 and the instance ready with a warning naming "ock", its own
// versions at 503, until it comes back by itself; readiness fails only when no vault answers. Real tokens, real
// Office-style ciphertexts, real signed tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { parseSettings } from '../../src/config/config.js';
import { findSoftokn, nssLibraryParameters, EMBEDDED_TOKEN_LABEL } from '../../src/config/embedded-token.js';
import { readPrivateKeyMaterial } from '../../src/app/private-key-material.js';
import { parseReferenceSettings } from '../../src/app/reference-settings.js';
import { runDoctor } from '../../src/doctor/run-doctor.js';
import { AdminConflict } from '../../src/keys/errors.js';
import { withAdmin } from '../../src/main/open-admin.js';
import { decryptAs } from '../support/decrypt-client.js';
import { FaultPlan } from '../support/fault-injection.js';
import { rsaPem } from '../support/key-material.js';
import { listenOnLoopback } from '../support/listening-server.js';
import { openCryptokiToken } from '../support/probe-tokens.js';
import { makeTestToken, startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const ALLOW = { users: [USER], groups: [], roles: [] };
const SECRET = Buffer.from('a content key of 32 bytes, Office', 'utf8').subarray(0, 32);

/** The vaults file: "nss" the default, "ock" active or inactive. */
function writeVaults(dir: string, file: string, ock: { library: string; tokenLabel: string; pinFile: string }, ockStatus: 'active' | 'inactive'): string {
  const tokenDir = join(dir, 'token');
  const path = join(dir, file);
  writeFileSync(
    path,
    JSON.stringify({
      default: 'nss',
      vaults: [
        { name: 'nss', library: findSoftokn(), libraryParameters: nssLibraryParameters(tokenDir), tokenLabel: EMBEDDED_TOKEN_LABEL, pinFile: join(tokenDir, 'pin.txt'), sessions: 2 },
        { name: 'ock', library: ock.library, tokenLabel: ock.tokenLabel, pinFile: ock.pinFile, sessions: 2, status: ockStatus },
      ],
    }),
  );
  return path;
}

describe('§9 several vaults: two PKCS#11 modules in one service, each vault failing alone', () => {
  let dir: string;
  let env: TestEnv;
  let admin: ReturnType<typeof supertest>;
  let adminToken: string;
  let legacyOld: string;
  /** A key whose published version stays in "ock". */
  let archive: string;
  let fresh: string;
  const ockFaults = new FaultPlan();
  const nssFaults = new FaultPlan();

  before(async function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'dke-vaults-'));
    makeTestToken(dir);
    const ock = await openCryptokiToken(dir);
    const base = { DKE_DATA_DIR: join(dir, 'data'), DKE_DELETION_WINDOW: '0' };
    // Made while "ock" was the active HSM: through the CLI's own code path, before the service starts.
    const whileActive = parseSettings({ ...base, DKE_VAULTS: writeVaults(dir, 'vaults-before.json', ock, 'active') });
    [legacyOld, archive] = await withAdmin(
      true,
      async ({ admin: keys }) => [(await keys.create('legacy', { allow: ALLOW, vault: 'ock' })).keyId, (await keys.create('archive', { allow: ALLOW, vault: 'ock' })).keyId],
      whileActive,
      { createStore: true },
    );
    env = await startTestEnv({
      dir,
      settings: { DKE_VAULTS: writeVaults(dir, 'vaults.json', ock, 'inactive') },
      // No takeover timer: the reconcile below must meet the dead command's step itself (issue 25 takes it over too).
      service: { vaults: { ock: ockFaults, nss: nssFaults }, takeoverIntervalMs: 3_600_000 },
    });
    fresh = (await env.admin.create('fresh', { allow: ALLOW })).keyId;
    admin = supertest(env.service.adminApp);
    adminToken = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Admin'] });
  });

  after(async () => {
    ockFaults.clear();
    nssFaults.clear();
    // openCryptoki's token outlives the test: what it made there goes.
    for (const [name, keyId] of [['legacy', legacyOld], ['archive', archive]] as const) {
      await env?.service.vaults.router.destroy({ name, keyId, vault: 'ock' }).catch(() => false);
    }
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const decrypts = async (name: string, keyId: string): Promise<number> => {
    const jwk = { n: (await env.service.vaults.router.publicKey({ name, keyId })).modulus.toString('base64'), e: 65537 };
    const res = await decryptAs(env, USER, name, keyId, SECRET, jwk);
    if (res.status === 200) assert.equal(Buffer.from(res.body.value, 'base64').toString('hex'), SECRET.toString('hex'));
    return res.status;
  };
  const vaultOf = async (name: string, keyId: string): Promise<string | undefined> => (await env.admin.show(name)).versions.find((v) => v.keyId === keyId)?.vault;

  it('each vault\'s keys decrypt from their own module, every version says its vault, and the instance is ready', async () => {
    assert.equal(await decrypts('legacy', legacyOld), 200);
    assert.equal(await decrypts('fresh', fresh), 200);
    assert.equal(await vaultOf('legacy', legacyOld), 'ock');
    assert.equal(await vaultOf('fresh', fresh), 'nss');
    const shown = await admin.get('/admin/api/keys/legacy').set('Authorization', `Bearer ${adminToken}`).expect(200);
    assert.equal(shown.body.versions[0].vault, 'ock');
    assert.notEqual(env.service.vaults.list[0]!.hsm.token.module, env.service.vaults.list[1]!.hsm.token.module);
    await env.service.readiness.check();
    const ready = await env.http.get('/health/ready').expect(200);
    assert.equal(ready.body.checks.hsm.status, 'pass');
    assert.equal(ready.body.checks.selfTest.status, 'pass', JSON.stringify(ready.body.checks));
    // openCryptoki's token is the machine's: objects other tests left there may be named (a warning), never ours as missing.
    assert.notEqual(ready.body.checks.keyRecords.status, 'fail', JSON.stringify(ready.body.checks));
    assert.doesNotMatch(ready.body.checks.keyRecords.detail ?? '', new RegExp(`missing|${legacyOld}|${fresh}`));
  });

  it('the emergency block is one for every vault: no decrypt in either while it holds, both again once lifted', async () => {
    await env.admin.setEmergencyBlock(true);
    try {
      for (const [name, keyId] of [['legacy', legacyOld], ['fresh', fresh]] as const) assert.notEqual(await decrypts(name, keyId), 200, `${name} decrypted under the block`);
    } finally {
      await env.admin.setEmergencyBlock(false);
    }
    assert.equal(await decrypts('legacy', legacyOld), 200);
    assert.equal(await decrypts('fresh', fresh), 200);
  });

  it('GET /admin/api/vaults lists both vaults with their module, status and connection', async () => {
    const res = await admin.get('/admin/api/vaults').set('Authorization', `Bearer ${adminToken}`).expect(200);
    assert.equal(res.body.default, 'nss');
    assert.deepEqual(
      res.body.vaults.map((v: { name: string; status: string; library: string; sessions: number; connection: { state: string } }) => [v.name, v.status, v.library, v.sessions, v.connection.state]),
      [
        ['nss', 'active', findSoftokn(), 2, 'up'],
        ['ock', 'inactive', env.service.vaults.list[1]!.pkcs11.library, 2, 'up'],
      ],
    );
    // The probe of one vault runs on that vault's own token (openCryptoki's here), beside its pool.
    const probe = await admin.post('/admin/api/vaults/ock/probe').set('Authorization', `Bearer ${adminToken}`).expect(200);
    assert.notEqual(probe.body.verdict, 'fail', JSON.stringify(probe.body));
    assert.match(probe.body.checks.find((c: { name: string }) => c.name === 'token')?.detail ?? '', /dke-test/, JSON.stringify(probe.body.checks));
    await admin.post('/admin/api/vaults/eu/probe').set('Authorization', `Bearer ${adminToken}`).expect(404);
  });

  it('an inactive vault takes no new key (409 with its sentence, nothing made), an unknown vault is 404', async () => {
    const sentence = 'The vault "ock" is inactive: it takes no new keys (its versions keep decrypting); choose an active vault with --vault or "vault".';
    const create = await admin.post('/admin/api/keys').set('Authorization', `Bearer ${adminToken}`).send({ name: 'refused', vault: 'ock' }).expect(409);
    assert.deepEqual(create.body, { error: 'conflict', message: sentence });
    const rotate = await admin.post('/admin/api/keys/legacy/rotate').set('Authorization', `Bearer ${adminToken}`).send({ vault: 'ock' }).expect(409);
    assert.equal(rotate.body.message, sentence);
    const unknown = await admin.post('/admin/api/keys').set('Authorization', `Bearer ${adminToken}`).send({ name: 'refused', vault: 'eu' }).expect(404);
    assert.equal(unknown.body.message, 'There is no vault "eu"; this instance has "nss", "ock".');
    assert.equal(env.service.store.findKey('refused'), undefined);
    assert.equal((await env.admin.show('legacy')).versions.length, 1);
    assert.deepEqual(await env.service.store.pendingIntents(), []);
  });

  it('an import (and import-reference) goes to the default vault unless told; into the inactive one it is refused', async () => {
    const { pem } = rsaPem();
    const imported = await env.admin.importKey('brought', readPrivateKeyMaterial(pem, 'brought.pem'), { allow: ALLOW, source: 'brought.pem' });
    assert.equal(await vaultOf('brought', imported.keyId), 'nss');
    assert.equal(await decrypts('brought', imported.keyId), 200);
    const reference = rsaPem(2048, 65537, 'pkcs1');
    const bare = (text: string): string => text.split('\n').filter((line) => line !== '' && !line.startsWith('-----')).join('');
    const appsettings = {
      AzureAd: { Instance: 'https://login.microsoftonline.com/' },
      JwtAudience: 'https://dke.test.example',
      TestKeys: [{ Name: 'referenced', Id: 'ref-1', AuthorizedEmailAddress: [USER], PublicPem: bare(reference.publicKey.export({ type: 'spki', format: 'pem' }).toString()), PrivatePem: bare(reference.pem) }],
    };
    await env.admin.migrateReference(parseReferenceSettings(JSON.stringify(appsettings)), false);
    assert.equal(await vaultOf('referenced', 'ref-1'), 'nss');
    assert.equal(await decrypts('referenced', 'ref-1'), 200);
    await assert.rejects(
      env.admin.importKey('brought', readPrivateKeyMaterial(pem, 'brought.pem'), { source: 'brought.pem', vault: 'ock' }),
      (error: Error) => error instanceof AdminConflict && error.message.startsWith('The vault "ock" is inactive'),
    );
  });

  it('a key rotated into the new vault: the new version is made in "nss", the old one keeps decrypting from "ock"', async () => {
    const res = await admin.post('/admin/api/keys/legacy/rotate').set('Authorization', `Bearer ${adminToken}`).set('Content-Type', 'application/json').send({ vault: 'nss' }).expect(201);
    const legacyNew = res.body.keyId as string;
    assert.equal(await vaultOf('legacy', legacyNew), 'nss');
    assert.equal(await decrypts('legacy', legacyNew), 200);
    assert.equal(await decrypts('legacy', legacyOld), 200);
    const objects = await env.service.vaults.list[0]!.hsm.vault.listKeyObjects();
    assert.deepEqual(objects.filter((o) => o.ref.name === 'legacy').map((o) => o.ref.keyId), [legacyNew]);
  });

  it('"ock" taken away: its versions 503, "nss" keys 200, ready with a warning naming "ock"; back by itself later', async () => {
    ockFaults.inject('C_OpenSession', 'CKR_DEVICE_REMOVED', 1000);
    ockFaults.inject('C_Decrypt', 'CKR_DEVICE_REMOVED', 1000);
    assert.equal(await decrypts('legacy', legacyOld), 503);
    assert.equal(await decrypts('fresh', fresh), 200);
    await env.service.readiness.check();
    const ready = await env.http.get('/health/ready').expect(200);
    assert.equal(ready.body.checks.hsm.status, 'warn');
    assert.match(ready.body.checks.hsm.detail, /^the vault "ock" does not answer: the HSM is (down|recovering) since .*; versions in "ock" answer 503 while the other vaults serve$/);
    assert.equal(ready.body.checks.selfTest.status, 'pass', JSON.stringify(ready.body.checks));
    assert.notEqual(ready.body.checks.keyRecords.status, 'fail', JSON.stringify(ready.body.checks));
    const metrics = await admin.get('/metrics').expect(200);
    assert.match(metrics.text, /^dke_vault_up\{vault="ock"\} 0$/m);
    assert.match(metrics.text, /^dke_vault_up\{vault="nss"\} 1$/m);
    // dke doctor, on a key served from "ock": its decrypt's 503 is explained by the readiness that names the vault.
    const listening = await listenOnLoopback(env);
    try {
      const checks = await runDoctor({ url: `http://127.0.0.1:${listening.port}/archive`, token: await env.token({ upn: USER }) });
      const key = checks.find((c) => c.name === 'public-key');
      assert.equal(key?.detail, `GET http://127.0.0.1:${listening.port}/archive answered 503 (hsm_unavailable): the service cannot reach this key's HSM now`, JSON.stringify(checks));
      assert.match(key?.fix ?? '', /^The HSM is not available: \/health\/ready says of the HSM \(warn\): the vault "ock" does not answer: /);
    } finally {
      await listening.close();
    }

    // The reconcile works per vault: a dead command's step in "ock" waits for it, the tokens that answer are compared.
    const deadOwner = `${hostname()}:4194303`;
    await env.service.store.change((tx) =>
      tx.beginIntent({ action: 'set-state', name: 'archive', keyId: archive, actor: 'a-dead-cli', owner: deadOwner, createdAt: new Date().toISOString(), leaseUntil: new Date(0).toISOString(), details: { from: 'active', to: 'deactivated' } }),
    );
    const report = await env.admin.reconcile(false);
    assert.deepEqual(report.steps.map((step) => step.outcome), ['left unfinished: the HSM of its vault does not answer now; it is finished once it does (by any instance, or "dke keys reconcile" again)']);
    assert.deepEqual(report.unreachableVaults, ['ock']);
    assert.deepEqual(report.missingPrivateKeys, []);
    assert.equal((await env.service.store.pendingIntents()).length, 1);

    ockFaults.clear();
    await env.service.vaults.list[1]!.hsm.connection.recover('the test gave the token back');
    assert.equal((await env.admin.reconcile(false)).steps[0]?.outcome !== undefined, true);
    assert.deepEqual(await env.service.store.pendingIntents(), []);
    assert.equal((await env.admin.show('archive')).versions[0]?.state, 'deactivated');
    assert.equal(await decrypts('legacy', legacyOld), 200);
    await env.service.readiness.check();
    assert.equal((await env.http.get('/health/ready').expect(200)).body.checks.hsm.status, 'pass');
  });

  it('readiness fails only when no vault answers', async () => {
    for (const plan of [ockFaults, nssFaults]) plan.inject('C_OpenSession', 'CKR_DEVICE_REMOVED', 1000);
    try {
      await Promise.all(env.service.vaults.list.map((v) => v.hsm.connection.recover('the test took the token away')));
      await env.service.readiness.check();
      const ready = await env.http.get('/health/ready').expect(503);
      assert.equal(ready.body.checks.hsm.status, 'fail');
      assert.match(ready.body.checks.hsm.detail, /^no vault answers: the vault "nss" does not answer: .*; the vault "ock" does not answer: /);
    } finally {
      ockFaults.clear();
      nssFaults.clear();
      await Promise.all(env.service.vaults.list.map((v) => v.hsm.connection.recover('the test gave the token back')));
    }
    await env.service.readiness.check();
    await env.http.get('/health/ready').expect(200);
  });
});
