import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; checkedAt: string; ageSeconds: number; detail?: string }>;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('issue 7: readiness follows the token login (/health/ready)', () => {
  let env: TestEnv;
  let keyId: string;
  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('ready-key', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    await env.service.readiness.check();
  });
  after(() => env?.close());

  it('probes read the last background check: the same checkedAt twice, each check with its age', async () => {
    const first = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    const second = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    for (const name of ['hsm', 'selfTest', 'store', 'issuerKeys']) {
      assert.equal(second.checks[name]!.checkedAt, first.checks[name]!.checkedAt, `${name} was not re-run by a probe`);
      assert.ok(Number.isInteger(first.checks[name]!.ageSeconds) && first.checks[name]!.ageSeconds >= 0);
      assert.ok(Date.parse(first.checks[name]!.checkedAt) <= Date.now());
    }
  });

  it('C_Logout on the real token → 503 naming the login, then the service logs in again and the next check is 200', async () => {
    const { connection, token, pool } = env.service.hsm;
    const recoveriesBefore = connection.status().recoveries;
    const session = pool.idleSessions()[0]!;
    token.module.C_Logout(session);

    await env.service.readiness.check();
    const down = (await env.http.get('/health/ready').expect(503)).body as ReadyBody;
    assert.equal(down.status, 'not_ready');
    assert.equal(down.checks.hsm!.status, 'fail');
    assert.match(down.checks.hsm!.detail!, /not logged in/);
    assert.equal(down.checks.selfTest!.status, 'fail', 'no self-test without a logged-in token');
    assert.equal(down.checks.store!.status, 'pass');

    await until(() => connection.status().recoveries > recoveriesBefore && connection.status().state === 'up', 'the new login');
    await env.service.readiness.check();
    const up = (await env.http.get('/health/ready').expect(200)).body as ReadyBody;
    assert.equal(up.checks.hsm!.status, 'pass');
    assert.equal(up.checks.selfTest!.status, 'pass');
    assert.equal((await decryptAs(env, USER, 'ready-key', keyId, Buffer.from('after login'))).status, 200);
  });
});
