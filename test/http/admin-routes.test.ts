// Contract §6 (admin API): every route with each role (the emergency block's own effects: test/cli/emergency-commands) (no token 401, no role 403 `forbidden`, DKE.Auditor reads,
// DKE.Admin reads and changes, user and app-only tokens), error bodies as on the DKE port, 409 `conflict` for what the
// state table refuses, 404 for unknown keys and routes, 400/413/415 for bad bodies, the caller's oid and name in the
// audit trail, and changes that the DKE port enforces on its next request (§3 "takes effect on the next request").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { cachedPublicKeyNotice } from '../../src/app/cached-public-key-notice.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, type TestEnv } from '../support/test-env.js';

const ADMIN_OID = 'a0000000-0000-4000-8000-0000000000a1';
const APPROVER_OID = 'a0000000-0000-4000-8000-0000000000a2';
const AUDITOR_OID = 'a0000000-0000-4000-8000-0000000000b1';
const APP_OID = 'a0000000-0000-4000-8000-0000000000c1';
const APP_ID = '11111111-2222-4333-8444-555555555555';
const USER = 'alice@contoso.dev';

type Who = 'none' | 'norole' | 'auditor' | 'admin';

describe('§6 admin API: routes, roles and answers (real tokens with roles, real NSS token)', () => {
  let env: TestEnv;
  let admin: ReturnType<typeof supertest>;
  const tokens = {} as Record<Exclude<Who, 'none'> | 'app' | 'approver' | 'dkeUser', string>;

  before(async () => {
    env = await startTestEnv();
    admin = supertest(env.service.adminApp);
    const issue = (upn: string, oid: string, roles?: string[]) => env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn, oid, ...(roles ? { roles } : {}) });
    tokens.admin = await issue('admin@contoso.dev', ADMIN_OID, ['DKE.Admin']);
    tokens.approver = await issue('approver@contoso.dev', APPROVER_OID, ['DKE.Admin']);
    tokens.auditor = await issue('auditor@contoso.dev', AUDITOR_OID, ['DKE.Auditor']);
    tokens.norole = await issue('nobody@contoso.dev', 'a0000000-0000-4000-8000-0000000000d1');
    tokens.dkeUser = await issue(USER, 'a0000000-0000-4000-8000-0000000000e1', ['Some.Other.Role']);
    // An app-only (client credentials) token as Entra issues it: no user, no scp, idtyp app, the app's id in appid.
    tokens.app = await env.issuer.issueToken({
      audience: TEST_ADMIN_AUDIENCE,
      oid: APP_OID,
      roles: ['DKE.Admin'],
      extraClaims: { upn: undefined, unique_name: undefined, scp: undefined, idtyp: 'app', appid: APP_ID },
    });
  });
  after(() => env?.close());

  const as = (who: Who | 'app' | 'approver' | 'dkeUser', req: supertest.Test): supertest.Test => (who === 'none' ? req : req.set('Authorization', `Bearer ${tokens[who]}`));

  it('GET /admin/api/keys without a token is 401 with the JSON body and the challenge naming the admin audience', async () => {
    const res = await admin.get('/admin/api/keys');
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { error: 'invalid_token', message: 'A valid bearer token is required.' });
    assert.match(res.headers['www-authenticate'] ?? '', /^Bearer resource="api:\/\/dke-test-admin"/);
  });

  it('each route with each role: none 401, no role 403 forbidden, Auditor reads only, Admin everything', async () => {
    const created = await env.admin.create('roles-key', { allow: { users: [USER], groups: [], roles: [] } });
    const k = created.keyId;
    /** One concrete call per route; `read` routes need DKE.Auditor, the others DKE.Admin. */
    let madeKeyId = '';
    const calls: { need: 'read' | 'change'; call: (who: Who) => supertest.Test; expect: number }[] = [
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/keys')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/keys/roles-key')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/keys/roles-key/attestation')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/audit?limit=5')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/audit/verify')), expect: 200 },
      // Beyond §6, for the console (§7): read-only, so either role.
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/keys/roles-key/activity')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get(`/admin/api/keys/roles-key/versions/${k}/impact?to=compromised`)), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/health')), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.post('/admin/api/keys').send({ name: 'made-by-api' })), expect: 201 },
      { need: 'change', call: (w) => as(w, admin.post('/admin/api/keys/roles-key/rotate')), expect: 201 },
      { need: 'change', call: (w) => as(w, admin.post(`/admin/api/keys/roles-key/versions/${k}/disable`)), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.post(`/admin/api/keys/roles-key/versions/${k}/enable`)), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.put('/admin/api/keys/roles-key/grants').send({ group: 'f0000000-0000-4000-8000-000000000001' })), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.delete('/admin/api/keys/roles-key/grants').send({ group: 'f0000000-0000-4000-8000-000000000001' })), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.post(`/admin/api/keys/roles-key/versions/${k}/state`).send({ state: 'deactivated' })), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.delete(`/admin/api/keys/made-by-api/versions/${madeKeyId}`)), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.post(`/admin/api/keys/made-by-api/versions/${madeKeyId}/cancel-deletion`)), expect: 409 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/emergency-block')), expect: 200 },
      { need: 'read', call: (w) => as(w, admin.get('/admin/api/approvals')), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.put('/admin/api/keys/roles-key/rotation').send({ every: '90d' })), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.delete('/admin/api/keys/roles-key/rotation')), expect: 200 },
      // No proposal by that id: the role is checked first (401, 403), then the id (404).
      { need: 'change', call: (w) => as(w, admin.post('/admin/api/approvals/none/approve')), expect: 404 },
      { need: 'change', call: (w) => as(w, admin.post('/admin/api/approvals/none/reject')), expect: 404 },
      { need: 'change', call: (w) => as(w, admin.put('/admin/api/emergency-block')), expect: 200 },
      { need: 'change', call: (w) => as(w, admin.delete('/admin/api/emergency-block')), expect: 200 },
    ];
    for (const { need, call, expect } of calls) {
      const label = call('none').url;
      assert.equal((await (call('none'))).status, 401, `${label} without a token`);
      const noRole = await (call('norole'));
      assert.equal(noRole.status, 403, `${label} without a role`);
      assert.deepEqual(noRole.body, { error: 'forbidden', message: need === 'read' ? 'This needs the app role DKE.Auditor or DKE.Admin.' : 'This needs the app role DKE.Admin.' });
      const auditor = await (call('auditor'));
      assert.equal(auditor.status, need === 'read' ? expect : 403, `${label} as auditor: ${JSON.stringify(auditor.body)}`);
      if (need === 'read') continue;
      const byAdmin = await (call('admin'));
      assert.equal(byAdmin.status, expect, `${label} as admin: ${JSON.stringify(byAdmin.body)}`);
      if (label.endsWith('/admin/api/keys')) madeKeyId = byAdmin.body.keyId;
    }
    // What the Admin calls did is what `dke keys show --json` says now.
    const shown = await as('auditor', admin.get('/admin/api/keys/roles-key')).expect(200);
    assert.deepEqual(shown.body.versions.map((v: { state: string; enabled: boolean; published: boolean }) => [v.state, v.enabled, v.published]), [
      ['deactivated', true, false],
      ['active', true, true],
    ]);
    const made = await as('auditor', admin.get('/admin/api/keys/made-by-api')).expect(200);
    assert.equal(made.body.versions[0].state, 'destroyed');
  });

  it('an app-only token with DKE.Admin is accepted and named by its application id in the audit trail', async () => {
    const res = await as('app', admin.post('/admin/api/keys').send({ name: 'by-app', state: 'pre-active' }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['enabled', 'keyId', 'name', 'state']);
    assert.equal(res.body.state, 'pre-active');
    const entry = (await env.service.audit.list()).filter((e) => e.action === 'create' && e.keyName === 'by-app').at(-1);
    assert.equal(entry?.actor, `${APP_OID} (app:${APP_ID})`);
  });

  it('a change through the API is audited with the caller\'s oid and name, and the DKE port enforces it on its next request', async () => {
    const { keyId } = await env.admin.create('enforced', { allow: { users: [USER], groups: [], roles: [] } });
    assert.equal((await decryptAs(env, USER, 'enforced', keyId, Buffer.from('a'))).status, 200);
    const disabled = await as('admin', admin.post(`/admin/api/keys/enforced/versions/${keyId}/disable`)).expect(200);
    // Contract §4: the API, as the CLI, says that cached public keys keep protecting (DKE_PUBLIC_KEY_CACHE_HOURS is 24 here).
    assert.deepEqual(disabled.body, { name: 'enforced', keyId, state: 'active', enabled: false, notice: cachedPublicKeyNotice('enforced', keyId, 24) });
    assert.equal((await decryptAs(env, USER, 'enforced', keyId, Buffer.from('b'))).status, 403);
    await env.http.get('/enforced').expect(404);
    const entry = (await env.service.audit.list()).filter((e) => e.action === 'disable' && e.keyName === 'enforced').at(-1);
    assert.equal(entry?.actor, `${ADMIN_OID} (admin@contoso.dev)`);
    assert.equal(entry?.outcome, 'succeeded');
    // The audit read is filtered by key and limited to the newest entries, newest first.
    const audit = await as('auditor', admin.get('/admin/api/audit?key=enforced&limit=2')).expect(200);
    assert.equal(audit.body.length, 2);
    assert.ok(audit.body.every((e: { keyName: string }) => e.keyName === 'enforced'));
    assert.deepEqual(audit.body.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`), ['decrypt denied', 'disable succeeded']);
  });

  it('a transition the state table refuses is 409 conflict, with the sentence the CLI prints; audited as refused', async () => {
    const { keyId } = await env.admin.create('final', {});
    await as('admin', admin.post(`/admin/api/keys/final/versions/${keyId}/state`).send({ state: 'compromised' })).expect(200);
    const res = await as('admin', admin.post(`/admin/api/keys/final/versions/${keyId}/state`).send({ state: 'active' }));
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { error: 'conflict', message: 'A version in state Compromised cannot become Active; allowed from Compromised: none, it is final.' });
    const del = await as('admin', admin.delete(`/admin/api/keys/final/versions/${keyId}`));
    assert.equal(del.status, 409);
    assert.equal(del.body.message, `Only Pre-Active and Active versions can be deleted; version ${keyId} is Compromised.`);
    await as('admin', admin.post('/admin/api/keys').send({ name: 'final' })).expect(409);
    const refused = (await env.service.audit.list()).filter((e) => e.keyName === 'final' && e.outcome === 'refused');
    assert.ok(refused.some((e) => e.action === 'set-state' && e.actor === `${ADMIN_OID} (admin@contoso.dev)`));
  });

  it('unknown keys, versions and routes are 404 JSON; bad bodies 400; never a 500 for what a caller sent', async () => {
    const { keyId } = await env.admin.create('inputs', {});
    assert.deepEqual((await as('auditor', admin.get('/admin/api/keys/nope'))).body, { error: 'not_found', message: 'There is no key named "nope".' });
    await as('admin', admin.post('/admin/api/keys/nope/rotate')).expect(404);
    const noVersion = await as('admin', admin.post('/admin/api/keys/inputs/versions/zzz/disable'));
    assert.equal(noVersion.status, 404);
    assert.equal(noVersion.body.message, 'The key "inputs" has no version zzz.');
    assert.deepEqual((await as('admin', admin.get('/admin/api/nothing-here'))).body, { error: 'not_found', message: 'No such route.' });
    await admin.get('/admin/api/nothing-here').expect(404);
    const bad = async (req: supertest.Test, status: number, error: string) => {
      const res = await as('admin', req);
      assert.equal(res.status, status, `${req.method} ${req.url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, error);
    };
    await bad(admin.post('/admin/api/keys').set('Content-Type', 'application/json').send('{"name": '), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send({}), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send([1]), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send({ name: 42 }), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send({ name: 'x1', state: 'destroyed' }), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send({ name: 'x2', allow: { users: 'alice' } }), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').send({ name: 'health' }), 400, 'refused');
    await bad(admin.post(`/admin/api/keys/inputs/versions/${keyId}/state`).send({ state: 'sideways' }), 400, 'invalid_request');
    await bad(admin.put('/admin/api/keys/inputs/grants').send({ user: 'a@b.c', group: 'g' }), 400, 'invalid_request');
    await bad(admin.put('/admin/api/keys/inputs/grants').send({ user: 'guest_x.com#EXT#@contoso.dev' }), 400, 'refused');
    await bad(admin.get('/admin/api/audit?limit=0'), 400, 'invalid_request');
    await bad(admin.get('/admin/api/audit?since=yesterday'), 400, 'refused');
    await bad(admin.get('/admin/api/audit?kind=admin&kind=decrypt'), 400, 'invalid_request');
    await bad(admin.post('/admin/api/keys').set('Content-Type', 'text/plain').send('name=x'), 415, 'unsupported_media_type');
    await bad(admin.post('/admin/api/keys').set('Content-Type', 'application/json').send(JSON.stringify({ name: 'big', pad: 'x'.repeat(70 * 1024) })), 413, 'payload_too_large');
    // 415 and 413 come before authentication, as on the DKE port.
    assert.equal((await admin.post('/admin/api/keys').set('Content-Type', 'text/plain').send('x')).status, 415);
  });

  it('a decrypt token (scope, no admin role) is 403 on the admin API; a token for another audience is 401', async () => {
    await as('dkeUser', admin.get('/admin/api/keys')).expect(403);
    const other = await env.issuer.issueToken({ audience: 'https://elsewhere.example', roles: ['DKE.Admin'] });
    await admin.get('/admin/api/keys').set('Authorization', `Bearer ${other}`).expect(401);
  });

  it('the admin roles do not open the DKE port: an app-only DKE.Admin token still cannot decrypt', async () => {
    const { keyId } = await env.admin.create('app-cannot-decrypt', { allow: { users: [], groups: [], roles: ['DKE.Admin'] } });
    const res = await env.http.post(`/app-cannot-decrypt/${keyId}/decrypt`).set('Content-Type', 'application/json').set('Authorization', `Bearer ${tokens.app}`).send('{}');
    assert.equal(res.status, 401);
    assert.ok(tokens.approver);
  });
});

describe('§6 admin API: its own audience and the failed-authentication limit', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ settings: { DKE_ADMIN_AUDIENCE: 'api://dke-admin', DKE_RATE_LIMIT_MAX_FAILURES: '3' } });
  });
  after(() => env?.close());

  it('DKE_ADMIN_AUDIENCE replaces the DKE audiences on the admin API only; failed tokens are limited (429 with the challenge)', async () => {
    const admin = supertest(env.service.adminApp);
    const good = await env.issuer.issueToken({ audience: 'api://dke-admin', roles: ['DKE.Auditor'] });
    const dkeAudience = await env.issuer.issueToken({ audience: TEST_AUDIENCE, roles: ['DKE.Admin'] });
    await admin.get('/admin/api/keys').set('Authorization', `Bearer ${good}`).expect(200);
    const wrong = await admin.get('/admin/api/keys').set('Authorization', `Bearer ${dkeAudience}`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers['www-authenticate'] ?? '', /resource="api:\/\/dke-admin"/);
    for (let i = 0; i < 2; i += 1) await admin.get('/admin/api/keys').set('Authorization', 'Bearer not.a.token').expect(401);
    const limited = await admin.get('/admin/api/keys').set('Authorization', 'Bearer not.a.token');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error, 'rate_limited');
    assert.ok(limited.headers['www-authenticate']);
    // A valid token is never limited.
    await admin.get('/admin/api/keys').set('Authorization', `Bearer ${good}`).expect(200);
  });
});
