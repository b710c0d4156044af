/**
 * Contract §1 `POST /{keyName}/{keyId}/decrypt` (src/http/dke-routes.ts): the order 401, 404, 403, 400, HSM, the
 * uniform error bodies (no padding oracle), and the audit of every decision.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { KeyStore } from '../../src/store/key-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { TEST_AUDIENCE, TEST_PIN, startTestEnv, type TestEnv } from '../support/test-env.js';

const ALICE = 'alice@contoso.dev';
const GROUP = '6f1e3a2b-0000-4000-8000-00000000abcd';
const GUEST_OID = '5a6b7c8d-0000-4000-8000-00000000609e';
const MALLORY_OID = '3c4d5e6f-0000-4000-8000-000000000bad';
const CHALLENGE =
  `Bearer resource="${TEST_AUDIENCE}", authorization="https://login.windows.net/common/oauth2/authorize", realm="${TEST_AUDIENCE}"`;
const CIPHERTEXT_FAILURE = { error: 'decrypt_failed', message: 'The value could not be decrypted with this key.' };

describe('§1 POST /{keyName}/{keyId}/decrypt', () => {
  let env: TestEnv;
  let keyId: string;
  let otherKeyId: string;
  let jwk: { n: string; e: number };
  let aliceToken: string;

  before(async () => {
    env = await startTestEnv();
    ({ keyId } = await env.admin.create('finance', {
      allow: { users: [ALICE], groups: [GROUP], roles: ['DKE.Decrypt'] },
    }));
    ({ keyId: otherKeyId } = await env.admin.create('legal', { allow: { users: [ALICE], groups: [], roles: [] } }));
    jwk = (await env.http.get('/finance').expect(200)).body.key;
    aliceToken = await env.token({ upn: ALICE });
  });
  after(() => env.close());

  const decrypt = (path: string, token: string | undefined, body: unknown) => {
    const req = env.http.post(path).set('Content-Type', 'application/json');
    if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };

  it('decrypts a value encrypted as Office does with the served JWK, answering exactly {"value"}', async () => {
    const plaintext = randomBytes(44);
    const res = await decrypt(`/finance/${keyId}/decrypt`, aliceToken, { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, plaintext) })
      .expect(200)
      .expect('content-type', /application\/json/);
    assert.deepEqual(res.body, { value: plaintext.toString('base64') });
  });

  it('matches the path case-insensitively (/Decrypt, as ASP.NET routes) but names case-sensitively', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('x')) };
    await decrypt(`/finance/${keyId}/Decrypt`, aliceToken, body).expect(200);
    await decrypt(`/FINANCE/${keyId}/decrypt`, aliceToken, body).expect(404);
  });

  it('accepts the ?protocol-version query newer clients add', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('q')) };
    await decrypt(`/finance/${keyId}/decrypt?protocol-version=2.0`, aliceToken, body).expect(200);
  });

  it('grants through a group object id and through an app role', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('g')) };
    await decrypt(`/finance/${keyId}/decrypt`, await env.token({ upn: 'bob@contoso.dev', groups: [GROUP.toUpperCase()] }), body).expect(200);
    await decrypt(`/finance/${keyId}/decrypt`, await env.token({ upn: 'carol@contoso.dev', roles: ['DKE.Decrypt'] }), body).expect(200);
  });

  it('issue 18: three impostors (email, preferred_username, live.com# unique_name naming alice) are refused 403', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('i')) };
    const impostors = [
      { upn: 'mallory_evil.com#EXT#@contoso.dev', extraClaims: { email: ALICE, unique_name: 'mallory@evil.com' } },
      { upn: 'mallory@contoso.dev', extraClaims: { preferred_username: ALICE } },
      { upn: 'ignored', extraClaims: { upn: undefined, unique_name: `live.com#${ALICE}` } },
      // A guest whose home tenant gave it alice's address as upn: idp names another tenant, so upn does not count.
      { upn: ALICE, oid: MALLORY_OID, extraClaims: { idp: 'https://sts.windows.net/9b8c7d6e-0000-4000-8000-0000000000ff/' } },
    ];
    for (const impostor of impostors) {
      const res = await decrypt(`/finance/${keyId}/decrypt`, await env.token(impostor), body);
      assert.equal(res.status, 403, JSON.stringify(impostor));
      assert.equal(res.body.error, 'access_denied');
    }
  });

  it('issue 18: a guest (#EXT# upn, idp of its home tenant) is allowed by its oid, and only by it', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('o')) };
    const guest = { upn: 'gina_fabrikam.example#EXT#@contoso.dev', oid: GUEST_OID, extraClaims: { idp: 'https://sts.windows.net/72f988bf-0000-4000-8000-000000000001/', email: 'gina@fabrikam.example' } };
    await decrypt(`/finance/${keyId}/decrypt`, await env.token(guest), body).expect(403);
    await env.admin.grant('finance', 'users', GUEST_OID.toUpperCase());
    try {
      await decrypt(`/finance/${keyId}/decrypt`, await env.token(guest), body).expect(200);
      await decrypt(`/finance/${keyId}/decrypt`, await env.token({ ...guest, oid: MALLORY_OID }), body).expect(403);
    } finally {
      await env.admin.revoke('finance', 'users', GUEST_OID);
    }
  });

  it('401 without a token, with the reference challenge headers byte for byte', async () => {
    const res = await decrypt(`/finance/${keyId}/decrypt`, undefined, { alg: 'RSA-OAEP-256', value: 'AA==' }).expect(401);
    assert.deepEqual(res.body, { error: 'invalid_token', message: 'A valid bearer token is required.' });
    assert.equal(res.headers['www-authenticate'], CHALLENGE);
    assert.equal(res.headers.resource, TEST_AUDIENCE);
    assert.equal(res.headers.authorization, 'https://login.windows.net/common/oauth2/authorize');
  });

  it('401 for a token signed by another key, even for an unknown key name (authenticate comes first)', async () => {
    const forged = aliceToken.slice(0, aliceToken.lastIndexOf('.') + 1) + Buffer.alloc(256, 7).toString('base64url');
    await decrypt(`/finance/${keyId}/decrypt`, forged, {}).expect(401);
    await decrypt('/nothing/here/decrypt', undefined, {}).expect(401);
  });

  it('404 for an unknown key name, an unknown key id, and a key id of another key name', async () => {
    const body = { alg: 'RSA-OAEP-256', value: 'AA==' };
    for (const path of ['/nothing/x/decrypt', `/finance/not-a-key-id/decrypt`, `/finance/${otherKeyId}/decrypt`]) {
      const res = await decrypt(path, aliceToken, body).expect(404);
      assert.deepEqual(res.body, { error: 'key_not_found', message: 'No such key.' });
    }
  });

  it('403 for a user on no allow list, before the body is looked at', async () => {
    const res = await decrypt(`/finance/${keyId}/decrypt`, await env.token({ upn: 'mallory@contoso.dev' }), 'not json').expect(403);
    assert.deepEqual(res.body, { error: 'access_denied', message: 'You are not allowed to use this key.' });
  });

  it('403 while the version is disabled, 200 again once enabled', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('d')) };
    await env.service.store.change((tx) => tx.setEnabled('finance', keyId, false, new Date().toISOString()));
    try {
      const res = await decrypt(`/finance/${keyId}/decrypt`, aliceToken, body).expect(403);
      assert.deepEqual(res.body, { error: 'key_not_usable', message: 'This key cannot be used to decrypt.' });
    } finally {
      await env.service.store.change((tx) => tx.setEnabled('finance', keyId, true, new Date().toISOString()));
    }
    await decrypt(`/finance/${keyId}/decrypt`, aliceToken, body).expect(200);
  });

  it('issue 19: a version disabled through another connection (the CLI\'s) is refused at the next decrypt, even right after a GET published it', async () => {
    const body = { alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('c')) };
    const cliConnection = openSqliteStore(env.config.dataDir, { role: 'admin' });
    const cli = new KeyStore(cliConnection);
    try {
      await env.http.get('/finance').expect(200);
      await cli.change((tx) => tx.setEnabled('finance', keyId, false, new Date().toISOString()));
      // A GET may still publish from the state checked a moment ago; a decrypt checks it at each request.
      await decrypt(`/finance/${keyId}/decrypt`, aliceToken, body).expect(403);
      await cli.change((tx) => tx.setEnabled('finance', keyId, true, new Date().toISOString()));
      await decrypt(`/finance/${keyId}/decrypt`, aliceToken, body).expect(200);
    } finally {
      await cliConnection.close();
    }
  });

  it('403 for a Pre-Active key', async () => {
    const { keyId: pre } = await env.admin.create('pre', { state: 'pre-active', allow: { users: [ALICE], groups: [], roles: [] } });
    await decrypt(`/pre/${pre}/decrypt`, aliceToken, { alg: 'RSA-OAEP-256', value: 'AA==' }).expect(403);
  });

  it('400 for a body that is not JSON, an alg other than RSA-OAEP-256, and a value that is not base64', async () => {
    const url = `/finance/${keyId}/decrypt`;
    assert.equal((await decrypt(url, aliceToken, '{"alg":').expect(400)).body.error, 'invalid_request');
    assert.equal((await decrypt(url, aliceToken, '[1]').expect(400)).body.error, 'invalid_request');
    const rsa1 = await decrypt(url, aliceToken, { alg: 'RSA1_5', value: encryptLikeOffice(jwk, Buffer.from('a')) }).expect(400);
    assert.deepEqual(rsa1.body, { error: 'invalid_request', message: 'alg must be "RSA-OAEP-256".' });
    const notB64 = await decrypt(url, aliceToken, { alg: 'RSA-OAEP-256', value: '***' }).expect(400);
    assert.deepEqual(notB64.body, { error: 'invalid_request', message: 'value must be standard base64.' });
    await decrypt(url, aliceToken, { alg: 'RSA-OAEP-256' }).expect(400);
  });

  it('400 with one identical body for every ciphertext failure: length, not below the modulus, padding, wrong key', async () => {
    const url = `/finance/${keyId}/decrypt`;
    const good = Buffer.from(encryptLikeOffice(jwk, Buffer.from('p')), 'base64');
    const tampered = Buffer.from(good);
    tampered[100]! ^= 0x01;
    const legalJwk = (await env.http.get('/legal').expect(200)).body.key;
    const cases = {
      short: good.subarray(1),
      long: Buffer.concat([good, Buffer.from([0])]),
      notBelowModulus: Buffer.alloc(256, 0xff),
      equalToModulus: Buffer.from(jwk.n, 'base64'),
      badPadding: tampered,
      wrongKey: Buffer.from(encryptLikeOffice(legalJwk, Buffer.from('p')), 'base64'),
    };
    const bodies = new Set<string>();
    for (const [name, value] of Object.entries(cases)) {
      const res = await decrypt(url, aliceToken, { alg: 'RSA-OAEP-256', value: value.toString('base64') });
      assert.equal(res.status, 400, name);
      assert.deepEqual(res.body, CIPHERTEXT_FAILURE, name);
      bodies.add(JSON.stringify({ body: res.body, type: res.headers['content-type'], length: res.headers['content-length'] }));
    }
    assert.equal(bodies.size, 1, 'no ciphertext failure is distinguishable from another');
  });

  it('413 for a body over 64 KiB and 415 for a body that is not JSON, even without a token', async () => {
    const big = JSON.stringify({ alg: 'RSA-OAEP-256', value: 'A'.repeat(70 * 1024) });
    const res413 = await decrypt(`/finance/${keyId}/decrypt`, undefined, big).expect(413);
    assert.equal(res413.body.error, 'payload_too_large');
    const res415 = await env.http
      .post(`/finance/${keyId}/decrypt`)
      .set('Content-Type', 'text/plain')
      .set('Authorization', `Bearer ${aliceToken}`)
      .send('alg=RSA-OAEP-256')
      .expect(415);
    assert.equal(res415.body.error, 'unsupported_media_type');
  });

  it('ignores a token in the query string or the body', async () => {
    const body = { alg: 'RSA-OAEP-256', value: 'AA==', access_token: aliceToken };
    await decrypt(`/finance/${keyId}/decrypt?access_token=${aliceToken}`, undefined, body).expect(401);
  });

  it('never writes the PIN, a token, a ciphertext or a plaintext to the log', async () => {
    const plaintext = randomBytes(32);
    const value = encryptLikeOffice(jwk, plaintext);
    await decrypt(`/finance/${keyId}/decrypt`, aliceToken, { alg: 'RSA-OAEP-256', value }).expect(200);
    await decrypt(`/finance/${keyId}/decrypt?access_token=${aliceToken}`, undefined, { alg: 'RSA-OAEP-256', value }).expect(401);
    const log = env.logs.join('\n');
    assert.ok(env.logs.length > 0, 'the service logged something');
    for (const secret of [TEST_PIN, aliceToken, aliceToken.split('.')[2]!, value, value.slice(0, 40), plaintext.toString('base64')]) {
      assert.ok(!log.includes(secret), `log holds a secret: ${secret.slice(0, 12)}…`);
    }
    for (const line of env.logs) JSON.parse(line);
  });

  it('records every decrypt decision in the audit trail without secrets', async () => {
    // Its own three decisions, so that the test holds when run alone (mocha --grep) or in any order.
    const before = (await env.service.audit.list()).length;
    const good = encryptLikeOffice(jwk, Buffer.from('audited'));
    await decrypt(`/finance/${keyId}/decrypt`, aliceToken, { alg: 'RSA-OAEP-256', value: good }).expect(200);
    await decrypt(`/finance/${keyId}/decrypt`, await env.token({ upn: 'mallory@contoso.dev' }), { alg: 'RSA-OAEP-256', value: good }).expect(403);
    const wrongKey = encryptLikeOffice((await env.http.get('/legal').expect(200)).body.key, Buffer.from('audited'));
    await decrypt(`/finance/${keyId}/decrypt`, aliceToken, { alg: 'RSA-OAEP-256', value: wrongKey }).expect(400);
    const entries = (await env.service.audit.list()).slice(before).filter((e) => e.action === 'decrypt');
    assert.deepEqual(
      entries.map((e) => [e.outcome, e.reason, e.keyName, e.keyId]),
      [
        ['allowed', 'decrypted', 'finance', keyId],
        ['denied', 'access_denied', 'finance', keyId],
        ['failed', 'decrypt_failed', 'finance', keyId],
      ],
    );
    const text = JSON.stringify(entries);
    assert.ok(!text.includes(aliceToken));
    assert.ok((await env.service.audit.verify()).ok);
  });
});
