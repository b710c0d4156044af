// Contract §1 "<base> ... X-Forwarded-* honoured only with DKE_TRUST_PROXY", "Without DKE_PUBLIC_BASE_URL, a key GET or
// decrypt whose Host is neither a host of DKE_AUTH_AUDIENCE nor loopback gets 421", "Rate limiting counts presented
// tokens that fail, per client address", and §2 DKE_TRUST_PROXY (issue 18): forwarded headers cannot be spoofed.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { listenOnLoopback } from '../support/listening-server.js';
import { rawExchange } from '../support/raw-http.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';

const AUDIENCE_HOST = new URL(TEST_AUDIENCE).host;
const MISDIRECTED = { error: 'misdirected_request', message: 'This service does not answer for that host name; use the URL of the sensitivity label.' };

async function withEnv(settings: Record<string, string>, work: (env: TestEnv, keyId: string) => Promise<void>): Promise<void> {
  const env = await startTestEnv({ settings: { DKE_RATE_LIMIT_MAX_FAILURES: '3', ...settings } });
  try {
    const { keyId } = await env.admin.create('hosted', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
    await work(env, keyId);
  } finally {
    await env.close();
  }
}

/** A failing decrypt (forged token) with the given extra headers; returns the status. */
async function failedDecrypt(env: TestEnv, keyId: string, headers: Record<string, string>): Promise<number> {
  const req = env.http.post(`/hosted/${keyId}/decrypt`).set('Content-Type', 'application/json').set('Host', AUDIENCE_HOST).set('Authorization', 'Bearer forged.token.value');
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  return (await req.send('{}')).status;
}

describe('§1 421 for a foreign Host without DKE_PUBLIC_BASE_URL (issue 18)', () => {
  it('a key GET and a decrypt with a Host that is not an audience host nor loopback get a JSON 421 and no kid', async () => {
    await withEnv({}, async (env, keyId) => {
      for (const host of ['evil.example', `${AUDIENCE_HOST}.evil.example`, `${AUDIENCE_HOST}:8443`, 'a@evil.example:1', 'internal:8080']) {
        const get = await env.http.get('/hosted').set('Host', host);
        assert.equal(get.status, 421, host);
        assert.deepEqual(get.body, MISDIRECTED, host);
        const decrypt = await env.http.post(`/hosted/${keyId}/decrypt`).set('Host', host).set('Content-Type', 'application/json').send('{}');
        assert.equal(decrypt.status, 421, `decrypt ${host}`);
      }
    });
  });

  it('audience hosts (with the scheme\'s default port or none) and loopback answer, and the kid is built from them', async () => {
    await withEnv({}, async (env, keyId) => {
      for (const host of [AUDIENCE_HOST, `${AUDIENCE_HOST.toUpperCase()}:443`, 'localhost:8080', '127.0.0.1:9', '127.1.2.3', '[::1]:8080']) {
        const res = await env.http.get('/hosted').set('Host', host);
        assert.equal(res.status, 200, host);
        assert.equal(res.body.key.kid, `http://${host}/hosted/${keyId}`, host);
      }
    });
  });

  it('raw sockets: a Host with a path and query, and an HTTP/1.0 request without Host, get 421, never a kid', async () => {
    await withEnv({}, async (env) => {
      const listening = await listenOnLoopback(env);
      try {
        for (const request of ['GET /hosted HTTP/1.0\r\n\r\n', 'GET /hosted HTTP/1.1\r\nHost: a@evil.example:1/x?\r\nConnection: close\r\n\r\n']) {
          const answer = await rawExchange(listening.port, request);
          assert.equal(answer.status, 421, JSON.stringify(request));
          assert.ok(!answer.body.includes('kid'), JSON.stringify(request));
        }
      } finally {
        await listening.close();
      }
    });
  });

  it('health answers any Host (metrics are not on this port at all); DKE_PUBLIC_BASE_URL lifts the check (the kid never comes from the request)', async () => {
    await withEnv({}, async (env) => {
      await env.http.get('/health/live').set('Host', 'evil.example').expect(200);
      await env.http.get('/metrics').set('Host', 'evil.example').expect(404);
    });
    await withEnv({ DKE_PUBLIC_BASE_URL: 'https://dke.contoso.com' }, async (env, keyId) => {
      const res = await env.http.get('/hosted').set('Host', 'evil.example').expect(200);
      assert.equal(res.body.key.kid, `https://dke.contoso.com/hosted/${keyId}`);
    });
  });
});

describe('§2 DKE_TRUST_PROXY: forwarded headers cannot be spoofed (issue 18)', () => {
  it('unset: X-Forwarded-For and -Host are ignored; forged addresses neither escape the limit nor change the kid', async () => {
    await withEnv({}, async (env, keyId) => {
      for (let i = 0; i < 3; i += 1) assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': `198.51.100.${i}` }), 401);
      assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '198.51.100.99' }), 429, 'a forged X-Forwarded-For does not escape');
      const res = await env.http.get('/hosted').set('Host', AUDIENCE_HOST).set('X-Forwarded-Host', 'evil.example').set('X-Forwarded-Proto', 'https').expect(200);
      assert.equal(res.body.key.kid, `http://${AUDIENCE_HOST}/hosted/${keyId}`);
    });
  });

  for (const [form, value] of [
    ['a hop count', '1'],
    ['the proxy address', '127.0.0.1'],
    ['a CIDR range of proxies', '127.0.0.0/8'],
  ] as const) {
    it(`${form} (${value}): the client is the address the proxy appended, whatever the client forged before it; a forged X-Forwarded-Host is 421`, async () => {
      await withEnv({ DKE_TRUST_PROXY: value }, async (env, keyId) => {
        // The proxy (this loopback socket) appends the address it saw, 203.0.113.7; the client forged the rest.
        for (let i = 0; i < 3; i += 1) {
          assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': `198.51.100.${i}, 203.0.113.7` }), 401);
        }
        assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '198.51.100.99, 203.0.113.7' }), 429, 'forged entries do not escape');
        assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '203.0.113.7, 203.0.113.8' }), 401, 'another client is not poisoned');
        const evil = await env.http.get('/hosted').set('Host', AUDIENCE_HOST).set('X-Forwarded-Host', 'evil.example');
        assert.equal(evil.status, 421, 'the forwarded host decides the kid, so it must be a served one');
        const res = await env.http.get('/hosted').set('Host', 'internal:8080').set('X-Forwarded-Host', AUDIENCE_HOST).set('X-Forwarded-Proto', 'https').expect(200);
        assert.equal(res.body.key.kid, `https://${AUDIENCE_HOST}/hosted/${keyId}`);
      });
    });
  }

  it('an address written with its port by the proxy (Application Gateway, IIS ARR) counts once, whatever the port', async () => {
    await withEnv({ DKE_TRUST_PROXY: '1' }, async (env, keyId) => {
      for (let i = 0; i < 3; i += 1) assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': `203.0.113.9:${40_000 + i}` }), 401);
      assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '203.0.113.9:40999' }), 429);
      assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '[2001:db8::9]:40000' }), 401, 'IPv6 with a port, another client');
    });
  });

  it('a list that does not name the caller: X-Forwarded-* from it are ignored, as if unset', async () => {
    await withEnv({ DKE_TRUST_PROXY: '10.0.0.4,10.1.0.0/16' }, async (env, keyId) => {
      for (let i = 0; i < 3; i += 1) assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': `198.51.100.${i}` }), 401);
      assert.equal(await failedDecrypt(env, keyId, { 'X-Forwarded-For': '203.0.113.50' }), 429);
      const res = await env.http.get('/hosted').set('Host', AUDIENCE_HOST).set('X-Forwarded-Host', 'localhost').expect(200);
      assert.equal(res.body.key.kid, `http://${AUDIENCE_HOST}/hosted/${keyId}`);
    });
  });

  it('no console output from the limiter whatever the forwarded headers (every log line is JSON)', async () => {
    const written: string[] = [];
    const originals = { log: console.log, warn: console.warn, error: console.error, info: console.info };
    for (const name of Object.keys(originals) as (keyof typeof originals)[]) console[name] = (...args: unknown[]) => void written.push(args.map(String).join(' '));
    try {
      for (const value of [undefined, '1', '127.0.0.1']) {
        await withEnv(value === undefined ? {} : { DKE_TRUST_PROXY: value }, async (env, keyId) => {
          for (const xff of ['198.51.100.1', 'not-an-address', '198.51.100.1, , 203.0.113.7', '::ffff:1.2.3.4']) {
            await failedDecrypt(env, keyId, { 'X-Forwarded-For': xff, Forwarded: 'for=198.51.100.1' });
          }
          for (const line of env.logs) JSON.parse(line);
        });
      }
    } finally {
      Object.assign(console, originals);
    }
    assert.deepEqual(written, []);
  });
});
