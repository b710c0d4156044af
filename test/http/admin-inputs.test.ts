/**
 * Contract §6 and §10 ("Identifiers are checked"), issue 26 "values nobody checks", through the admin API with real
 * signed tokens (src/keys/admin-inputs.ts, the one module the CLI uses too: test/cli/grant-options.test.ts): group
 * ids are GUIDs, user entries an oid or a UPN-shaped name, role names a strict shape, rotation periods not below the
 * minimum, an admin's `oid` a canonical GUID, `idp` compared as a whole issuer URL, and `Cache-Control: no-store` on
 * every admin answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const ADMIN_OID = 'a0000000-0000-4000-8000-0000000026a1';
const GROUP = '6f1e0000-0000-4000-8000-00000000abcd';
const USER = 'alice@contoso.dev';

describe('issue 26: what comes in through the admin API is checked', () => {
  let env: TestEnv;
  let api: ReturnType<typeof supertest>;
  let adminToken: string;

  before(async () => {
    env = await startTestEnv();
    api = supertest(env.service.adminApp);
    adminToken = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID, roles: ['DKE.Admin'] });
    await env.admin.create('checked', { allow: { users: [USER], groups: [], roles: [] } });
  });
  after(() => env?.close());

  const asAdmin = (req: supertest.Test): supertest.Test => req.set('Authorization', `Bearer ${adminToken}`);
  const refused = async (req: supertest.Test, message: string | RegExp): Promise<void> => {
    const res = await asAdmin(req);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'refused');
    if (typeof message === 'string') assert.equal(res.body.message, message);
    else assert.match(res.body.message, message);
  };

  it('a group display name is refused with a sentence saying to use the group\'s object id; a GUID is granted', async () => {
    await refused(
      api.put('/admin/api/keys/checked/grants').send({ group: 'Finance-Team' }),
      '"Finance-Team" is not a group object id: use the group\'s object id (a GUID, shown in the Entra admin center under Groups), which is what tokens carry in their groups claim.',
    );
    await refused(api.post('/admin/api/keys').send({ name: 'by-name', allow: { users: [], groups: ['Finance-Team'], roles: [] } }), /use the group's object id \(a GUID/);
    await asAdmin(api.get('/admin/api/keys/by-name')).expect(404);
    await asAdmin(api.put('/admin/api/keys/checked/grants').send({ group: GROUP.toUpperCase() })).expect(200);
    assert.deepEqual((await env.admin.show('checked')).allow.groups, [GROUP]);
  });

  it('user entries: a GUID oid or local@domain.tld, never <, >, NUL, spaces or control characters', async () => {
    for (const user of ['eve<script>@contoso.dev', 'eve@contoso.dev>', 'eve\u0000@contoso.dev', 'eve smith@contoso.dev', 'eve@contoso', 'eve@contoso.dev\u0007', '<eve@contoso.dev>', 'eve@@contoso.dev']) {
      await refused(api.put('/admin/api/keys/checked/grants').send({ user }), /is neither an object id \(oid, a GUID\) nor a user principal name \(name@domain\)\.$/);
    }
    // The refusal shows the value with its control characters escaped, never raw.
    const res = await asAdmin(api.put('/admin/api/keys/checked/grants').send({ user: 'eve\u0000@contoso.dev' }));
    assert.equal(res.body.message, '"eve\\u0000@contoso.dev" is neither an object id (oid, a GUID) nor a user principal name (name@domain).');
    for (const user of ['bob@contoso.dev', "o'brien.x-y_z@sub.contoso.dev", '5a6b7c8d-0000-4000-8000-00000000609e']) {
      await asAdmin(api.put('/admin/api/keys/checked/grants').send({ user })).expect(200);
    }
    const users = (await env.admin.show('checked')).allow.users;
    assert.ok(!users.some((u) => /[<>\s\u0000]/.test(u)), JSON.stringify(users));
  });

  it('role names: letters, digits, ".", "_", "-", at most 120 characters', async () => {
    for (const role of ['DKE Admin', 'DKE.Decrypt\u0000', '.hidden', 'x'.repeat(121), 'räksmörgås', 'a/b']) {
      await refused(api.put('/admin/api/keys/checked/grants').send({ role }), /is not an app role value: use 1 to 120 letters, digits, "\.", "_" or "-", starting with a letter or digit/);
    }
    await asAdmin(api.put('/admin/api/keys/checked/grants').send({ role: 'DKE.Decrypt_v2-x' })).expect(200);
    await asAdmin(api.put('/admin/api/keys/checked/grants').send({ role: 'x'.repeat(120) })).expect(200);
  });

  it('an entry stored before the checks can still be revoked', async () => {
    await env.service.store.change((tx) => tx.grant('checked', 'groups', 'Legacy-Name'));
    assert.ok((await env.admin.show('checked')).allow.groups.includes('legacy-name'));
    const res = await asAdmin(api.delete('/admin/api/keys/checked/grants').send({ group: 'Legacy-Name' })).expect(200);
    assert.equal(res.body.changed, true);
  });

  it('PUT rotation {"every":"1s"} is 400 with a sentence naming the minimum; 1d is the shortest accepted', async () => {
    await refused(
      api.put('/admin/api/keys/checked/rotation').send({ every: '1s' }),
      'A rotation period of "1s" is shorter than the minimum of 1d: each rotation makes a new key pair in the HSM. Use 1d or more, such as 90d.',
    );
    await refused(api.put('/admin/api/keys/checked/rotation').send({ every: '23h' }), /shorter than the minimum of 1d/);
    assert.equal((await env.admin.show('checked')).rotation, undefined);
    const set = await asAdmin(api.put('/admin/api/keys/checked/rotation').send({ every: '1d' })).expect(200);
    assert.equal(set.body.rotation.every, '1d');
  });

  it('an admin token whose oid is not a canonical GUID (braced, padded, not a GUID) is 401 with a sentence', async () => {
    for (const oid of [`{${ADMIN_OID}}`, ` ${ADMIN_OID}`, `${ADMIN_OID} `, `${ADMIN_OID}0`, 'admin']) {
      const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid, roles: ['DKE.Admin'] });
      const res = await api.get('/admin/api/keys').set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 401, oid);
      assert.deepEqual(res.body, { error: 'invalid_token', message: "The token's oid is not an Entra object id (a GUID), so it is not accepted as an admin." });
    }
    // Entra's own form, in any letter case, is the same admin.
    const upper = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID.toUpperCase(), roles: ['DKE.Admin'] });
    await api.get('/admin/api/keys').set('Authorization', `Bearer ${upper}`).expect(200);
  });

  it('idp is compared as a whole issuer URL: a host that only puts the tenant id first in its path is no home tenant', async () => {
    const { keyId } = await env.admin.create('by-upn', { allow: { users: [USER], groups: [], roles: [] } });
    const value = encryptLikeOffice(await versionJwk(env, 'by-upn', keyId), Buffer.from('idp'));
    const decryptWith = async (idp: string) =>
      env.http
        .post(`/by-upn/${keyId}/decrypt`)
        .set('Content-Type', 'application/json')
        .set('Authorization', `Bearer ${await env.token({ upn: USER, extraClaims: { idp } })}`)
        .send(JSON.stringify({ alg: 'RSA-OAEP-256', value }));
    const tid = env.issuer.tenantId;
    for (const foreign of [`https://evil.example/${tid}/`, `https://sts.windows.net/${tid}/extra/`, `https://sts.windows.net.evil.example/${tid}/`]) {
      assert.equal((await decryptWith(foreign)).status, 403, foreign);
    }
    // The token's own issuer, and the tenant's other issuer form in the configured cloud, are the home tenant.
    assert.equal((await decryptWith(`https://sts.windows.net/${tid}/`)).status, 200);
    assert.equal((await decryptWith(`https://login.microsoftonline.com/${tid}/v2.0`)).status, 200);
    assert.equal((await decryptAs(env, USER, 'by-upn', keyId, Buffer.from('no idp'))).status, 200);
  });

  it('Cache-Control: no-store on every admin API answer: 200, 201, 400, 401, 403, 404, 415 and the OpenAPI document', async () => {
    const auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const answers = [
      await asAdmin(api.get('/admin/api/keys')),
      await asAdmin(api.post('/admin/api/keys').send({ name: 'no-store' })),
      await asAdmin(api.put('/admin/api/keys/checked/grants').send({ group: 'Finance-Team' })),
      await api.get('/admin/api/keys'),
      await api.post('/admin/api/keys/checked/rotate').set('Authorization', `Bearer ${auditor}`),
      await asAdmin(api.get('/admin/api/keys/none-such')),
      await api.get('/admin/api/no-such-route'),
      await api.post('/admin/api/keys').set('Content-Type', 'text/plain').send('x'),
      await api.get('/admin/api/openapi.json'),
    ];
    assert.deepEqual(answers.map((res) => res.status), [200, 201, 400, 401, 403, 404, 404, 415, 200]);
    for (const res of answers) assert.equal(res.headers['cache-control'], 'no-store', `${res.status} ${JSON.stringify(res.body)}`);
  });
});
