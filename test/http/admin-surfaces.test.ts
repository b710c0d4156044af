// Issue 29, the admin API as a surface of its own: a read writes nothing (the impact preview the console shows
// before a confirmation leaves the audit trail and the intents as they were, even when it answers a refusal), and a
// refusal tells an API caller the route to call, never a `dke` command; the CLI, for the same refusal, names its verb.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import type { NextStep } from '../../src/keys/errors.js';
import { ADMIN_ROUTES, routeOfStep } from '../../src/http/admin-routes.js';
import { commandOfStep } from '../../src/cli/next-steps.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

describe('issue 29: the admin API reads without writing and speaks in routes', () => {
  let env: TestEnv;
  let api: ReturnType<typeof supertest>;
  let adminToken: string;
  const asAdmin = (req: supertest.Test): supertest.Test => req.set('Authorization', `Bearer ${adminToken}`);
  const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'admin@contoso.dev' });
  /** What a read must leave as it was: every audit entry and every unfinished step. */
  const written = async (): Promise<{ entries: number; intents: number }> => ({
    entries: (await env.service.audit.list()).length,
    intents: (await env.service.store.pendingIntents()).length,
  });

  before(async () => {
    // A deletion window, so that a version can wait for its destruction.
    env = await startTestEnv({ settings: { DKE_DELETION_WINDOW: '7d' } });
    api = supertest(env.service.adminApp);
    adminToken = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: 'a0000000-0000-4000-8000-0000000000a1', roles: ['DKE.Admin'] });
  });
  after(() => env?.close());

  it('GET …/impact writes no audit entry and no intent and asks the token nothing: for a preview, a refused step and an unknown version alike', async () => {
    const { keyId: active } = await env.admin.create('impact-read', {});
    const { keyId: final } = await env.admin.rotate('impact-read');
    await env.admin.setState('impact-read', final, 'compromised', true);
    const { keyId: waiting } = await env.admin.rotate('impact-read');
    await env.admin.delete('impact-read', waiting, true);
    const before = await written();
    // Every token call that changes or reads key objects, counted while the previews run.
    const vault = env.service.hsm.vault as unknown as Record<string, (...args: unknown[]) => unknown>;
    const tokenCalls: string[] = [];
    const watched = ['generateKeyPair', 'importPrivateKey', 'destroy', 'forbidDecrypt', 'attest'] as const;
    const originals = watched.map((method) => [method, vault[method]!] as const);
    for (const [method, original] of originals) vault[method] = (...args: unknown[]) => (tokenCalls.push(method), original.apply(env.service.hsm.vault, args));

    const preview = await asAdmin(api.get(`/admin/api/keys/impact-read/versions/${active}/impact?to=compromised`)).expect(200);
    assert.equal(preview.body.keyId, active);
    assert.equal(preview.body.to, 'compromised');
    const refused = await asAdmin(api.get(`/admin/api/keys/impact-read/versions/${final}/impact?to=deactivated`));
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.deepEqual(refused.body, { error: 'conflict', message: 'A version in state Compromised cannot become Deactivated; allowed from Compromised: none, it is final.' });
    const scheduled = await asAdmin(api.get(`/admin/api/keys/impact-read/versions/${waiting}/impact?to=destroyed`));
    assert.equal(scheduled.status, 409, JSON.stringify(scheduled.body));
    await asAdmin(api.get('/admin/api/keys/impact-read/versions/no-such-version/impact?to=destroyed')).expect(404);
    await asAdmin(api.get('/admin/api/keys/no-such-key/versions/x/impact?to=destroyed')).expect(404);
    for (const [method, original] of originals) vault[method] = original;

    assert.deepEqual(await written(), before);
    assert.deepEqual(tokenCalls, []);
  });

  it('a create of a name that exists: the API names the rotate route, the CLI the rotate verb', async () => {
    await env.admin.create('spoken', {});
    const res = await asAdmin(api.post('/admin/api/keys').send({ name: 'spoken' }));
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { error: 'conflict', message: 'The key name "spoken" exists already; use POST /admin/api/keys/spoken/rotate for a new version.' });
    const byCli = cli('keys', 'create', 'spoken');
    assert.equal(byCli.status, 2);
    assert.equal(byCli.stderr, 'dke: The key name "spoken" exists already; use "dke keys rotate spoken" for a new version.\n');
  });

  it('set-state to Destroyed: the API names the DELETE route, the CLI "dke keys delete … --yes"', async () => {
    const { keyId } = await env.admin.create('not-by-state', {});
    const res = await asAdmin(api.post(`/admin/api/keys/not-by-state/versions/${keyId}/state`).send({ state: 'destroyed' }));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'refused');
    assert.doesNotMatch(res.body.message, /\bdke /);
    assert.match(res.body.message, new RegExp(`DELETE /admin/api/keys/not-by-state/versions/${keyId}\\b`));
    const byCli = cli('keys', 'set-state', 'not-by-state', keyId, 'destroyed');
    assert.equal(byCli.status, 2);
    assert.match(byCli.stderr, new RegExp(`^dke: .*"dke keys delete not-by-state ${keyId} --yes"`));
  });

  it('a version waiting for its destruction: the API names the cancel-deletion route, the CLI its verb', async () => {
    const { keyId } = await env.admin.create('waiting', {});
    await asAdmin(api.delete(`/admin/api/keys/waiting/versions/${keyId}`)).expect(200);
    const route = `POST /admin/api/keys/waiting/versions/${keyId}/cancel-deletion`;
    for (const res of [
      await asAdmin(api.delete(`/admin/api/keys/waiting/versions/${keyId}`)),
      await asAdmin(api.post(`/admin/api/keys/waiting/versions/${keyId}/state`).send({ state: 'deactivated' })),
    ]) {
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.doesNotMatch(res.body.message, /\bdke /);
      assert.ok(res.body.message.includes(route), res.body.message);
    }
    const again = cli('keys', 'delete', 'waiting', keyId, '--yes');
    assert.equal(again.status, 2);
    assert.match(again.stderr, new RegExp(`^dke: Version ${keyId} of "waiting" is already scheduled for destruction at \\S+; "dke keys cancel-deletion waiting ${keyId}" brings it back\\.\\n$`));
    const byState = cli('keys', 'set-state', 'waiting', keyId, 'deactivated', '--yes');
    assert.equal(byState.status, 2);
    assert.match(byState.stderr, new RegExp(`^dke: Version ${keyId} of "waiting" is scheduled for destruction at \\S+; cancel the deletion first \\("dke keys cancel-deletion waiting ${keyId}"\\)\\.\\n$`));
  });

  it('an unfinished step of another command: the API says to retry, the CLI names "dke keys reconcile"', async () => {
    const { keyId } = await env.admin.create('busy', {});
    // A step another host's command has under way (a reconcile there finishes it; nobody here touches it).
    const intent = await env.service.store.change((tx) =>
      tx.beginIntent({ action: 'set-state', name: 'busy', keyId, actor: 'someone', owner: `elsewhere-than-${hostname()}:1`, createdAt: new Date().toISOString(), leaseUntil: new Date(Date.now() + 3_600_000).toISOString(), details: { from: 'active', to: 'deactivated' } }),
    );
    try {
      const res = await asAdmin(api.post('/admin/api/keys/busy/rotate'));
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.doesNotMatch(res.body.message, /\bdke /);
      assert.match(res.body.message, /^An unfinished set-state of "busy" \(version \S+, by someone at \S+\) is pending; retry once it has finished/);
      const byCli = cli('keys', 'rotate', 'busy');
      assert.equal(byCli.status, 2);
      assert.match(byCli.stderr, /^dke: An unfinished set-state of "busy" \(version \S+, by someone at \S+\) is pending; if that command died, run "dke keys reconcile"\.\n$/);
    } finally {
      await env.service.store.change((tx) => tx.finishIntent(intent.id));
    }
  });
});

describe('issue 29: each next step, in the words of each surface', () => {
  const steps: readonly NextStep[] = [
    { kind: 'rotate-instead', name: 'n' },
    { kind: 'delete-instead', name: 'n', keyId: 'k' },
    { kind: 'cancel-deletion-first', name: 'n', keyId: 'k' },
    { kind: 'cancel-deletion-restores', name: 'n', keyId: 'k' },
    { kind: 'reconcile-if-died' },
  ];

  it('the admin API names a route it serves (or none), never a dke command', () => {
    const served = ADMIN_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path.replace('{name}', 'n').replace('{keyId}', 'k')}`);
    for (const step of steps) {
      const words = routeOfStep(step);
      assert.doesNotMatch(words, /\bdke /, step.kind);
      for (const named of words.match(/(GET|POST|PUT|DELETE) \/admin\/api\/\S*[\w}]/g) ?? []) assert.ok(served.includes(named), `${step.kind}: ${named} is not a route of the admin API`);
    }
    assert.equal(steps.filter((step) => /\/admin\/api\//.test(routeOfStep(step))).length, 4);
  });

  it('the CLI names a dke command for every step', () => {
    for (const step of steps) assert.match(commandOfStep(step), /"dke keys [a-z-]+[^"]*"/, step.kind);
  });
});
