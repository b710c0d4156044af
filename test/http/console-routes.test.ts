// Contract §7 (console) on the admin listener, and the admin routes beyond §6 that the console reads: the page and
// its assets under a strict CSP, the sign-in settings (authority from the cloud and tenant), the 30-day decrypt
// activity drawn from the audit trail, the impact preview that changes nothing, and readiness.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { parseSettings } from '../../src/config/config.js';
import { permanentEffectSentence } from '../../src/keys/lifecycle.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, type TestEnv } from '../support/test-env.js';

describe('§7 console routes on the admin listener', () => {
  let env: TestEnv;
  let admin: ReturnType<typeof supertest>;
  let auditor: string;
  before(async () => {
    env = await startTestEnv();
    admin = supertest(env.service.adminApp);
    auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'auditor@contoso.dev', roles: ['DKE.Auditor'] });
  });
  after(() => env?.close());

  it('serves the built page at /admin/ with a CSP that allows no inline script, and its hashed assets', async () => {
    const page = await admin.get('/admin/').expect(200).expect('content-type', /html/);
    const csp = page.headers['content-security-policy'] as string;
    assert.equal(
      csp,
      `default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self' https://login.microsoftonline.com;base-uri 'none';form-action 'self';frame-ancestors 'none';object-src 'none'`,
    );
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
    const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    assert.ok(script, page.text);
    const asset = await admin.get(script).expect(200).expect('content-type', /javascript/);
    assert.match(asset.headers['cache-control'] as string, /immutable/);
    await admin.get('/admin').expect(301).expect('location', '/admin/');
  });

  it('tells the page its sign-in settings: the tenant authority of the configured cloud, the client id, the admin audience', async () => {
    const res = await admin.get('/admin/config.json').expect(200);
    assert.deepEqual(res.body, {
      clientId: null,
      authority: `https://login.microsoftonline.com/${env.issuer.tenantId}`,
      authorizeUrl: `https://login.microsoftonline.com/${env.issuer.tenantId}/oauth2/v2.0/authorize`,
      tokenUrl: `https://login.microsoftonline.com/${env.issuer.tenantId}/oauth2/v2.0/token`,
      scope: `${TEST_ADMIN_AUDIENCE}/.default`,
      labelBaseUrl: TEST_AUDIENCE,
    });
    const usgov = parseSettings({ DKE_AUTH_CLOUD: 'usgov', DKE_AUTH_TENANT_IDS: 'ABC', DKE_ADMIN_CLIENT_ID: 'console-app' }).consoleSignIn;
    assert.deepEqual(usgov, { clientId: 'console-app', authority: 'https://login.microsoftonline.us/abc' });
    assert.equal(parseSettings({ DKE_AUTH_CLOUD: 'china', DKE_AUTH_TENANT_IDS: 't1,t2' }).consoleSignIn.authority, 'https://login.chinacloudapi.cn/t1');
  });

  it('GET /admin/api/keys/{name}/activity: 30 UTC days of decrypts, allowed and refused, from the audit trail', async () => {
    const { keyId } = await env.admin.create('charted', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
    for (const upn of ['alice@contoso.dev', 'alice@contoso.dev', 'alice@contoso.dev', 'eve@contoso.dev']) await decryptAs(env, upn, 'charted', keyId, Buffer.from('x'));
    const res = await admin.get('/admin/api/keys/charted/activity').set('Authorization', `Bearer ${auditor}`).expect(200);
    assert.equal(res.body.name, 'charted');
    assert.equal(res.body.days.length, 30);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(res.body.days.at(-1), { date: today, allowed: 3, refused: 1 });
    assert.deepEqual(res.body.days.slice(0, 29).filter((d: { allowed: number; refused: number }) => d.allowed + d.refused > 0), []);
    assert.equal(res.body.days[0].date, new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10));
    await admin.get('/admin/api/keys/nope/activity').set('Authorization', `Bearer ${auditor}`).expect(404);
    await admin.get('/admin/api/keys/charted/activity').expect(401);
  });

  it('GET …/versions/{keyId}/impact previews a permanent step and changes nothing; other targets are refused', async () => {
    const { keyId } = await env.admin.create('previewed', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
    await decryptAs(env, 'alice@contoso.dev', 'previewed', keyId, Buffer.from('x'));
    const impact = (to: string) => admin.get(`/admin/api/keys/previewed/versions/${keyId}/impact?to=${to}`).set('Authorization', `Bearer ${auditor}`);
    const res = await impact('deactivated').expect(200);
    assert.deepEqual({ ...res.body, usage: { ...res.body.usage, lastUse: typeof res.body.usage.lastUse } }, {
      name: 'previewed',
      keyId,
      from: 'active',
      to: 'deactivated',
      effect: res.body.effect,
      windowDays: 30,
      usage: { decrypts: 1, distinctUsers: 1, lastUse: 'string' },
    });
    assert.equal(res.body.effect, permanentEffectSentence('active', 'deactivated'));
    assert.equal((await impact('destroyed').expect(200)).body.to, 'destroyed');
    assert.equal((await impact('compromised').expect(200)).body.to, 'compromised');
    for (const to of ['active', 'pre-active', '']) {
      assert.deepEqual((await impact(to).expect(400)).body, { error: 'invalid_request', message: '"to" must be deactivated, compromised or destroyed.' });
    }
    const version = (await env.admin.show('previewed')).versions[0]!;
    assert.deepEqual([version.state, version.enabled, version.deletion], ['active', true, undefined]);
  });

  it('GET /admin/api/health: the readiness report, for either role', async () => {
    const res = await admin.get('/admin/api/health').set('Authorization', `Bearer ${auditor}`).expect(200);
    assert.equal(res.body.ready, true);
    assert.deepEqual(Object.keys(res.body.checks).sort(), Object.keys(env.service.readiness.report.checks).sort());
    assert.equal(res.body.checks.hsm.status, 'pass');
    await admin.get('/admin/api/health').expect(401);
  });
});
