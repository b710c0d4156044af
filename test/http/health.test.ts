/**
 * Contract §1 `GET /health/live` and `GET /health/ready` (src/http/health-routes.ts): the probe answers and the
 * named checks; issuer-key refresh failures are a warning while cached keys verify.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('§1 /health', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
    await env.admin.create('probe-key');
    await env.service.readiness.check();
  });
  after(() => env.close());

  it('GET /health/live answers 200 while the process serves', async () => {
    const res = await env.http.get('/health/live').expect(200);
    assert.deepEqual(res.body, { status: 'live' });
  });

  it('GET /health/ready names each check and passes with the token logged in and the self-test good', async () => {
    const res = await env.http.get('/health/ready').expect(200);
    assert.equal(res.body.status, 'ready');
    assert.deepEqual(Object.keys(res.body.checks).sort(), ['hsm', 'issuerKeys', 'keyRecords', 'selfTest', 'store', 'tokenRecords']);
    for (const check of Object.values(res.body.checks) as { status: string }[]) assert.equal(check.status, 'pass');
  });

  it('GET /health/ready stays 200 with a warning when only the refresh of the issuer keys fails (cached keys work)', async () => {
    env.issuer.setAvailable(false);
    try {
      await env.service.keySource.refresh();
      await env.service.readiness.check();
      const res = await env.http.get('/health/ready').expect(200);
      assert.equal(res.body.checks.issuerKeys.status, 'warn');
      assert.match(res.body.checks.issuerKeys.detail, /refresh of the issuer keys failed/);
    } finally {
      env.issuer.setAvailable(true);
      await env.service.keySource.refresh();
      await env.service.readiness.check();
    }
    const back = await env.http.get('/health/ready').expect(200);
    assert.equal(back.body.checks.issuerKeys.status, 'pass');
  });

  it('GET /health/ready answers 503 while no issuer key was ever loaded', async () => {
    const issuerDown = await startTestEnv({ settings: { DKE_AUTH_METADATA_URL: 'http://127.0.0.1:9/nothing/.well-known/openid-configuration' } });
    try {
      const res = await issuerDown.http.get('/health/ready').expect(503);
      assert.equal(res.body.checks.issuerKeys.status, 'fail');
      assert.match(res.body.checks.issuerKeys.detail, /keys are not loaded/);
    } finally {
      await issuerDown.close();
    }
  });
});
