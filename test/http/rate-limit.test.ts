import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { encryptLikeOffice } from '../support/office-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

describe('§1 rate limiting of failed authentications (issue 6)', () => {
  let env: TestEnv;
  let keyId: string;
  let jwk: { n: string; e: number };
  before(async () => {
    env = await startTestEnv({ settings: { DKE_RATE_LIMIT_MAX_FAILURES: '5', DKE_RATE_LIMIT_WINDOW_SECONDS: '60' } });
    keyId = (await env.admin.create('limited', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    jwk = (await env.http.get('/limited').expect(200)).body.key;
  });
  after(() => env?.close());

  const decrypt = (authorization: string | undefined) => {
    const req = env.http.post(`/limited/${keyId}/decrypt`).set('Content-Type', 'application/json');
    if (authorization) req.set('Authorization', authorization);
    return req.send(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('r')) }));
  };

  it('answers 401 up to the limit of failures per address, then 429 with the uniform body', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await decrypt(`Bearer forged.${i}.token`)).status, 401, `failure ${i + 1}`);
    const limited = await decrypt('Bearer forged.6.token');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, { error: 'rate_limited', message: 'Too many failed authentications; try again later.' });
    assert.equal((await decrypt(undefined)).status, 429, 'a missing token is a failure too');
  });

  it('never limits a caller that presents a valid token, even from the limited address (shared NAT)', async () => {
    for (let i = 0; i < 20; i += 1) {
      const res = await decrypt(`Bearer ${await env.token({ upn: USER })}`);
      assert.equal(res.status, 200, `valid request ${i + 1}`);
    }
  });
});
