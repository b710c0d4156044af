/**
 * Contract §2 (DKE_ADMIN_AUDIENCE: required with DKE_ADMIN_PORT, never a DKE_AUTH_AUDIENCE value) and §6, issue 26:
 * with DKE_ADMIN_AUDIENCE unset, an admin's ordinary decrypt token (sent with every document Office opens) got 200 on
 * admin reads and 201 on rotate. Now `dke serve` refuses to start (exit 2, a sentence naming the variables) and a
 * decrypt-audience token is 401 on the admin API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { runCliAsync } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, type TestEnv } from '../support/test-env.js';

describe('issue 26: admin and decrypt credentials never mix', () => {
  let env: TestEnv;
  before(async () => {
    // No DKE_ADMIN_AUDIENCE and no DKE_ADMIN_PORT: the in-process admin API exists but must accept no token at all.
    env = await startTestEnv({ settings: { DKE_ADMIN_AUDIENCE: '' } });
    await env.admin.create('held', {});
  });
  after(() => env?.close());

  const serve = (settings: Record<string, string>) =>
    runCliAsync(['serve'], { ...env.cliEnv, DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_LOG_LEVEL: 'error', ...settings });

  it('dke serve with DKE_ADMIN_PORT and no DKE_ADMIN_AUDIENCE refuses to start: exit 2, a sentence naming both', async function () {
    this.timeout(15_000);
    const result = await serve({ DKE_ADMIN_PORT: '0', DKE_ADMIN_AUDIENCE: '' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /DKE_ADMIN_PORT is set but DKE_ADMIN_AUDIENCE is not: the admin API needs an audience of its own .* different from every DKE_AUTH_AUDIENCE value\./);
  });

  it('dke serve with DKE_ADMIN_AUDIENCE equal to a DKE_AUTH_AUDIENCE value (even with a trailing slash) refuses to start', async function () {
    this.timeout(15_000);
    const result = await serve({ DKE_ADMIN_PORT: '0', DKE_AUTH_AUDIENCE: `https://other.example,${TEST_AUDIENCE}`, DKE_ADMIN_AUDIENCE: `${TEST_ADMIN_AUDIENCE},${TEST_AUDIENCE}/` });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`DKE_ADMIN_AUDIENCE must differ from every DKE_AUTH_AUDIENCE value, and ${TEST_AUDIENCE}/ is in both: a decrypt token, sent with every document Office opens, would be an admin credential\\.`));
  });

  it('without DKE_ADMIN_AUDIENCE, a decrypt token carrying DKE.Admin is 401 on every admin route, reads and changes alike', async () => {
    const admin = supertest(env.service.adminApp);
    const decryptToken = await env.token({ upn: 'admin@contoso.dev', roles: ['DKE.Admin'] });
    for (const call of [admin.get('/admin/api/keys'), admin.post('/admin/api/keys/held/rotate'), admin.put('/admin/api/emergency-block')]) {
      const res = await call.set('Authorization', `Bearer ${decryptToken}`);
      assert.equal(res.status, 401, `${res.status} ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, { error: 'invalid_token', message: 'A valid bearer token is required.' });
    }
    assert.equal((await env.admin.show('held')).versions.length, 1, 'nothing was rotated');
    assert.equal(env.admin.emergencyBlock().blocked, false);
  });

  it('with DKE_ADMIN_AUDIENCE set, the decrypt token stays 401 on the admin API and the admin token is no decrypt token', async () => {
    const separate = await startTestEnv({ settings: { DKE_ADMIN_AUDIENCE: TEST_ADMIN_AUDIENCE } });
    try {
      const admin = supertest(separate.service.adminApp);
      const decryptToken = await separate.token({ upn: 'admin@contoso.dev', roles: ['DKE.Admin'] });
      await admin.get('/admin/api/keys').set('Authorization', `Bearer ${decryptToken}`).expect(401);
      const adminToken = await separate.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', roles: ['DKE.Admin'] });
      await admin.get('/admin/api/keys').set('Authorization', `Bearer ${adminToken}`).expect(200);
      const { keyId } = await separate.admin.create('admins-only', { allow: { users: ['admin@contoso.dev'], groups: [], roles: [] } });
      const res = await separate.http.post(`/admins-only/${keyId}/decrypt`).set('Content-Type', 'application/json').set('Authorization', `Bearer ${adminToken}`).send('{}');
      assert.equal(res.status, 401);
    } finally {
      await separate.close();
    }
  });
});
