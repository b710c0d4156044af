/**
 * Contract §1 rate limiting (issues 6 and 18): presented tokens that fail are counted per client address; a request
 * without a token always gets its challenge, a valid token is never limited, and a 429 carries the challenge.
 */
// Contract §1 "Rate limiting counts presented tokens that fail, per client address; a request with no token ... always
// gets its 401 challenge; a caller that presents a valid token is never limited; a 429 still carries the challenge".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { listenOnLoopback, type ListeningServer } from '../support/listening-server.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const CHALLENGE =
  `Bearer resource="${TEST_AUDIENCE}", authorization="https://login.windows.net/common/oauth2/authorize", realm="${TEST_AUDIENCE}"`;

describe('§1 rate limiting of failed authentications (issues 6 and 18)', () => {
  let env: TestEnv;
  let listening: ListeningServer;
  let keyId: string;
  let jwk: { n: string; e: number };
  before(async () => {
    env = await startTestEnv({ settings: { DKE_RATE_LIMIT_MAX_FAILURES: '5', DKE_RATE_LIMIT_WINDOW_SECONDS: '60' } });
    keyId = (await env.admin.create('limited', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    jwk = (await env.http.get('/limited').expect(200)).body.key;
    listening = await listenOnLoopback(env);
  });
  after(async () => {
    await listening?.close();
    await env?.close();
  });

  /** One decrypt from 127.0.0.1 over the real listener (keep-alive), as an Office client sends it. */
  const decrypt = async (authorization: string | undefined) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers.authorization = authorization;
    const res = await fetch(`http://127.0.0.1:${listening.port}/limited/${keyId}/decrypt`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('r')) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const assertChallenge = (res: { headers: Headers }, label: string) => {
    assert.equal(res.headers.get('www-authenticate'), CHALLENGE, label);
    assert.equal(res.headers.get('resource'), TEST_AUDIENCE, label);
    assert.equal(res.headers.get('authorization'), 'https://login.windows.net/common/oauth2/authorize', label);
  };

  it('1,000 token-less calls from one address all get 401 with the challenge, while a valid token keeps working', async () => {
    const valid = `Bearer ${await env.token({ upn: USER })}`;
    for (let batch = 0; batch < 50; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => decrypt(undefined)));
      answers.forEach((res, i) => {
        assert.equal(res.status, 401, `token-less call ${batch * 20 + i + 1}`);
        assertChallenge(res, `token-less call ${batch * 20 + i + 1}`);
      });
      if (batch % 10 === 9) assert.equal((await decrypt(valid)).status, 200, `valid token after ${(batch + 1) * 20} token-less calls`);
    }
  });

  it('presented tokens that fail are counted: 401 up to the limit, then 429 with the uniform body and the challenge', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await decrypt(`Bearer forged.${i}.token`)).status, 401, `failure ${i + 1}`);
    const limited = await decrypt('Bearer forged.6.token');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, { error: 'rate_limited', message: 'Too many failed authentications; try again later.' });
    assertChallenge(limited, '429');
    assert.equal((await decrypt('Basic YWxpY2U6cGFzc3dvcmQ=')).status, 429, 'any Authorization header that fails is a presented credential');
    const tokenLess = await decrypt(undefined);
    assert.equal(tokenLess.status, 401, 'even from a limited address, a request without a token gets its challenge');
    assertChallenge(tokenLess, 'token-less while limited');
  });

  it('never limits a caller that presents a valid token, even from the limited address (shared NAT)', async () => {
    for (let i = 0; i < 20; i += 1) {
      const res = await decrypt(`Bearer ${await env.token({ upn: USER })}`);
      assert.equal(res.status, 200, `valid request ${i + 1}`);
    }
  });
});
