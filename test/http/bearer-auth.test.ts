/**
 * Contract §1 decrypt, 401 with the reference's challenge headers, and §2 `DKE_AUTH_*` (src/http/bearer-auth.ts,
 * issue 3): Entra tokens as Office sends them in the Authorization header, and every malformed header refused.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import { bearerToken } from '../../src/http/bearer-auth.js';
import { listen } from '../../src/http/server.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';
import { OTHER_TENANT, compact, signed, v1Claims, v2Claims } from '../auth/entra-tokens.js';

const GROUP = '6f1e0000-0000-4000-8000-00000000abcd';
const ALICE_OID = '1b2c3d4e-0000-4000-8000-00000000a11c';
const GUEST_OID = '2c3d4e5f-0000-4000-8000-0000000000ee';
const SECOND_AUDIENCE = 'https://dke2.test.example/';
const CHALLENGE =
  `Bearer resource="${TEST_AUDIENCE}", authorization="https://login.windows.net/common/oauth2/authorize", realm="${TEST_AUDIENCE}"`;
const INVALID_TOKEN = { error: 'invalid_token', message: 'A valid bearer token is required.' };

describe('issue 3 through HTTP: Entra tokens on POST /{keyName}/{keyId}/decrypt (contract §1, §2)', () => {
  let env: TestEnv;
  let keyId: string;
  let jwk: { n: string; e: number };
  const servers: Server[] = [];

  before(async () => {
    env = await startTestEnv({
      settings: { DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},${SECOND_AUDIENCE}`, DKE_AUTH_CLOCK_SKEW_SECONDS: '60' },
    });
    ({ keyId } = await env.admin.create('finance', {
      allow: { users: ['alice@contoso.example', GUEST_OID], groups: [GROUP], roles: ['DKE.Decrypt'] },
    }));
    jwk = (await env.http.get('/finance').expect(200)).body.key;
  });
  after(async () => {
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    await env.close();
  });

  const claims = (overrides = {}) => v1Claims(env.issuer, { aud: TEST_AUDIENCE, ...overrides });
  const body = () => JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('content key')) });
  const decryptWith = (authorization: string | undefined, path = `/finance/${keyId}/decrypt`) => {
    const req = env.http.post(path).set('Content-Type', 'application/json');
    if (authorization !== undefined) req.set('Authorization', authorization);
    return req.send(body());
  };
  const assertChallenge = (res: { status: number; body: unknown; headers: Record<string, string> }, label: string) => {
    assert.equal(res.status, 401, label);
    assert.deepEqual(res.body, INVALID_TOKEN, label);
    assert.equal(res.headers['www-authenticate'], CHALLENGE, label);
  };

  it('issue 3 valid: v1 and v2 tokens decrypt; the audit has oid, upn, tenant, key name and id, outcome, reason, never the token', async () => {
    const v1 = await signed(env.issuer, claims());
    const v2 = await signed(env.issuer, v2Claims(env.issuer, { aud: TEST_AUDIENCE }));
    // Issue 18: a v2 token has no upn, and its preferred_username never decides: alice needs her oid on the list.
    await decryptWith(`Bearer ${v2}`).expect(403);
    await env.admin.grant('finance', 'users', ALICE_OID);
    for (const token of [v1, v2]) {
      const res = await decryptWith(`Bearer ${token}`).expect(200);
      assert.equal(Buffer.from(res.body.value, 'base64').toString(), 'content key');
    }
    const last = (await env.service.audit.list()).filter((e) => e.action === 'decrypt').at(-1)!;
    assert.equal(last.keyName, 'finance');
    assert.equal(last.keyId, keyId);
    assert.equal(last.outcome, 'allowed');
    assert.equal(last.reason, 'decrypted');
    assert.deepEqual(last.details, { tenant: env.issuer.tenantId, oid: '1b2c3d4e-0000-4000-8000-00000000a11c', upn: 'alice@contoso.example' });
    const text = JSON.stringify((await env.service.audit.list()));
    for (const token of [v1, v2]) assert.ok(!text.includes(token.split('.')[2]!));
  });

  it('issue 18 guest: a live.com# guest granted by oid decrypts, and is audited under its oid (the shown name is the email it gave)', async () => {
    const guest = claims({ oid: GUEST_OID, upn: undefined, unique_name: 'live.com#guest@outlook.example', email: 'guest@outlook.example', idp: 'live.com' });
    await decryptWith(`Bearer ${await signed(env.issuer, guest)}`).expect(200);
    const last = (await env.service.audit.list()).filter((e) => e.action === 'decrypt').at(-1)!;
    assert.deepEqual(last.details, { tenant: env.issuer.tenantId, oid: GUEST_OID, upn: 'guest@outlook.example' });
  });

  it('issue 3 grants: by group object id and by app role; the same users without them → 403', async () => {
    const bob = { oid: '3d4e5f60-0000-4000-8000-0000000000b0', upn: 'bob@contoso.example', unique_name: 'bob@contoso.example' };
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ ...bob, groups: [GROUP.toUpperCase()] }))}`).expect(200);
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ ...bob, roles: ['DKE.Decrypt'] }))}`).expect(200);
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ ...bob, groups: ['ffff0000-0000-4000-8000-000000000000'], roles: ['dke.decrypt'] }))}`).expect(403);
  });

  it('issue 3 group overage: a group grant does not apply (403), and it is logged once per user', async () => {
    const carol = { oid: '4e5f6071-0000-4000-8000-0000000000c0', upn: 'carol@contoso.example', unique_name: 'carol@contoso.example' };
    const overage = { groups: [GROUP], _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.windows.net/t/users/c/getMemberObjects' } } };
    for (let i = 0; i < 3; i += 1) {
      // Distinct tokens (uti differs), so each one is verified and reports the overage.
      await decryptWith(`Bearer ${await signed(env.issuer, claims({ ...carol, ...overage }))}`).expect(403);
    }
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ ...carol, groups: [GROUP] }))}`).expect(200);
    const lines = env.logs.filter((l) => l.includes('group overage'));
    assert.equal(lines.filter((l) => l.includes(carol.oid)).length, 1);
  });

  it('issue 3 DKE_AUTH_CLOCK_SKEW_SECONDS=60 is honoured: expired 30 s ago → 200, 90 s ago → 401', async () => {
    const t = Math.floor(Date.now() / 1000);
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ exp: t - 30 }))}`).expect(200);
    assertChallenge(await decryptWith(`Bearer ${await signed(env.issuer, claims({ exp: t - 90 }))}`), 'expired 90 s');
    await decryptWith(`Bearer ${await signed(env.issuer, claims({ nbf: t + 30 }))}`).expect(200);
    assertChallenge(await decryptWith(`Bearer ${await signed(env.issuer, claims({ nbf: t + 90 }))}`), 'nbf +90 s');
  });

  it('issue 3 audiences: each DKE_AUTH_AUDIENCE value, with or without its trailing slash', async () => {
    for (const aud of [`${TEST_AUDIENCE}/`, SECOND_AUDIENCE, SECOND_AUDIENCE.slice(0, -1)]) {
      await decryptWith(`Bearer ${await signed(env.issuer, claims({ aud }))}`).expect(200);
    }
  });

  it('forgery: each forged token → 401 with the reference challenge, before the key is looked up', async () => {
    const t = Math.floor(Date.now() / 1000);
    const good = claims();
    const forged: [string, string][] = [
      ['alg none', compact({ alg: 'none', typ: 'JWT' }, good, '')],
      ['HS256', await signed(env.issuer, good, { alg: 'HS256', key: Buffer.from(JSON.stringify(env.issuer.currentKey.publicJwk)) })],
      ['expired', await signed(env.issuer, claims({ exp: t - 3600 }))],
      ['wrong audience', await signed(env.issuer, claims({ aud: 'https://graph.microsoft.com' }))],
      ['other tenant', await signed(env.issuer, claims({ iss: env.issuer.v1Issuer(OTHER_TENANT), tid: OTHER_TENANT }))],
      ['look-alike issuer', await signed(env.issuer, claims({ iss: `https://sts.windows.net.evil.com/${env.issuer.tenantId}/` }))],
      ['tid disagrees', await signed(env.issuer, claims({ tid: OTHER_TENANT }))],
      ['no scope', await signed(env.issuer, claims({ scp: undefined }))],
      ['wrong scope', await signed(env.issuer, claims({ scp: 'User.Read' }))],
      ['app-only', await signed(env.issuer, claims({ scp: undefined, upn: undefined, unique_name: undefined, roles: ['DKE.Decrypt'], idtyp: 'app' }))],
    ];
    for (const [label, token] of forged) {
      assertChallenge(await decryptWith(`Bearer ${token}`), label);
      assertChallenge(await decryptWith(`Bearer ${token}`, '/no-such-key/x/decrypt'), `${label}, unknown key`);
    }
  });

  it('issue 3: a token in the query string or the body is ignored → 401', async () => {
    const token = await signed(env.issuer, claims());
    const inQuery = await env.http
      .post(`/finance/${keyId}/decrypt?access_token=${token}`)
      .set('Content-Type', 'application/json')
      .send(body());
    assertChallenge(inQuery, 'query');
    const inBody = await env.http
      .post(`/finance/${keyId}/decrypt`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...JSON.parse(body()), access_token: token, token }));
    assertChallenge(inBody, 'body');
    await decryptWith(`Bearer ${token}`).expect(200);
  });

  it('issue 3: malformed Authorization headers → 401; the scheme is case-insensitive', async () => {
    const token = await signed(env.issuer, claims());
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) await decryptWith(`${scheme} ${token}`).expect(200);
    const malformed = [
      '', 'Bearer', 'Bearer ', token, `Basic ${token}`, `Bearer ${token} extra`, `Bearer ${token},Bearer ${token}`,
      `Bearer\t${token}`, `Bearer "${token}"`, `Token ${token}`, 'Bearer a.b', 'Bearer ....', `Bearer ${token.replaceAll('.', '')}`,
      `Bearer ${Buffer.from('{"alg":"RS256"}').toString('base64url')}.%%%.x`,
    ];
    for (const header of malformed) assertChallenge(await decryptWith(header), JSON.stringify(header.slice(0, 30)));
  });

  it('issue 3: a 40 kB garbage token is a 4xx, never a 5xx: 431 at the header limit, 401 past a larger one', async () => {
    const garbage = `Bearer ${'A'.repeat(40 * 1024)}.${'B'.repeat(100)}.${'C'.repeat(100)}`;
    const limited = await listen(env.service.app, { ...env.config, port: 0, host: '127.0.0.1' });
    servers.push(limited);
    const atLimit = await fetch(`http://127.0.0.1:${(limited.address() as AddressInfo).port}/finance/${keyId}/decrypt`, {
      method: 'POST',
      headers: { authorization: garbage, 'content-type': 'application/json' },
      body: body(),
    });
    assert.equal(atLimit.status, 431);
    // Behind a proxy or runtime allowing bigger headers, the token check itself refuses it before parsing.
    const roomy = createServer({ maxHeaderSize: 128 * 1024 }, env.service.app);
    servers.push(roomy);
    await new Promise<void>((resolve) => roomy.listen(0, '127.0.0.1', () => resolve()));
    const past = await fetch(`http://127.0.0.1:${(roomy.address() as AddressInfo).port}/finance/${keyId}/decrypt`, {
      method: 'POST',
      headers: { authorization: garbage, 'content-type': 'application/json' },
      body: body(),
    });
    assert.equal(past.status, 401);
    assert.deepEqual(await past.json(), INVALID_TOKEN);
    assert.equal(bearerToken(garbage), undefined, 'refused by length, before any parsing');
    assert.equal(bearerToken(`Bearer ${'A'.repeat(8000)}.b.c`), `${'A'.repeat(8000)}.b.c`);
  });

  it('issue 3: issuer metadata and JWKS down → cached keys keep decrypting while /health/ready says the refresh failed', async () => {
    const token = await signed(env.issuer, claims({ upn: 'alice@contoso.example' }));
    env.issuer.setAvailable(false);
    try {
      await env.service.keySource.refresh();
      await env.service.readiness.check();
      const ready = await env.http.get('/health/ready');
      assert.equal(ready.status, 200, 'cached keys still verify: the instance stays in the load balancer');
      assert.equal(ready.body.checks.issuerKeys.status, 'warn');
      assert.match(ready.body.checks.issuerKeys.detail, /last refresh of the issuer keys failed .*503.*cached keys are in use/);
      await decryptWith(`Bearer ${token}`).expect(200);
    } finally {
      env.issuer.setAvailable(true);
      await env.service.keySource.refresh();
      await env.service.readiness.check();
    }
    assert.equal((await env.http.get('/health/ready')).body.checks.issuerKeys.status, 'pass');
  });
});
