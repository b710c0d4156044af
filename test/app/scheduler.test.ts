/**
 * Contract §4 (the deletion window), §3 (`dke keys delete`, `dke keys cancel-deletion`) and §6 (DELETE …/{keyId},
 * POST …/cancel-deletion): a delete stops the version decrypting and being published at once, `show` gives
 * `deletion {requestedAt, destroyAt}`, cancel-deletion restores it exactly, and when the window ends the scheduler
 * (one instance, under the store's lease) destroys the HSM objects (read back from the token) and records Destroyed;
 * a `dke serve` killed half-way through a destruction is finished by the next run. Real NSS token, real CLI processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { decryptAs } from '../support/decrypt-client.js';
import { CLI_WITH_FAULTS_PATH, runCli } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

describe('§4 the deletion window and the scheduler that ends it', () => {
  let env: TestEnv;
  before(async () => {
    // Its jobs run when a test says so (runScheduledJobs), never on the 30 s timer: otherwise the timer may take back a
    // lease a test hands to a second instance, and that instance finds nothing to do (seen under load).
    // No takeover timer (issue 25): the scheduler passes these tests drive must meet a dead run's step themselves.
    env = await startTestEnv({ settings: { DKE_DELETION_WINDOW: '2s' }, service: { schedulerIntervalMs: 3_600_000, takeoverIntervalMs: 3_600_000 } });
  });
  after(() => env?.close());

  /** The key ids of `name` whose private or public object the token holds, read from the token itself. */
  const inToken = async (name: string): Promise<string[]> =>
    (await env.service.hsm.vault.listKeyObjects()).filter((o) => o.ref.name === name).map((o) => o.ref.keyId);
  const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'oncall@contoso.dev' });
  /** A decrypt whose answer comes before the body is read: 404 for an unknown or Destroyed version, 403 when not usable. */
  const decryptWithoutBody = async (name: string, keyId: string) =>
    env.http.post(`/${name}/${keyId}/decrypt`).set('Content-Type', 'application/json').set('Authorization', `Bearer ${await env.token({ upn: USER })}`).send('{}');
  const waitPast = async (iso: string): Promise<void> => {
    const wait = Date.parse(iso) - Date.now() + 50;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };

  it('dke keys delete schedules: decrypt 403 and GET 404 at once, show gives the deletion, nothing leaves the token yet', async () => {
    const { keyId } = await env.admin.create('windowed', { allow });
    assert.equal((await decryptAs(env, USER, 'windowed', keyId, Buffer.from('a'))).status, 200);
    const result = cli('keys', 'delete', 'windowed', keyId, '--yes', '--json');
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.state, 'active');
    assert.equal(Date.parse(printed.deletion.destroyAt) - Date.parse(printed.deletion.requestedAt), 2000);
    const res = await decryptAs(env, USER, 'windowed', keyId, Buffer.from('b'));
    assert.deepEqual([res.status, res.body.error], [403, 'key_not_usable']);
    await env.http.get('/windowed').expect(404);
    assert.deepEqual((await env.admin.show('windowed')).versions[0]!.deletion, printed.deletion);
    assert.match(cli('keys', 'show', 'windowed').stdout, new RegExp(`${keyId} .*DELETION SCHEDULED: destroyed at ${printed.deletion.destroyAt.replace(/[.]/g, '\\.')} unless cancelled`));
    assert.deepEqual(await inToken('windowed'), [keyId], 'the objects are still there');
    // While it waits, no permanent step and no second delete.
    await assert.rejects(env.admin.setState('windowed', keyId, 'deactivated', true), /scheduled for destruction at .*cancel the deletion first/);
    assert.equal(cli('keys', 'delete', 'windowed', keyId, '--yes').status, 2);
  });

  it('cancel-deletion (CLI, then API after a second delete) brings the version back exactly as it was', async () => {
    await env.admin.create('regretted', { allow });
    const disabledId = (await env.admin.rotate('regretted')).keyId;
    await env.admin.setEnabled('regretted', disabledId, false);
    const before = (await env.admin.show('regretted'));
    await env.admin.delete('regretted', disabledId, true);
    const cancelled = cli('keys', 'cancel-deletion', 'regretted', disabledId);
    assert.equal(cancelled.status, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /no longer scheduled for destruction; it is Active and disabled, as before the delete/);
    assert.deepEqual((await env.admin.show('regretted')), before);
    // Through the admin API: the published, enabled version is scheduled, then restored: it decrypts and is served again.
    await env.admin.setEnabled('regretted', disabledId, true);
    const restoredView = (await env.admin.show('regretted'));
    const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Admin'] });
    const api = supertest(env.service.adminApp);
    const scheduled = await api.delete(`/admin/api/keys/regretted/versions/${disabledId}`).set('Authorization', `Bearer ${token}`).expect(200);
    assert.equal(scheduled.body.applied, true);
    assert.ok(scheduled.body.deletion.destroyAt);
    await env.http.get('/regretted').expect(404);
    await api.post(`/admin/api/keys/regretted/versions/${disabledId}/cancel-deletion`).set('Authorization', `Bearer ${token}`).expect(200, { name: 'regretted', keyId: disabledId, state: 'active', enabled: true });
    assert.deepEqual((await env.admin.show('regretted')), restoredView);
    await env.http.get('/regretted').expect(200);
    assert.equal((await decryptAs(env, USER, 'regretted', disabledId, Buffer.from('c'))).status, 200);
    // Nothing left to cancel: 409.
    const again = await api.post(`/admin/api/keys/regretted/versions/${disabledId}/cancel-deletion`).set('Authorization', `Bearer ${token}`);
    assert.deepEqual([again.status, again.body.error], [409, 'conflict']);
    const actions = (await env.service.audit.list()).filter((e) => e.keyName === 'regretted' && (e.action === 'delete' || e.action === 'cancel-deletion'));
    assert.deepEqual(actions.map((e) => `${e.action} ${e.outcome}`), ['delete succeeded', 'cancel-deletion succeeded', 'delete succeeded', 'cancel-deletion succeeded', 'cancel-deletion refused']);
  });

  it('when the window ends, the scheduler destroys the objects (gone from the token) and records Destroyed as `scheduler`', async () => {
    const { keyId } = await env.admin.create('expiring', { allow });
    const outcome = await env.admin.delete('expiring', keyId, true);
    assert.ok(outcome.applied && outcome.deletion);
    const early = await env.service.runScheduledJobs();
    assert.equal(early.destroyed.some((v) => v.name === 'expiring'), false, 'destroyed before destroyAt');
    assert.deepEqual(await inToken('expiring'), [keyId]);
    await waitPast(outcome.deletion.destroyAt);
    const run = await env.service.runScheduledJobs();
    assert.equal(run.ran, true);
    assert.deepEqual(run.destroyed.filter((v) => v.name === 'expiring'), [{ name: 'expiring', keyId, state: 'destroyed', enabled: true }]);
    assert.deepEqual(await inToken('expiring'), [], 'the token still holds objects of the destroyed version');
    const version = (await env.admin.show('expiring')).versions[0]!;
    assert.equal(version.state, 'destroyed');
    assert.equal(version.deletion, undefined);
    assert.equal((await decryptWithoutBody('expiring', keyId)).status, 404);
    const entry = (await env.service.audit.list()).filter((e) => e.action === 'destroy' && e.keyName === 'expiring').at(-1);
    assert.deepEqual([entry?.actor, entry?.outcome, entry?.details?.objectsDestroyed], ['scheduler', 'succeeded', true]);
    // The next run finds nothing to do.
    assert.equal((await env.service.runScheduledJobs()).destroyed.length, 0);
  });

  it('another live instance holding the lease keeps this one from running the jobs', async () => {
    const now = new Date().toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const holder = (await env.service.store.jobLeaseHolder('scheduler'))!;
    // An instance on another host (whose liveness this one cannot see) takes the lease; this one must not run.
    assert.equal(await env.service.store.claimJobLease('scheduler', 'other-host:4242', now, until), false, 'a held lease was taken');
    assert.equal(await env.service.store.claimJobLease('scheduler', 'other-host:4242', now, until, holder), true);
    const run = await env.service.runScheduledJobs();
    assert.deepEqual(run, { ran: false, destroyed: [], rotated: [] });
    assert.equal(await env.service.store.claimJobLease('scheduler', holder, now, until, 'other-host:4242'), true);
  });

  it('a key whose step is still in progress is left for the next pass; the other due deletions go ahead (issue 25)', async () => {
    const busy = await env.admin.create('busy-step', { allow });
    const free = await env.admin.create('free-step', { allow });
    const busyDeletion = await env.admin.delete('busy-step', busy.keyId, true);
    const freeDeletion = await env.admin.delete('free-step', free.keyId, true);
    assert.ok(busyDeletion.applied && busyDeletion.deletion && freeDeletion.applied && freeDeletion.deletion);
    await waitPast(busyDeletion.deletion.destroyAt > freeDeletion.deletion.destroyAt ? busyDeletion.deletion.destroyAt : freeDeletion.deletion.destroyAt);
    // Another instance is finishing a step on "busy-step" under a lease that has not passed.
    const leaseUntil = new Date(Date.now() + 60_000).toISOString();
    await env.service.store.change((tx) =>
      tx.beginIntent({ action: 'set-state', name: 'busy-step', keyId: busy.keyId, actor: 'another-admin', owner: 'other-host:4242', createdAt: new Date().toISOString(), leaseUntil, details: { from: 'active', to: 'deactivated' } }),
    );
    const run = await env.service.runScheduledJobs();
    assert.deepEqual(run.destroyed.map((v) => v.name), ['free-step']);
    assert.equal((await env.admin.show('busy-step')).versions[0]!.state, 'active', 'left for the holder of its step');
    const [intent] = (await env.service.store.pendingIntents()).filter((i) => i.name === 'busy-step');
    await env.service.store.change((tx) => tx.finishIntent(intent!.id));
    // Nothing due is left behind for the tests after this one.
    await env.admin.cancelDeletion('busy-step', busy.keyId);
  });

  it('a `dke serve` killed right after destroying the objects is finished by the next run (idempotent)', async function () {
    this.timeout(30_000);
    const { keyId } = await env.admin.create('half-done', { allow });
    const outcome = await env.admin.delete('half-done', keyId, true);
    assert.ok(outcome.applied && outcome.deletion);
    await waitPast(outcome.deletion.destroyAt);
    // This instance lets its lease lapse (as if it had stopped); a second one runs the due destruction at its start
    // and dies (SIGKILL) right after the token step.
    const now = new Date().toISOString();
    const holder = await env.service.store.jobLeaseHolder('scheduler');
    assert.equal(await env.service.store.claimJobLease('scheduler', 'stopped-instance', now, now, holder), true);
    const child = spawn(process.execPath, [CLI_WITH_FAULTS_PATH, 'serve'], {
      env: { ...env.cliEnv, DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_FAULT_KILL_AFTER: 'destroy:token', DKE_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGTERM'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, sig) => resolve([c, sig])));
    clearTimeout(killer);
    assert.equal(signal, 'SIGKILL', `the second instance exited with ${code} instead: ${stderr}`);
    assert.deepEqual(await inToken('half-done'), [], 'the killed run destroyed the objects');
    assert.equal((await env.admin.show('half-done')).versions[0]!.state, 'active', 'the record was not written before the kill');
    assert.equal((await decryptWithoutBody('half-done', keyId)).status, 403);
    // The dead process holds the scheduler's lease: it is taken over at once. Its intent's own lease (100 ms in the test
    // build) is taken over once it has passed (issue 25): the next pass reconciles it and closes the schedule. Running
    // the pass before that lease passed made this test fail now and then.
    const [leftBehind] = await env.service.store.pendingIntents();
    await waitPast(leftBehind!.leaseUntil);
    const run = await env.service.runScheduledJobs();
    assert.equal(run.ran, true);
    const version = (await env.admin.show('half-done')).versions[0]!;
    assert.equal(version.state, 'destroyed');
    assert.equal(version.deletion, undefined);
    assert.equal((await env.service.audit.verify()).ok, true);
  });
});
