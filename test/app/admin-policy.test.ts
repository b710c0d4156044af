/**
 * Contract §10 and issue 26 ("one admin authority"): the admin policy lives in the store, seeded once from the
 * configuration; every path reads it. The service here is configured with DKE_APPROVALS_REQUIRED=1 and no deletion
 * window, and so is every CLI process: once the stored policy requires two approvals, the admin API, the local CLI and
 * the scheduler obey the store, not their configuration. Stricter applies at once; weaker is a `set-policy` proposal;
 * approvers are people (app-only tokens refused) other than the proposer; a proposal is bound to the state it was made
 * against; a duplicate pending proposal names the first. Real tokens from the dev issuer, real NSS token, real CLI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const ADMIN_OID = 'b0000000-0000-4000-8000-0000000000b1';
const APPROVER_OID = 'b0000000-0000-4000-8000-0000000000b2';
const APP_OID = 'b0000000-0000-4000-8000-0000000000b3';
const allow = { users: ['alice@contoso.dev'], groups: [], roles: [] };

describe('§10 one admin authority: the policy in the store rules every path', () => {
  let env: TestEnv;
  let api: ReturnType<typeof supertest>;
  let admin: string;
  let approver: string;
  let app: string;
  before(async () => {
    env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '1', DKE_APPROVAL_TTL: '1h' }, service: { schedulerIntervalMs: 3_600_000 } });
    api = supertest(env.service.adminApp);
    admin = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID, roles: ['DKE.Admin'] });
    approver = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'approver@contoso.dev', oid: APPROVER_OID, roles: ['DKE.Admin'] });
    // An app-only token as Entra issues one to a service principal: `idtyp: "app"`, app roles, no delegated scope.
    app = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, oid: APP_OID, roles: ['DKE.Admin'], issuerVersion: 2, extraClaims: { idtyp: 'app', scp: undefined, azp: 'c0ffee00-0000-4000-8000-000000000001' } });
  });
  after(() => env?.close());

  const as = (token: string, req: supertest.Test) => req.set('Authorization', `Bearer ${token}`);
  const policy = async () => (await as(admin, api.get('/admin/api/policy')).expect(200)).body;
  const approve = (token: string, id: string) => as(token, api.post(`/admin/api/approvals/${id}/approve`));

  it('is seeded from the configuration when the store gets it', async () => {
    assert.deepEqual(await policy(), { approvalsRequired: 1, deletionWindow: { default: '0s', minimum: '0s' }, rotationMinimum: '1d', appOnlyMayApprove: false, deletionWindowMs: 0 });
  });

  it('stricter applies at once (200, audited); a delete shorter than the minimum is refused; the scheduler destroys nothing sooner', async () => {
    const { keyId: early } = await env.admin.create('early-delete', { allow });
    // Scheduled under the old policy, for one second from now.
    const scheduled = await as(admin, api.delete(`/admin/api/keys/early-delete/versions/${early}?window=1s`)).expect(200);
    const raised = await as(admin, api.put('/admin/api/policy').send({ deletionWindow: { default: '7d', minimum: '1h' }, rotationMinimum: '2d' })).expect(200);
    assert.deepEqual(raised.body.deletionWindow, { default: '7d', minimum: '1h' });
    const entry = (await env.service.audit.list()).filter((e) => e.action === 'set-policy').at(-1)!;
    assert.deepEqual([entry.actor, entry.outcome, entry.details?.deletionWindowMinimum], [`${ADMIN_OID} (admin@contoso.dev)`, 'succeeded', '1h']);

    const { keyId } = await env.admin.create('short-window', { allow });
    const refused = await as(admin, api.delete(`/admin/api/keys/short-window/versions/${keyId}?window=10m`));
    assert.deepEqual([refused.status, refused.body], [400, { error: 'refused', message: "A deletion window of 10m is shorter than the admin policy's minimum of 1h; delete with a window of 1h or more." }]);
    const rotation = await as(admin, api.put('/admin/api/keys/short-window/rotation').send({ every: '1d' }));
    assert.deepEqual([rotation.status, rotation.body.message], [400, 'A rotation period of "1d" is shorter than the minimum of 2d: each rotation makes a new key pair in the HSM. Use 2d or more, such as 90d.']);
    // A schedule stored before the minimum was raised runs at the minimum: the scheduler's next rotation is 2d away.
    await env.service.store.change((tx) => tx.setRotation('short-window', '1d'));
    const shown = (await as(admin, api.get('/admin/api/keys/short-window')).expect(200)).body;
    assert.equal(Date.parse(shown.rotation.nextAt) - Date.parse(shown.versions[0].createdAt), 2 * 86_400_000);

    // The scheduler: the version's own destroyAt has passed, the stored minimum (1 h after its delete) has not.
    const wait = Date.parse(scheduled.body.deletion.destroyAt) - Date.now() + 50;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    assert.deepEqual(await env.service.admin('scheduler').destroyDueVersions(), []);
    assert.equal((await env.service.hsm.vault.hasPrivateKey({ name: 'early-delete', keyId: early })), true);
  });

  it('with two approvals stored, the admin API changes nothing permanent for one person, whatever the instance was configured with', async () => {
    await as(admin, api.put('/admin/api/policy').send({ approvalsRequired: 2 })).expect(200);
    const { keyId } = await env.admin.create('guarded', { allow });
    const proposed = await as(admin, api.post(`/admin/api/keys/guarded/versions/${keyId}/state`).send({ state: 'deactivated' }));
    assert.equal(proposed.status, 202, JSON.stringify(proposed.body));
    const id = proposed.body.approval.id as string;
    // The same step again: refused with the id of the one that waits.
    const duplicate = await as(approver, api.post(`/admin/api/keys/guarded/versions/${keyId}/state`).send({ state: 'deactivated' }));
    const sentence = `Proposal ${id} for this step is already pending; approve or reject it instead of proposing it again.`;
    assert.deepEqual([duplicate.status, duplicate.body], [409, { error: 'conflict', message: sentence, existing: id }]);
    // The proposer, and an application the same person controls, are not a second person.
    assert.deepEqual((await approve(admin, id)).body.error, 'same_principal');
    const byApp = await approve(app, id);
    assert.deepEqual([byApp.status, byApp.body], [
      403,
      { error: 'app_only_approver', message: `Proposal ${id} must be approved by a person: this token is an application's (app-only), and the admin policy does not let applications approve.` },
    ]);
    assert.equal((await env.admin.show('guarded')).versions[0]!.state, 'active');
    const approved = await approve(approver, id).expect(200);
    assert.equal(approved.body.result.version.state, 'deactivated');
    // A delete waits as well.
    const { keyId: other } = await env.admin.create('guarded-delete', { allow });
    await as(admin, api.delete(`/admin/api/keys/guarded-delete/versions/${other}`)).expect(202);
  });

  it('an unblock names its block: approving it after the block was replaced is 409 and the proposal fails', async () => {
    const first = (await as(admin, api.put('/admin/api/emergency-block')).expect(200)).body.since as string;
    const stale = (await as(admin, api.delete('/admin/api/emergency-block')).expect(202)).body.approval.id as string;
    // The block is lifted outside the proposal (break-glass, straight in the store) and a new one set for a new incident.
    await env.service.store.change((tx) => tx.setEmergencyBlock(undefined));
    const second = (await as(admin, api.put('/admin/api/emergency-block')).expect(200)).body.since as string;
    const late = await approve(approver, stale);
    assert.deepEqual([late.status, late.body], [
      409,
      { error: 'conflict', message: `Proposal ${stale} would lift the emergency block set at ${first}; the block in force now was set at ${second}, so propose lifting it again.` },
    ]);
    assert.equal((await env.admin.approvals()).find((a) => a.id === stale)!.status, 'failed');
    assert.equal((await as(admin, api.get('/admin/api/emergency-block'))).body.blocked, true);
    const fresh = (await as(admin, api.delete('/admin/api/emergency-block')).expect(202)).body.approval.id as string;
    await approve(approver, fresh).expect(200);
    assert.equal((await as(admin, api.get('/admin/api/emergency-block'))).body.blocked, false);
  });

  it('the local CLI (configured with one approval) proposes as os:USER@HOST: --yes does not bypass the stored policy', async () => {
    const { keyId } = await env.admin.create('cli-guarded', { allow });
    const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_APPROVALS_REQUIRED: '1' });
    const shown = cli('policy', 'show', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), { approvalsRequired: 2, deletionWindow: { default: '7d', minimum: '1h' }, rotationMinimum: '2d', appOnlyMayApprove: false, deletionWindowMs: 604_800_000 });
    const proposed = cli('keys', 'set-state', 'cli-guarded', keyId, 'compromised', '--yes', '--json');
    assert.equal(proposed.status, 0, proposed.stderr);
    const approval = JSON.parse(proposed.stdout).approval;
    assert.deepEqual([approval.operation, approval.state, approval.status], ['set-state', 'compromised', 'pending']);
    assert.equal((await env.admin.show('cli-guarded')).versions[0]!.state, 'active');
    const lowered = cli('policy', 'set', '--approvals', '1');
    assert.equal(lowered.status, 0, lowered.stderr);
    assert.match(lowered.stdout, /^Proposal [0-9a-f-]{36} \(set-policy\) waits for another admin until .*: "dke approvals approve [0-9a-f-]{36}"\. Nothing was changed yet\.\n$/);
    assert.equal((await policy()).approvalsRequired, 2);
    // The CLI's principal is the OS user on this host, so a token's oid is another person and may approve.
    await approve(approver, approval.id).expect(200);
    assert.equal((await env.admin.show('cli-guarded')).versions[0]!.state, 'compromised');
  });

  it('weakening the policy through the API is a set-policy proposal that another person approves', async () => {
    const pending = (await env.admin.approvals()).find((a) => a.operation === 'set-policy' && a.status === 'pending')!;
    const again = await as(admin, api.put('/admin/api/policy').send({ approvalsRequired: 1 }));
    assert.deepEqual([again.status, again.body.existing], [409, pending.id]);
    const allowApps = await as(admin, api.put('/admin/api/policy').send({ appOnlyMayApprove: true })).expect(202);
    assert.equal(allowApps.body.approval.operation, 'set-policy');
    // The approver reads what it would do in the propose entry of the audit trail.
    const entry = (await env.service.audit.list()).find((e) => e.action === 'propose' && e.details?.approval === allowApps.body.approval.id)!;
    assert.deepEqual([entry.details?.weaker, entry.details?.appOnlyMayApprove, entry.details?.approvalsRequired], ['app-only principals may approve', true, 2]);
    assert.equal((await approve(app, allowApps.body.approval.id)).body.error, 'app_only_approver');
    await approve(approver, allowApps.body.approval.id).expect(200);
    assert.equal((await policy()).appOnlyMayApprove, true);
    // Made against the policy before that change, the CLI's proposal to lower the approvals fails now.
    const late = await approve(approver, pending.id);
    assert.deepEqual([late.status, late.body.message], [409, `The admin policy changed since proposal ${pending.id} was made; propose the change again.`]);
    // Now an application may approve: it lowers the approvals, and a deactivation applies at once.
    const lower = (await as(admin, api.put('/admin/api/policy').send({ approvalsRequired: 1 })).expect(202)).body.approval.id as string;
    await approve(app, lower).expect(200);
    assert.equal((await policy()).approvalsRequired, 1);
    const { keyId } = await env.admin.create('unguarded', { allow });
    await as(admin, api.post(`/admin/api/keys/unguarded/versions/${keyId}/state`).send({ state: 'deactivated' })).expect(200);
  });
});
