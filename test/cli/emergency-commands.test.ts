// Contract §3 (`dke emergency block|unblock --yes`) and §6 (`/admin/api/emergency-block`): the kill switch. While it is
// on, no version of any key decrypts (403 key_not_usable, the answer of a disabled version) or is published (GET 404);
// the CLI and the service share it through the store, so the service's next request sees it; per-version Enabled
// flags are kept and apply again when it is lifted; both steps are audited with who did them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const ADMIN_OID = 'a0000000-0000-4000-8000-0000000000a1';

describe('§3, §6 the emergency block (real CLI process, running service, admin API)', () => {
  let env: TestEnv;
  let open: string;
  let disabled: string;
  const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'oncall@contoso.dev' });

  before(async () => {
    env = await startTestEnv();
    const allow = { users: [USER], groups: [], roles: [] };
    open = (await env.admin.create('open-key', { allow })).keyId;
    disabled = (await env.admin.create('disabled-key', { allow })).keyId;
    await env.admin.setEnabled('disabled-key', disabled, false);
  });
  after(() => env?.close());

  it('without --yes nothing changes (exit 3, the sentence says how to go ahead)', async () => {
    const result = cli('emergency', 'block');
    assert.equal(result.status, 3);
    assert.match(result.stdout, /Nothing was changed\. To go ahead: dke emergency block --yes/);
    assert.equal((await decryptAs(env, USER, 'open-key', open, Buffer.from('a'))).status, 200);
  });

  it('dke emergency block --yes: the service\'s next decrypt is 403 key_not_usable and GET is 404, for every key', async () => {
    const result = cli('emergency', 'block', '--yes', '--json');
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.blocked, true);
    assert.equal(printed.by, 'oncall@contoso.dev');
    const res = await decryptAs(env, USER, 'open-key', open, Buffer.from('b'));
    assert.equal(res.status, 403);
    assert.deepEqual(res.body, { error: 'key_not_usable', message: 'This key cannot be used to decrypt.' });
    await env.http.get('/open-key').expect(404);
    // Read by the admin API from the same store.
    const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const view = await supertest(env.service.adminApp).get('/admin/api/emergency-block').set('Authorization', `Bearer ${token}`).expect(200);
    assert.deepEqual(view.body, { blocked: true, since: printed.since, by: 'oncall@contoso.dev' });
    // Blocking again changes nothing: the first since and by stay.
    assert.equal(JSON.parse(cli('emergency', 'block', '--yes', '--json').stdout).since, printed.since);
  });

  it('DELETE /admin/api/emergency-block lifts it: each version\'s own Enabled flag applies again, audited with both people', async () => {
    // The block it lifts is made here, from the block off, and only this test's audit entries are compared, so that
    // the test holds when run alone or in any order.
    assert.equal(cli('emergency', 'unblock', '--yes').status, 0);
    const earlier = (await env.service.audit.list()).length;
    assert.equal(cli('emergency', 'block', '--yes').status, 0);
    assert.equal(cli('emergency', 'block', '--yes').status, 0);
    assert.equal((await decryptAs(env, USER, 'open-key', open, Buffer.from('b'))).status, 403, 'blocked before it is lifted');
    const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID, roles: ['DKE.Admin'] });
    await supertest(env.service.adminApp).delete('/admin/api/emergency-block').set('Authorization', `Bearer ${token}`).expect(200, { blocked: false });
    assert.equal((await decryptAs(env, USER, 'open-key', open, Buffer.from('c'))).status, 200);
    await env.http.get('/open-key').expect(200);
    assert.equal((await decryptAs(env, USER, 'disabled-key', disabled, Buffer.from('d'))).status, 403, 'the disabled version came back enabled');
    await env.http.get('/disabled-key').expect(404);
    assert.equal((await env.admin.show('disabled-key')).versions[0]!.enabled, false);
    const steps = (await env.service.audit.list()).slice(earlier).filter((e) => e.action.startsWith('emergency-'));
    assert.deepEqual(
      steps.map((e) => [e.action, e.actor, e.details?.changed]),
      [
        ['emergency-block', 'oncall@contoso.dev', true],
        ['emergency-block', 'oncall@contoso.dev', false],
        ['emergency-unblock', `${ADMIN_OID} (admin@contoso.dev)`, true],
      ],
    );
    const status = cli('emergency', 'status');
    assert.equal(status.status, 0);
    assert.match(status.stdout, /The emergency block is off/);
  });
});
