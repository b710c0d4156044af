/**
 * Contract §1, decrypt order: authenticate (401) → find (404) → authorize (403) → Enabled and Active (403) → validate
 * body (400) → decrypt in the HSM (400/503). Steps 2 to 5 use only the key record (state, allow list and the public
 * key kept at creation), so a malformed body is a 400 even while the HSM is away and nothing of the key was read from
 * the token since the start (issue 12). Also: a store from before public keys were kept gets them from the token once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'mocha';
import { FaultPlan } from '../support/fault-injection.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { makeTestToken, startTestEnv, type TestEnv } from '../support/test-env.js';
import { until } from '../support/until.js';

const USER = 'alice@contoso.dev';

describe('§1 decrypt order: the body is validated from the key record, before any HSM call (app/dke-protocol)', () => {
  const plan = new FaultPlan();
  let dir: string;
  let env: TestEnv;
  let keyId: string;
  let jwk: { n: string; e: number };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-order-'));
    makeTestToken(dir);
    const first = await startTestEnv({ dir });
    keyId = (await first.admin.create('ordered', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    jwk = (await first.http.get('/ordered').expect(200)).body.key;
    await first.close();
    // A fresh process: no public key, private handle or provenance verdict of this version is cached anywhere.
    env = await startTestEnv({ dir, service: { hsm: { wrapModule: plan.wrapModule, wrapDecryptor: plan.wrapDecryptor } } });
  });
  after(async () => {
    plan.clear();
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: string) =>
    env.http
      .post(`/ordered/${keyId}/decrypt`)
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await env.token({ upn: USER })}`)
      .send(body);

  it('with the HSM down and a cold cache, a malformed body gets 400, not 503, and the token is never asked', async () => {
    plan.inject('C_OpenSession', 'CKR_DEVICE_REMOVED', 1_000);
    await env.service.hsm.connection.recover('test: the device went away');
    assert.notEqual(env.service.hsm.connection.status().state, 'up');
    // The start-up readiness self-test read the public key into the vault's cache: forget it, as a cold start would.
    env.service.hsm.vault.forget({ name: 'ordered', keyId });
    const callsBefore = ['C_FindObjectsInit', 'C_GetAttributeValue', 'C_Decrypt'].map((m) => plan.calls(m));

    const notBase64 = await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: 'not base64!' }));
    assert.equal(notBase64.status, 400);
    assert.deepEqual(notBase64.body, { error: 'invalid_request', message: 'value must be standard base64.' });
    const wrongAlg = await post(JSON.stringify({ alg: 'RSA1_5', value: 'AAAA' }));
    assert.deepEqual([wrongAlg.status, wrongAlg.body.error], [400, 'invalid_request']);
    const shortValue = await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: Buffer.alloc(255, 1).toString('base64') }));
    assert.deepEqual([shortValue.status, shortValue.body.error], [400, 'decrypt_failed']);
    assert.deepEqual(['C_FindObjectsInit', 'C_GetAttributeValue', 'C_Decrypt'].map((m) => plan.calls(m)), callsBefore, 'no HSM call for a bad body');

    const wellFormed = await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('x')) }));
    assert.equal(wellFormed.status, 503, 'a good body does reach the HSM, which is down');
    assert.match(wellFormed.headers['retry-after'], /^\d+$/);
  });

  it('once the HSM is back, the same version decrypts', async () => {
    plan.clear();
    await until(() => env.service.hsm.connection.status().state === 'up', 'the HSM connection up again', 20_000);
    const res = await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('back')) }));
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.body.value, 'base64').toString(), 'back');
  });
});

describe('public keys of versions recorded before they were kept are read from the token once (app/public-key-backfill)', () => {
  it('a restart fills the emptied public key columns with what the token holds, and GET serves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-backfill-'));
    makeTestToken(dir);
    let env = await startTestEnv({ dir });
    try {
      const { keyId } = await env.admin.create('legacy', { allow: { users: [USER], groups: [], roles: [] } });
      const served = (await env.http.get('/legacy').set('Host', 'localhost').expect(200)).body.key;
      await env.close();
      const db = new Database(join(dir, 'data', 'dke.sqlite'));
      db.prepare('UPDATE key_versions SET public_modulus = NULL, public_exponent = NULL').run();
      db.close();
      env = await startTestEnv({ dir });
      const version = env.service.store.findKey('legacy')?.versions.find((v) => v.keyId === keyId);
      assert.equal(version?.publicKey?.modulus.toString('base64'), served.n, 'the record holds the token\'s modulus again');
      assert.deepEqual((await env.http.get('/legacy').set('Host', 'localhost').expect(200)).body.key, served);
    } finally {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
