/**
 * Contract §1 `GET /health/ready` (src/app/readiness.ts, issue 7): the HSM login, the OAEP-SHA256 self-test of every
 * published key and the store, checked in the background; a peak is a warning, a stalled token a failure.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'mocha';
import type { SessionDecryptor } from '../../src/hsm/decrypt-thread-pool.js';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { until } from '../support/until.js';

const USER = 'alice@contoso.dev';

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; checkedAt: string; ageSeconds: number; detail?: string }>;
}

describe('issue 7: readiness follows the token login (/health/ready)', () => {
  let env: TestEnv;
  let keyId: string;
  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('ready-key', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    await env.service.readiness.check();
  });
  after(() => env?.close());

  it('probes read the last background check: the same checkedAt twice, each check with its age', async () => {
    const first = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    const second = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    for (const name of ['hsm', 'selfTest', 'store', 'issuerKeys']) {
      assert.equal(second.checks[name]!.checkedAt, first.checks[name]!.checkedAt, `${name} was not re-run by a probe`);
      assert.ok(Number.isInteger(first.checks[name]!.ageSeconds) && first.checks[name]!.ageSeconds >= 0);
      assert.ok(Date.parse(first.checks[name]!.checkedAt) <= Date.now());
    }
  });

  it('C_Logout on the real token → 503 naming the login, then the service logs in again and the next check is 200', async () => {
    const { connection, token, pool } = env.service.hsm;
    const recoveriesBefore = connection.status().recoveries;
    const session = pool.idleSessions()[0]!;
    token.module.C_Logout(session);

    await env.service.readiness.check();
    const down = (await env.http.get('/health/ready').expect(503)).body as ReadyBody;
    assert.equal(down.status, 'not_ready');
    assert.equal(down.checks.hsm!.status, 'fail');
    assert.match(down.checks.hsm!.detail!, /not logged in/);
    assert.equal(down.checks.selfTest!.status, 'fail', 'no self-test without a logged-in token');
    assert.equal(down.checks.store!.status, 'pass');

    await until(() => connection.status().recoveries > recoveriesBefore && connection.status().state === 'up', 'the new login');
    await env.service.readiness.check();
    const up = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    assert.equal(up.checks.hsm!.status, 'pass');
    assert.equal(up.checks.selfTest!.status, 'pass');
    assert.equal((await decryptAs(env, USER, 'ready-key', keyId, Buffer.from('after login'))).status, 200);
  });

  it('a published key that no longer passes its self-test is a warning naming it (issue 25: that version only), with the check\'s age, and clears after', async () => {
    const { keyId: broken } = await env.admin.create('selftest-broken', { allow: { users: [USER], groups: [], roles: [] } });
    await env.service.hsm.vault.destroy({ name: 'selftest-broken', keyId: broken });
    await env.service.readiness.check();
    const warned = await env.http.get('/health/ready').expect(200);
    assert.equal(warned.body.checks.selfTest.status, 'warn');
    assert.match(warned.body.checks.selfTest.detail, new RegExp(`selftest-broken/${broken}`));
    assert.equal(typeof warned.body.checks.selfTest.ageSeconds, 'number');
    await env.http.get('/selftest-broken').expect(404);
    await env.admin.setEnabled('selftest-broken', broken, false);
    await env.service.readiness.check();
    const cleared = await env.http.get('/health/ready').expect(200);
    assert.equal(cleared.body.checks.selfTest.status, 'pass');
  });
});

const QUEUE_WAIT_MS = 1_000;

const sleepUntil = (time: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

/**
 * Holds each decrypt at the adapter boundary before it reaches the real token, as a token that stopped answering
 * would (`stall`), and lets them through one by one (`releaseOne`) or all together (`resume`).
 */
class DecryptGate {
  #stalled: Array<() => void> | undefined;

  stall(): void {
    this.#stalled = [];
  }

  /** Lets the oldest held decrypt reach the token. */
  releaseOne(): void {
    this.#stalled?.shift()?.();
  }

  resume(): void {
    const waiting = this.#stalled ?? [];
    this.#stalled = undefined;
    for (const go of waiting) go();
  }

  readonly wrapDecryptor = (decryptor: SessionDecryptor): SessionDecryptor => ({
    decrypt: async (session, key, ciphertext, outputLength) => {
      if (this.#stalled !== undefined) await new Promise<void>((go) => this.#stalled?.push(go));
      return decryptor.decrypt(session, key, ciphertext, outputLength);
    },
  });
}

describe('issue 7: readiness under a peak and with a stalled token (2 sessions, 1 s bounded wait)', () => {
  const gate = new DecryptGate();
  let env: TestEnv;
  let ref: { name: string; keyId: string };
  let ciphertext: Buffer;
  before(async () => {
    env = await startTestEnv({
      settings: { DKE_PKCS11_SESSIONS: '2', DKE_PKCS11_QUEUE_TIMEOUT_MS: String(QUEUE_WAIT_MS) },
      service: { hsm: { wrapDecryptor: gate.wrapDecryptor } },
    });
    ref = { name: 'peak-key', keyId: (await env.admin.create('peak-key', { allow: { users: [USER], groups: [], roles: [] } })).keyId };
    ciphertext = Buffer.from(encryptLikeOffice(await versionJwk(env, ref.name, ref.keyId), Buffer.from('peak')), 'base64');
    await env.service.readiness.check();
  });
  afterEach(() => gate.resume());
  after(() => env?.close());

  it('every session busy while the token keeps completing operations → still 200; the HSM and self-test checks warn', async () => {
    // Deterministic saturation: both sessions held, a decrypt queued ahead of each readiness wait, and one held
    // operation completed during each wait, so each wait ends busy although the token made progress.
    const vault = env.service.hsm.vault;
    const pool = env.service.hsm.pool;
    gate.stall();
    const work = [vault.decrypt(ref, ciphertext), vault.decrypt(ref, ciphertext)];
    await until(() => pool.inUse === 2, 'both sessions held');
    work.push(vault.decrypt(ref, ciphertext));
    await until(() => pool.waiting === 1, 'a decrypt queued');
    const check = env.service.readiness.check();
    await until(() => pool.waiting === 2, 'the HSM probe queued behind it');
    const probeQueuedAt = Date.now();
    gate.releaseOne(); // progress: its session goes to the decrypt ahead of the probe
    await sleepUntil(probeQueuedAt + QUEUE_WAIT_MS / 2);
    work.push(vault.decrypt(ref, ciphertext)); // queued ahead of the self-test, which comes once the probe gives up
    await sleepUntil(probeQueuedAt + QUEUE_WAIT_MS + 50);
    await until(() => pool.waiting === 2, 'the self-test queued');
    gate.releaseOne(); // progress again, and again the session goes to the decrypt ahead
    const report = await check;
    gate.resume();
    assert.deepEqual((await Promise.all(work)).map((p) => p.toString()), ['peak', 'peak', 'peak', 'peak']);

    assert.equal(report.ready, true);
    const body = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.hsm!.status, 'warn');
    assert.match(body.checks.hsm!.detail!, /every session busy; the token is completing operations/);
    assert.equal(body.checks.selfTest!.status, 'warn');
    assert.match(body.checks.selfTest!.detail!, /^not run for lack of a free session: peak-key\//);
  });

  it('every session held by operations that never finish → 503 naming a stalled token, 200 again once it answers', async () => {
    gate.stall();
    const held = [env.service.hsm.vault.decrypt(ref, ciphertext), env.service.hsm.vault.decrypt(ref, ciphertext)];
    await until(() => env.service.hsm.pool.inUse === 2, 'both sessions held');
    await env.service.readiness.check();
    const down = (await env.http.get('/health/ready').expect(503)).body as ReadyBody;
    assert.equal(down.checks.hsm!.status, 'fail');
    assert.match(down.checks.hsm!.detail!, /no operation completed during the wait: the token may have stalled/);

    gate.resume();
    assert.deepEqual((await Promise.all(held)).map((p) => p.toString()), ['peak', 'peak']);
    await env.service.readiness.check();
    const up = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    assert.equal(up.checks.hsm!.status, 'pass');
    assert.equal(up.checks.selfTest!.status, 'pass');
  });
});
