import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { readPrivateKeyMaterial } from '../../src/app/private-key-material.js';
import { AdminRefused } from '../../src/keys/errors.js';
import { decryptAs } from '../support/decrypt-client.js';
import { OFFICE_VECTOR_DIR, rsaPem, tokenObjectsOf } from '../support/key-material.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

describe('issue 8: bring your own key (app/key-import) on the real token', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
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
    assert.equal(env.admin.show('byok').versions[0]?.origin, 'imported');
    const stored = JSON.stringify(env.service.audit.list()) + JSON.stringify(env.service.store.listKeys());
    assert.ok(!stored.includes(pem.split('\n')[1]!), 'no key material in the store or audit');
  });

  const refusals: [string, () => string, RegExp][] = [
    ['RSA-1024', () => rsaPem(1024).pem, /RSA-1024 key; DKE keys must be RSA-2048/],
    ['RSA-4096', () => rsaPem(4096).pem, /RSA-4096 key; DKE keys must be RSA-2048/],
    ['e = 3', () => rsaPem(2048, 3).pem, /public exponent 3; DKE keys must use 65537/],
    ['a public key file', () => rsaPem().publicKey.export({ type: 'spki', format: 'pem' }).toString(), /holds a public key or certificate/],
    ['a corrupted file', () => rsaPem().pem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n').slice(0, 900), /is not a readable RSA private key/],
    ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /holds a ec key; DKE keys are RSA/],
  ];
  for (const [what, make, sentence] of refusals) {
    it(`refuses ${what} with a clear sentence and leaves nothing in the token`, async () => {
      const name = `refused-${what.replace(/[^a-z0-9]/gi, '')}`;
      await assert.rejects(
        (async () => env.admin.importKey(name, readPrivateKeyMaterial(make(), 'key.pem'), { allow, source: 'key.pem' }))(),
        (e: unknown) => e instanceof AdminRefused && sentence.test(e.message),
      );
      assert.equal(await tokenObjectsOf(env, name), 0);
      assert.equal(env.service.store.findKey(name), undefined);
    });
  }

  it('refuses a second import under an existing name and id, keeping the first', async () => {
    const first = rsaPem();
    await env.admin.importKey('twice', readPrivateKeyMaterial(first.pem, 'a'), { keyId: 'v1', allow, source: 'a' });
    await assert.rejects(env.admin.importKey('twice', readPrivateKeyMaterial(rsaPem().pem, 'b'), { keyId: 'v1', source: 'b' }), /already has a version v1/);
    assert.equal(await tokenObjectsOf(env, 'twice'), 2, 'the private and public objects of the first import only');
  });
});
