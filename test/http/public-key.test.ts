/**
 * Contract §1 `GET /{keyName}` (src/http/dke-routes.ts, src/app/public-key-response.ts): the published key as the
 * reference service shapes it, `kid` from `DKE_PUBLIC_BASE_URL`/`DKE_BASE_PATH` or the request, `cache.exp`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';

describe('§1 GET /{keyName}', () => {
  let env: TestEnv;
  let keyId: string;

  before(async () => {
    env = await startTestEnv({ settings: { DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},https://dke.contoso.com` } });
    ({ keyId } = await env.admin.create('contoso-secret', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } }));
  });
  after(() => env.close());

  it('returns the published key as the reference service shapes it, modulus from the token', async () => {
    const before = Date.now();
    const res = await env.http.get('/contoso-secret').set('Host', 'dke.contoso.com').expect(200).expect('content-type', /application\/json/);
    assert.deepEqual(Object.keys(res.body), ['key', 'cache']);
    assert.deepEqual(Object.keys(res.body.key), ['kty', 'n', 'e', 'alg', 'kid']);
    assert.equal(res.body.key.kty, 'RSA');
    assert.equal(res.body.key.e, 65537);
    assert.equal(res.body.key.alg, 'RS256');
    assert.equal(res.body.key.kid, `http://dke.contoso.com/contoso-secret/${keyId}`);
    const modulus = (await env.service.hsm.vault.publicKey({ name: 'contoso-secret', keyId })).modulus;
    assert.equal(res.body.key.n, modulus.toString('base64'), 'n is standard base64 of the token modulus');
    assert.equal(Buffer.from(res.body.key.n, 'base64').length, 256, 'RSA-2048');
    assert.match(res.body.cache.exp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const exp = Date.parse(`${res.body.cache.exp}Z`);
    assert.ok(Math.abs(exp - (before + 24 * 3600_000)) < 5000, 'cache.exp is UTC now + 24 h');
  });

  it('ignores the query string newer clients add, and never copies it into kid', async () => {
    const res = await env.http.get('/contoso-secret?protocol-version=2.0').set('Host', 'dke.contoso.com').expect(200);
    assert.equal(res.body.key.kid, `http://dke.contoso.com/contoso-secret/${keyId}`);
  });

  it('ignores X-Forwarded-* unless DKE_TRUST_PROXY is set', async () => {
    const res = await env.http
      .get('/contoso-secret')
      .set('Host', 'dke.contoso.com')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'evil.example')
      .expect(200);
    assert.equal(res.body.key.kid, `http://dke.contoso.com/contoso-secret/${keyId}`);
  });

  it('answers 404 with the uniform error body for an unknown key name', async () => {
    const res = await env.http.get('/no-such-key').expect(404);
    assert.deepEqual(res.body, { error: 'key_not_found', message: 'No such key.' });
  });

  it('treats key names as case-sensitive', async () => {
    await env.http.get('/CONTOSO-SECRET').expect(404);
  });

  it('answers 404 while the published version is disabled, and 200 again once enabled', async () => {
    await env.service.store.change((tx) => tx.setEnabled('contoso-secret', keyId, false, new Date().toISOString()));
    await env.http.get('/contoso-secret').expect(404);
    await env.service.store.change((tx) => tx.setEnabled('contoso-secret', keyId, true, new Date().toISOString()));
    await env.http.get('/contoso-secret').expect(200);
  });

  it('does not publish a Pre-Active key', async () => {
    await env.admin.create('not-yet', { state: 'pre-active' });
    await env.http.get('/not-yet').expect(404);
  });

  it('carries a request id: the caller\'s when well-formed, a new one otherwise', async () => {
    const mine = await env.http.get('/contoso-secret').set('x-request-id', 'abc-123').expect(200);
    assert.equal(mine.headers['x-request-id'], 'abc-123');
    const forged = await env.http.get('/contoso-secret').set('x-request-id', 'a b\tc'.repeat(3)).expect(200);
    assert.match(forged.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a JSON 404 and never reveals Express', async () => {
    const res = await env.http.put('/contoso-secret').expect(404);
    assert.deepEqual(res.body, { error: 'not_found', message: 'No such route.' });
    assert.equal(res.headers['x-powered-by'], undefined);
  });
});

describe('§1 kid base URL settings', () => {
  it('uses DKE_PUBLIC_BASE_URL and DKE_BASE_PATH when set', async () => {
    const env = await startTestEnv({ settings: { DKE_PUBLIC_BASE_URL: 'https://dke.contoso.com/', DKE_BASE_PATH: '/dke' } });
    try {
      const { keyId } = await env.admin.create('k1');
      const res = await env.http.get('/dke/k1').set('Host', 'other').expect(200);
      assert.equal(res.body.key.kid, `https://dke.contoso.com/dke/k1/${keyId}`);
      await env.http.get('/k1').expect(404);
    } finally {
      await env.close();
    }
  });

  it('honours X-Forwarded-Proto and -Host with DKE_TRUST_PROXY, and leaves cache out when DKE_PUBLIC_KEY_CACHE_HOURS=0', async () => {
    const env = await startTestEnv({ settings: { DKE_TRUST_PROXY: '1', DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},https://dke.contoso.com`, DKE_PUBLIC_KEY_CACHE_HOURS: '0' } });
    try {
      const { keyId } = await env.admin.create('k2');
      const res = await env.http.get('/k2').set('X-Forwarded-Proto', 'https').set('X-Forwarded-Host', 'dke.contoso.com').expect(200);
      assert.equal(res.body.key.kid, `https://dke.contoso.com/k2/${keyId}`);
      assert.deepEqual(Object.keys(res.body), ['key']);
    } finally {
      await env.close();
    }
  });
});
