/**
 * Contract §1 `GET /metrics` (src/metrics/service-metrics.ts, issue 7): Prometheus text counting decrypts, public
 * keys, HSM errors and the session pool, with labels that never carry a user name, key id or unknown key name.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

/** Prometheus text to `name{labels} value` lines, checking every line parses. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(match, `not Prometheus text: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

describe('§1 GET /metrics (metrics/service-metrics): what Prometheus scrapes', () => {
  let env: TestEnv;
  let keyId: string;
  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('observed', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
  });
  after(() => env?.close());

  it('/metrics is Prometheus text that counts decrypts by key and outcome, public keys, the pool and process metrics', async () => {
    await env.http.get('/observed').expect(200);
    await env.http.get('/no-such-key-xyz').expect(404);
    assert.equal((await decryptAs(env, USER, 'observed', keyId, Buffer.from('m'))).status, 200);
    assert.equal((await decryptAs(env, 'mallory@contoso.dev', 'observed', keyId, Buffer.from('m'))).status, 403);
    // Below the modulus (leading zero byte) but no valid OAEP padding: the token refuses it (a 'request' class CKR).
    const garbage = Buffer.concat([Buffer.alloc(1), randomBytes(255)]).toString('base64');
    await env.http
      .post(`/observed/${keyId}/decrypt`)
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${await env.token({ upn: USER })}`)
      .send(JSON.stringify({ alg: 'RSA-OAEP-256', value: garbage }))
      .expect(400);
    // Served on the admin listener (no DKE_METRICS_PORT here), never on the DKE port (test/http/metrics-listeners.test.ts).
    const res = await supertest(env.service.adminApp).get('/metrics').expect(200).expect('content-type', /text\/plain/);
    const samples = parseMetrics(res.text);
    assert.equal(samples.get('dke_decrypts_total{key="observed",outcome="decrypted"}'), 1);
    assert.equal(samples.get('dke_decrypts_total{key="observed",outcome="access_denied"}'), 1);
    assert.equal(samples.get('dke_public_key_requests_total{key="observed",outcome="served"}'), 1);
    assert.equal(samples.get('dke_public_key_requests_total{key="",outcome="key_not_found"}'), 1, 'unknown names never become labels');
    assert.equal(samples.get('dke_decrypts_total{key="observed",outcome="decrypt_failed"}'), 1);
    assert.equal(samples.get('dke_decrypt_duration_seconds_count{outcome="decrypted"}'), 1);
    // The 403 never reached the HSM; the good and the refused ciphertext did.
    assert.equal(samples.get('dke_hsm_decrypt_duration_seconds_count{outcome="ok"}'), 1);
    assert.equal(samples.get('dke_hsm_decrypt_duration_seconds_count{outcome="error"}'), 1);
    assert.ok((samples.get('dke_hsm_decrypt_duration_seconds_sum{outcome="ok"}') ?? 0) > 0);
    assert.equal(samples.get('dke_hsm_errors_total{class="request"}'), 1);
    assert.equal(samples.get('dke_hsm_sessions'), env.service.hsm.pool.size);
    assert.equal(samples.get('dke_hsm_sessions_in_use'), 0);
    assert.ok((samples.get('dke_jwks_refreshes_total{result="ok"}') ?? 0) >= 1);
    assert.ok(samples.has('process_cpu_user_seconds_total'));
    assert.ok(!res.text.includes(USER) && !res.text.includes(keyId), 'no user names or key ids in labels');
  });

});
