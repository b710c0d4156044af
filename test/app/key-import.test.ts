/**
 * Contract §3 `dke keys import` (src/app/key-import.ts, issue 8): a key brought in is unwrapped into the real token,
 * decrypts the captured Office request (test/fixtures/office-capture), and a failed import leaves nothing in the token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { readPrivateKeyMaterial } from '../../src/app/private-key-material.js';
import { AdminRefused } from '../../src/keys/errors.js';
import { decryptAs } from '../support/decrypt-client.js';
import { FaultPlan } from '../support/fault-injection.js';
import { OFFICE_VECTOR_DIR, rsaPem, tokenObjectsOf } from '../support/key-material.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

describe('issue 8: bring your own key (app/key-import) on the real token', () => {
  const plan = new FaultPlan();
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({
      settings: { DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},https://dke.acme.com` },
      // The faults below count C_CreateObject calls: the audit head's background anchoring (issue 25) must not make any.
      service: { hsm: { wrapModule: plan.wrapModule, wrapDecryptor: plan.wrapDecryptor }, tokenAnchorIntervalMs: 3_600_000 },
    });
  });
  afterEach(() => plan.clear());
  after(() => env?.close());

  it('the captured Office request decrypts to its 44 expected bytes after importing the published test key', async () => {
    const pem = readFileSync(join(OFFICE_VECTOR_DIR, 'private_key.pkcs8.pem'), 'utf8');
    const published = JSON.parse(readFileSync(join(OFFICE_VECTOR_DIR, 'key.json'), 'utf8'));
    const request = readFileSync(join(OFFICE_VECTOR_DIR, 'encrypted_data.json'), 'utf8');
    await env.admin.importKey('dke_key', readPrivateKeyMaterial(pem, 'private_key.pkcs8.pem'), { keyId: 'ms_dke_pub_key', allow, source: 'vector' });
    const served = await env.http.get('/dke_key').set('Host', 'dke.acme.com').expect(200);
    assert.equal(served.body.key.n, published.key.n);
    assert.equal(served.body.key.e, published.key.e);
    assert.equal(served.body.key.kid, 'http://dke.acme.com/dke_key/ms_dke_pub_key');
    const res = await env.http
      .post('/dke_key/ms_dke_pub_key/decrypt')
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await env.token({ upn: USER })}`)
      .send(request)
      .expect(200);
    assert.deepEqual(res.body, { value: 'LAD//yAAEAACEAAAQ8e4oo9MFbk6qbqY3OtGBryHSwwJRVdbd5eJYVqA7io=' });
    assert.equal(Buffer.from(res.body.value, 'base64').length, 44);
  });

  it('imports a PKCS#1 key too, decrypts what its original public key encrypted, and attests it as imported', async () => {
    const { pem, publicKey } = rsaPem(2048, 65537, 'pkcs1');
    const created = await env.admin.importKey('byok', readPrivateKeyMaterial(pem, 'byok.pem'), { allow, source: 'byok.pem' });
    const jwk = publicKey.export({ format: 'jwk' });
    const res = await decryptAs(env, USER, 'byok', created.keyId, Buffer.from('imported'), { n: Buffer.from(jwk.n!, 'base64url').toString('base64'), e: 65537 });
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.body.value, 'base64').toString(), 'imported');
    const [attested] = (await env.admin.attest('byok')).versions;
    assert.equal(attested?.origin, 'imported');
    assert.equal(attested?.sensitive, true);
    assert.equal(attested?.extractable, false);
    assert.deepEqual(attested?.operations, ['decrypt']);
    assert.equal(attested?.verdict, 'imported-non-extractable');
    assert.equal((await env.admin.show('byok')).versions[0]?.origin, 'imported');
    const stored = JSON.stringify((await env.service.audit.list())) + JSON.stringify(env.service.store.listKeys());
    assert.ok(!stored.includes(pem.split('\n')[1]!), 'no key material in the store or audit');
  });

  // What the file reader refuses never reaches the token: test/app/private-key-material.test.ts. Here the import
  // fails after objects exist in the token, and must take every one of them away again.
  it('a key whose round trip fails in the token is destroyed again: nothing in the token, no record, refusal audited', async () => {
    const { pem } = rsaPem();
    const decryptsBefore = plan.calls('C_Decrypt');
    plan.inject('C_Decrypt', 'CKR_ENCRYPTED_DATA_INVALID');
    await assert.rejects(
      env.admin.importKey('no-round-trip', readPrivateKeyMaterial(pem, 'key.pem'), { allow, source: 'key.pem' }),
      (e: unknown) => e instanceof AdminRefused && /does not decrypt what its public key encrypts; nothing was kept/.test(e.message),
    );
    assert.equal(plan.calls('C_Decrypt') - decryptsBefore, 1, 'the round trip reached the token, after the key was unwrapped into it');
    assert.equal(await tokenObjectsOf(env, 'no-round-trip'), 0);
    assert.equal(env.service.store.findKey('no-round-trip'), undefined);
    assert.equal((await env.service.audit.list()).at(-1)?.outcome, 'refused');
  });

  it('a token that refuses the public half after the private key was unwrapped keeps neither', async () => {
    const { pem } = rsaPem();
    const unwrapsBefore = plan.calls('C_UnwrapKey');
    // The import's first C_CreateObject makes the one-time AES key; the second, after C_UnwrapKey, the public key.
    plan.inject('C_CreateObject', 'CKR_TEMPLATE_INCONSISTENT', 1, 1);
    await assert.rejects(env.admin.importKey('half-done', readPrivateKeyMaterial(pem, 'key.pem'), { allow, source: 'key.pem' }));
    assert.equal(plan.calls('C_UnwrapKey') - unwrapsBefore, 1, 'the private key was unwrapped into the token before the fault');
    assert.equal(await tokenObjectsOf(env, 'half-done'), 0);
    assert.equal(env.service.store.findKey('half-done'), undefined);
  });

  it('a transient fault at the same step is recovered and the import retried once: one key, two objects', async () => {
    const { pem } = rsaPem();
    const unwrapsBefore = plan.calls('C_UnwrapKey');
    plan.inject('C_CreateObject', 'CKR_DEVICE_ERROR', 1, 1);
    await env.admin.importKey('retried', readPrivateKeyMaterial(pem, 'key.pem'), { allow, source: 'key.pem' });
    assert.equal(plan.calls('C_UnwrapKey') - unwrapsBefore, 2, 'unwrapped, then unwrapped again after the recovery');
    assert.equal(await tokenObjectsOf(env, 'retried'), 2, 'the private and public objects of one import');
  });

  it('refuses a second import under an existing name and id, keeping the first', async () => {
    const first = rsaPem();
    await env.admin.importKey('twice', readPrivateKeyMaterial(first.pem, 'a'), { keyId: 'v1', allow, source: 'a' });
    await assert.rejects(env.admin.importKey('twice', readPrivateKeyMaterial(rsaPem().pem, 'b'), { keyId: 'v1', source: 'b' }), /already has a version v1/);
    assert.equal(await tokenObjectsOf(env, 'twice'), 2, 'the private and public objects of the first import only');
  });
});
