// Contract §2 (DKE_ADMIN_PORT, DKE_ADMIN_HOST) and §6: `dke serve`'s composition root starts the admin listener only
// when DKE_ADMIN_PORT is set, on 127.0.0.1 by default, and a graceful stop closes both listeners.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import { parseSettings, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startService } from '../../src/main/run-service.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

describe('§6 the admin listener in the composition root', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
    await env.admin.create('listed', {});
  });
  after(() => env?.close());

  const start = (extra: RawSettings) =>
    startService(parseSettings({ ...(env.cliEnv as RawSettings), DKE_PORT: '0', DKE_HOST: '127.0.0.1', ...extra }), createLogger('error', new PassThrough()));

  it('listens on DKE_ADMIN_PORT at 127.0.0.1, answers the admin API there (not on the DKE port), and stops with the service', async () => {
    const running = await start({ DKE_ADMIN_PORT: '0' });
    try {
      assert.ok(running.adminServer && running.adminUrl, 'no admin listener');
      const address = running.adminServer.address();
      assert.equal(typeof address === 'object' && address !== null ? address.address : '', '127.0.0.1');
      const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
      const res = await fetch(`${running.adminUrl}/keys`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { name: string }[]).map((k) => k.name), ['listed']);
      const onDkePort = await fetch(`${running.url}/admin/api/keys`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(onDkePort.status, 404);
    } finally {
      await running.stop();
    }
    await assert.rejects(fetch(`${running.adminUrl}/keys`), 'the admin listener still answers after the stop');
    assert.equal(running.adminServer.listening, false);
    assert.equal(running.server.listening, false);
  });

  it('without DKE_ADMIN_PORT there is no admin listener', async () => {
    const running = await start({});
    try {
      assert.equal(running.adminServer, undefined);
      assert.equal(running.adminUrl, undefined);
    } finally {
      await running.stop();
    }
  });
});
