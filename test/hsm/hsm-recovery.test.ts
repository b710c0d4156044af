/**
 * Contract §1 (503 with Retry-After while the HSM is unavailable) and §2 `DKE_PKCS11_PIN` (src/hsm/hsm-connection.ts,
 * issue 6): transient CKR faults recovered without a restart, sessions dropped under load, a refused PIN never retried.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { FaultPlan } from '../support/fault-injection.js';
import { makeTestToken, startTestEnv, type TestEnv } from '../support/test-env.js';
import { until } from '../support/until.js';

const USER = 'alice@contoso.dev';
const TRANSIENT = [
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_REMOVED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_FUNCTION_FAILED',
  'CKR_GENERAL_ERROR',
];

describe('issue 6: HSM faults are recovered without a restart (real token behind a fault-injecting wrapper)', () => {
  const plan = new FaultPlan();
  let env: TestEnv;
  let keyId: string;
  let jwk: { n: string; e: number };

  before(async () => {
    env = await startTestEnv({ service: { hsm: { wrapModule: plan.wrapModule, wrapDecryptor: plan.wrapDecryptor } } });
    keyId = (await env.admin.create('resilient', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    jwk = await versionJwk(env, 'resilient', keyId);
  });
  afterEach(() => plan.clear());
  after(() => env?.close());

  const decryptOnce = async (plaintext = randomBytes(32)) => ({ plaintext, res: await decryptAs(env, USER, 'resilient', keyId, plaintext, jwk) });

  for (const ckr of TRANSIENT) {
    it(`${ckr} once: sessions replaced, login again, the request retried to 200 with the right plaintext`, async () => {
      const before = env.service.hsm.connection.status().recoveries;
      plan.inject('C_Decrypt', ckr);
      const { plaintext, res } = await decryptOnce();
      assert.equal(res.status, 200);
      assert.equal(res.body.value, plaintext.toString('base64'));
      assert.equal(env.service.hsm.connection.status().recoveries, before + 1);
      assert.equal(env.service.hsm.connection.status().state, 'up');
    });
  }

  it('a fault that outlasts the retry answers 503 with Retry-After, and the next request succeeds', async () => {
    plan.inject('C_Decrypt', 'CKR_DEVICE_ERROR', 2);
    const { res } = await decryptOnce();
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { error: 'hsm_unavailable', message: 'The key store is temporarily unavailable; try again shortly.' });
    assert.match(res.headers['retry-after'], /^\d+$/);
    await until(() => env.service.hsm.connection.status().state === 'up', 'the HSM connection up again', 10_000);
    assert.equal((await decryptOnce()).res.status, 200);
  });

  it('while the device stays away: 503 and not ready; once it is back, recovered by itself in the background', async () => {
    plan.inject('C_OpenSession', 'CKR_DEVICE_REMOVED', 6);
    plan.inject('C_Decrypt', 'CKR_DEVICE_REMOVED');
    const { res } = await decryptOnce();
    assert.equal(res.status, 503);
    await env.service.readiness.check();
    const ready = await env.http.get('/health/ready').expect(503);
    assert.equal(ready.body.checks.hsm.status, 'fail');
    assert.match(ready.body.checks.hsm.detail, /the HSM is (down|recovering)/);
    await until(() => env.service.hsm.connection.status().state === 'up', 'the HSM connection up again', 20_000);
    await env.service.readiness.check();
    await env.http.get('/health/ready').expect(200);
    assert.equal((await decryptOnce()).res.status, 200);
  });

  it('a bad ciphertext (CKR_ENCRYPTED_DATA_INVALID) is the uniform 400 and never an HSM fault', async () => {
    const before = env.service.hsm.connection.status().recoveries;
    plan.inject('C_Decrypt', 'CKR_ENCRYPTED_DATA_INVALID');
    const { res } = await decryptOnce();
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'decrypt_failed');
    assert.equal(env.service.hsm.connection.status().recoveries, before);
  });

  it('sessions dropped by the real token under 16 requests in flight: every request answered 200, and later ones too', async () => {
    // As an idle-timeout HSM does: the token closes sessions behind the service's back (real C_CloseSession on the
    // real token), at a fixed point so that it happens on every run: just before the first decrypt reaches the token,
    // that decrypt's own session and every idle one. Never a session inside C_Decrypt: NSS softoken crashes when a
    // session is closed while another thread is inside C_Decrypt on it, which the service itself never does.
    const module = env.service.hsm.token.module;
    let closedUnderLoad = 0;
    plan.beforeDecrypt((session) => {
      for (const handle of [session, ...env.service.hsm.pool.idleSessions()]) {
        try {
          module.C_CloseSession(handle);
          closedUnderLoad += 1;
        } catch {
          // Listed twice (CKR_SESSION_HANDLE_INVALID): counted once.
        }
      }
    });
    const before = env.service.hsm.connection.status().recoveries;
    const assertAll200 = (results: Awaited<ReturnType<typeof decryptOnce>>[]) => {
      for (const { plaintext, res } of results) {
        assert.equal(res.status, 200);
        assert.equal(res.body.value, plaintext.toString('base64'));
      }
    };
    assertAll200(await Promise.all(Array.from({ length: 16 }, () => decryptOnce())));
    assert.ok(closedUnderLoad >= 1, 'sessions were closed while requests were in flight');
    const afterLoad = env.service.hsm.connection.status().recoveries;
    assert.ok(afterLoad > before, 'the sessions closed under load were noticed and replaced');

    // Every session at once, at rest: the next 16 requests find them all gone.
    env.service.hsm.token.closeAllSessions();
    assertAll200(await Promise.all(Array.from({ length: 16 }, () => decryptOnce())));
    assert.ok(env.service.hsm.connection.status().recoveries > afterLoad, 'the sessions closed at rest were replaced');
  });
});

describe('issue 6: a wrong PIN', () => {
  it('leaves the service running but not ready, says "PIN", tries C_Login exactly once and never loops', async () => {
    // A key made with the right PIN, then the service restarted on the same token and store with a wrong one: its
    // decrypts pass every check before the HSM and reach the token's door, which must stay shut without a new login.
    const dir = mkdtempSync(join(tmpdir(), 'dke-pin-'));
    makeTestToken(dir);
    let env = await startTestEnv({ dir });
    const plan = new FaultPlan();
    try {
      const keyId = (await env.admin.create('locked', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
      const jwk = await versionJwk(env, 'locked', keyId);
      await env.close();
      env = await startTestEnv({ dir, settings: { DKE_PKCS11_PIN: 'wrong-pin-1', DKE_PKCS11_PIN_FILE: '' }, service: { hsm: { wrapModule: plan.wrapModule } } });
      const ready = await env.http.get('/health/ready').expect(503);
      assert.match(ready.body.checks.hsm.detail, /misconfigured.*PIN/);
      for (let i = 0; i < 3; i += 1) {
        const res = await decryptAs(env, USER, 'locked', keyId, Buffer.from('x'), jwk);
        assert.equal(res.status, 503);
        assert.equal(res.body.error, 'hsm_unavailable');
        assert.match(res.headers['retry-after'], /^\d+$/);
      }
      const unknown = await decryptAs(env, USER, 'no-such-key', keyId, Buffer.from('x'), jwk);
      assert.equal(unknown.status, 404, 'an unknown key is 404 before the HSM is asked, PIN or not');
      await new Promise((r) => setTimeout(r, 700));
      await env.service.readiness.check();
      assert.equal(plan.calls('C_Login'), 1, 'a refused PIN is never retried');
      // Each refused decrypt's request line gives its reason; the refusal itself is logged once, not per attempt.
      const pinLines = env.logs.filter((l) => l.includes('PIN') && (JSON.parse(l) as { message: string }).message !== 'request');
      assert.equal(pinLines.length, 1, 'logged once');
      assert.ok(!env.logs.join('\n').includes('wrong-pin-1'), 'the PIN itself is never logged');
    } finally {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
