// Contract §6 and §9: `GET /admin/api/vaults` lists the one vault `default` (the DKE_PKCS11_* token) with its
// connection, and `POST /admin/api/vaults/{name}/probe` answers the probe's report (as `dke hsm probe --json`) for
// DKE.Auditor, run on the service's own token beside its session pool, which it leaves as it was; another vault
// name is 404; a PIN the token refused the service is not sent again. Real NSS token, real signed tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { findSoftokn } from '../../src/config/embedded-token.js';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import { PROBE_CHECK_NAMES, PROBE_LABEL_PREFIX } from '../../src/hsm/probe-checks.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

/** Labels of the objects in the service's token that the probe would have made. */
async function probeObjects(env: TestEnv): Promise<string[]> {
  const { connection, token } = env.service.hsm;
  return connection.withSession(async (session) => {
    token.module.C_FindObjectsInit(session, []);
    const handles = token.module.C_FindObjects(session, 1000);
    token.module.C_FindObjectsFinal(session);
    return handles
      .map((handle) => (token.module.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_LABEL }])[0]?.value as Buffer | undefined)?.toString('utf8') ?? '')
      .filter((label) => label.startsWith(PROBE_LABEL_PREFIX));
  });
}

describe('§9 admin API: GET /admin/api/vaults and POST /admin/api/vaults/{name}/probe', () => {
  let env: TestEnv;
  let admin: ReturnType<typeof supertest>;
  let auditor: string;
  let keyId: string;

  before(async () => {
    env = await startTestEnv();
    admin = supertest(env.service.adminApp);
    auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    keyId = (await env.admin.create('vault-key', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
  });
  after(() => env?.close());

  it('lists the one vault default: its module, token, status active, sessions and the connection (DKE.Auditor)', async () => {
    const res = await admin.get('/admin/api/vaults').set('Authorization', `Bearer ${auditor}`).expect(200);
    const { since } = env.service.hsm.connection.status();
    assert.deepEqual(res.body, {
      default: 'default',
      vaults: [
        {
          name: 'default',
          library: findSoftokn(),
          tokenLabel: 'NSS Certificate DB',
          status: 'active',
          sessions: env.service.hsm.pool.size,
          sessionsInUse: 0,
          connection: { state: 'up', since, detail: null, recoveries: 0 },
        },
      ],
    });
    assert.ok(env.service.hsm.pool.size >= 1);
  });

  it('no token is 401, a token without an app role 403 forbidden', async () => {
    await admin.get('/admin/api/vaults').expect(401);
    await admin.post('/admin/api/vaults/default/probe').expect(401);
    const noRole = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE });
    const res = await admin.post('/admin/api/vaults/default/probe').set('Authorization', `Bearer ${noRole}`).expect(403);
    assert.equal(res.body.error, 'forbidden');
  });

  it('probes the service\'s token: every check, the service\'s login seen to hold for new sessions, the pool and keys as they were', async () => {
    const poolBefore = env.service.hsm.pool.size;
    const res = await admin.post('/admin/api/vaults/default/probe').set('Authorization', `Bearer ${auditor}`).expect(200);
    assert.deepEqual(Object.keys(res.body), ['verdict', 'checks']);
    assert.deepEqual(res.body.checks.map((c: { name: string }) => c.name), [...PROBE_CHECK_NAMES]);
    assert.deepEqual(
      res.body.checks.filter((c: { status: string }) => c.status !== 'pass').map((c: { name: string; status: string }) => `${c.name}:${c.status}`),
      ['data-objects:warn'],
      JSON.stringify(res.body, null, 2),
    );
    assert.equal(res.body.verdict, 'warn');
    const detail = (name: string): string => res.body.checks.find((c: { name: string }) => c.name === name).detail;
    assert.equal(detail('login'), "The service's login holds for new sessions too: one login per process (PKCS#11 §5.6), as the service expects.");
    assert.equal(detail('sessions'), `The service holds ${poolBefore} sessions on this token and the probe opened 2 more; the token states no session limit.`);
    assert.equal(env.service.hsm.pool.size, poolBefore);
    assert.deepEqual(await probeObjects(env), []);
    assert.equal((await decryptAs(env, USER, 'vault-key', keyId, Buffer.from('still opens'))).status, 200);
    await env.service.readiness.check();
    assert.equal(env.service.readiness.report.ready, true, JSON.stringify(env.service.readiness.report));
  });

  it('two probes asked at once share one run and one report', async () => {
    const [first, second] = await Promise.all(
      [0, 1].map(() => admin.post('/admin/api/vaults/default/probe').set('Authorization', `Bearer ${auditor}`)),
    );
    assert.equal(first!.status, 200);
    assert.deepEqual(second!.body, first!.body);
  });

  it('another vault name is 404 not_found with the sentence naming the vaults this instance has', async () => {
    const res = await admin.post('/admin/api/vaults/eu/probe').set('Authorization', `Bearer ${auditor}`).expect(404);
    assert.deepEqual(res.body, {
      error: 'not_found',
      message: 'There is no vault "eu"; this instance has "default".',
    });
  });
});

describe('§9 admin API: the probe of a token that refused the service\'s PIN', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ settings: { DKE_PKCS11_PIN_FILE: '', DKE_PKCS11_PIN: 'not-the-pin' } });
  });
  after(() => env?.close());

  it('fails the login without sending the PIN again, and tries nothing that needs it', async () => {
    const auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const vaults = await supertest(env.service.adminApp).get('/admin/api/vaults').set('Authorization', `Bearer ${auditor}`).expect(200);
    assert.equal(vaults.body.vaults[0].connection.state, 'misconfigured');
    const res = await supertest(env.service.adminApp).post('/admin/api/vaults/default/probe').set('Authorization', `Bearer ${auditor}`).expect(200);
    assert.equal(res.body.verdict, 'fail');
    const login = res.body.checks.find((c: { name: string }) => c.name === 'login');
    assert.match(login.detail, /^The service's own login failed \(The token refused the PIN \(CKR_PIN_INCORRECT\).*\), so the probe does not try it again; correct the configuration and restart the service\.$/);
    assert.deepEqual(res.body.checks.find((c: { name: string }) => c.name === 'production-template'), { name: 'production-template', status: 'fail', detail: 'Not tried: the login failed.' });
    assert.doesNotMatch(JSON.stringify(res.body), /not-the-pin/);
  });
});
