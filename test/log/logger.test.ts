/**
 * Contract §1 (every response carries `x-request-id`) and the logging rules of the brief (src/log/logger.ts,
 * src/http/request-id.ts, issue 7): every log line is JSON, and each request line carries the request id that went
 * back to the caller and, for a decrypt, the user's oid.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

describe('§1 x-request-id and JSON log lines (log/logger, http/request-id)', () => {
  let env: TestEnv;
  let keyId: string;
  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('observed', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    assert.equal((await decryptAs(env, USER, 'observed', keyId, Buffer.from('m'))).status, 200);
  });
  after(() => env?.close());

  it('every log line is JSON; each request line carries the request id that went back in x-request-id', async () => {
    const res = await env.http.get('/observed').set('x-request-id', 'trace-abc-123').expect(200);
    assert.equal(res.headers['x-request-id'], 'trace-abc-123');
    const parsed = env.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = parsed.filter((l) => l.message === 'request');
    assert.ok(requests.length > 0);
    for (const line of requests) {
      assert.match(String(line.requestId), /^[A-Za-z0-9._:-]+$/);
      for (const field of ['method', 'path', 'status', 'durationMs', 'timestamp', 'level']) assert.ok(field in line, field);
    }
    assert.ok(requests.some((l) => l.requestId === 'trace-abc-123' && l.path === '/observed' && l.status === 200));
    assert.ok(requests.some((l) => typeof l.oid === 'string' && l.status === 200 && String(l.path).endsWith('/decrypt')), 'decrypt lines name the user oid');
  });
});
