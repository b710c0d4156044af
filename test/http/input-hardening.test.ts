/**
 * Contract §1 status codes (400, 404, 413, 414, 415, 431; issue 6): bad input is refused before any lookup or HSM
 * call, never with a 5xx; helmet's headers are set and CORS stays closed.
 */
import assert from 'node:assert/strict';
import express from 'express';
import helmet from 'helmet';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { listenOnLoopback } from '../support/listening-server.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

describe('issue 6: bad input never reaches the HSM and never gets a 5xx', () => {
  let env: TestEnv;
  let keyId: string;
  let token: string;
  let jwk: { n: string; e: number };
  before(async () => {
    env = await startTestEnv({ settings: { DKE_RATE_LIMIT_MAX_FAILURES: '1000' } });
    keyId = (await env.admin.create('strict', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    token = await env.token({ upn: USER });
    jwk = (await env.http.get('/strict').expect(200)).body.key;
  });
  after(() => env?.close());

  const post = (body: string, contentType = 'application/json', path = `/strict/${keyId}/decrypt`) =>
    env.http.post(path).set('Content-Type', contentType).set('Authorization', `Bearer ${token}`).send(body);

  it('an empty body, a JSON scalar or array, and deep nesting are 400 invalid_request', async () => {
    for (const body of ['', 'null', '"x"', '42', '[]', '['.repeat(5000) + ']'.repeat(5000)]) {
      const res = await post(body);
      assert.equal(res.status, 400, body.slice(0, 10));
      assert.equal(res.body.error, 'invalid_request');
    }
  });

  it('__proto__ and constructor keys neither pollute nor stand in for alg and value', async () => {
    const value = encryptLikeOffice(jwk, Buffer.from('p'));
    const res = await post(JSON.stringify({ ['__proto__']: { alg: 'RSA-OAEP-256', value } }).replace('"__proto__"', '"__proto__"'));
    assert.equal(res.status, 400);
    const ctor = await post(`{"constructor":{"prototype":{"alg":"RSA-OAEP-256"}},"value":"${value}"}`);
    assert.equal(ctor.status, 400);
    assert.equal(({} as Record<string, unknown>).alg, undefined, 'Object.prototype untouched');
  });

  it('unknown fields are ignored, consistently: a good request with extras decrypts', async () => {
    const res = await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('e')), kid: 'x', extra: [1, 2] }));
    assert.equal(res.status, 200);
  });

  it('content types other than JSON are 415; application/json with a charset and +json types are accepted', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      assert.equal((await post('{}', type)).status, 415, type);
    }
    const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('c')) });
    assert.equal((await post(body, 'application/json; charset=utf-8')).status, 200);
  });

  it('malformed key names and ids are 404 before any lookup; an over-long URL is 414', async () => {
    const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: 'AA==' });
    for (const path of ['/%00x/id/decrypt', `/strict/${'a'.repeat(200)}/decrypt`, '/strict/..%2F..%2Fetc/decrypt', '/-lead/x/decrypt']) {
      const res = await post(body, 'application/json', path);
      assert.equal(res.status, 404, path);
    }
    await env.http.get('/%E2%80%AEevil').expect(404);
    const long = await env.http.get(`/${'a'.repeat(3000)}`).expect(414);
    assert.deepEqual(long.body, { error: 'uri_too_long', message: 'The request URL is too long.' });
  });

  it('found by the fuzzer: an undecodable path parameter is 400, a compressed body 415, never 500', async () => {
    const undecodable = await env.http.get('/%ff').expect(400);
    assert.deepEqual(undecodable.body, { error: 'invalid_request', message: 'The request could not be read.' });
    const gzip = await env.http
      .post(`/strict/${keyId}/decrypt`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .set('Authorization', `Bearer ${token}`)
      .send('not really gzip');
    assert.equal(gzip.status, 415);
    assert.equal(gzip.body.error, 'unsupported_media_type');
  });

  it('headers too large get a JSON 431, never a 5xx', async () => {
    const listening = await listenOnLoopback(env);
    try {
      const res = await fetch(`http://127.0.0.1:${listening.port}/strict`, { headers: { 'x-big': 'a'.repeat(20_000) } });
      assert.equal(res.status, 431);
      assert.deepEqual(await res.json(), { error: 'headers_too_large', message: 'The request headers are too large.' });
    } finally {
      await listening.close();
    }
  });

  it('helmet headers are set, x-powered-by is not, and CORS stays closed (no Allow-Origin, no preflight)', async () => {
    const res = await env.http.get('/strict').set('Origin', 'https://evil.example').expect(200);
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['strict-transport-security']);
    const preflight = await env.http
      .options(`/strict/${keyId}/decrypt`)
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.equal(preflight.headers['access-control-allow-methods'], undefined);
    assert.equal(preflight.status, 404);
  });

  it("every response carries exactly helmet's default headers (worked out once, issue 19), GET, decrypt and errors alike", async () => {
    const bare = express().use(helmet()).get('/', (_req, res) => res.send('x'));
    const expected = helmetNames((await supertest(bare).get('/').expect(200)).headers);
    assert.ok(Object.keys(expected).length >= 12, `helmet set ${Object.keys(expected).join(', ')}`);
    const responses = [
      await env.http.get('/strict').expect(200),
      await post(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('h')) })).expect(200),
      await env.http.get('/no-such-key').expect(404),
    ];
    for (const res of responses) assert.deepEqual(helmetNames(res.headers), expected, `status ${res.status}`);
  });
});

/** The response headers helmet is about (every header but those any Express response has anyway). */
function helmetNames(headers: Record<string, unknown>): Record<string, unknown> {
  const ordinary = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-request-id', 'etag', 'www-authenticate', 'retry-after', 'cache-control', 'x-powered-by']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !ordinary.has(name)));
}
