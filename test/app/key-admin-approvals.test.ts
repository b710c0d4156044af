/**
 * Contract §6 (two-person approval) and §3 (`dke approvals list|approve|reject`): with DKE_APPROVALS_REQUIRED=2 a move
 * to Deactivated or Compromised, a delete and lifting the emergency block answer 202 with a pending proposal and happen
 * only when an admin with another oid approves it within DKE_APPROVAL_TTL; the proposer approving is 403
 * same_principal; a decided or expired proposal 409; the state table is re-checked when it runs; the audit trail
 * names both people. Real tokens with roles, real NSS token, real CLI processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };
const ADMIN_OID = 'a0000000-0000-4000-8000-0000000000a1';
const APPROVER_OID = 'a0000000-0000-4000-8000-0000000000a2';

describe('§6 two-person approval (DKE_APPROVALS_REQUIRED=2)', () => {
  let env: TestEnv;
  let api: ReturnType<typeof supertest>;
  let admin: string;
  let approver: string;
  before(async () => {
    env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '2', DKE_APPROVAL_TTL: '1h' } });
    api = supertest(env.service.adminApp);
    admin = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID, roles: ['DKE.Admin'] });
    approver = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'approver@contoso.dev', oid: APPROVER_OID, roles: ['DKE.Admin'] });
  });
  after(() => env?.close());

  const as = (token: string, req: supertest.Test) => req.set('Authorization', `Bearer ${token}`);
  const propose = async (name: string, keyId: string, state: string) => {
    const res = await as(admin, api.post(`/admin/api/keys/${name}/versions/${keyId}/state`).send({ state }));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.approval as { id: string; status: string; expiresAt: string; requestedAt: string };
  };

  it('a deactivation answers 202 with the pending proposal and changes nothing until another admin approves it', async () => {
    const { keyId } = await env.admin.create('four-eyes', { allow });
    const approval = await propose('four-eyes', keyId, 'deactivated');
    assert.deepEqual(Object.keys(approval).sort(), ['expiresAt', 'id', 'keyId', 'keyName', 'operation', 'requestedAt', 'requestedBy', 'state', 'status']);
    assert.equal(approval.status, 'pending');
    assert.equal(Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt), 3_600_000);
    assert.equal((await decryptAs(env, USER, 'four-eyes', keyId, Buffer.from('a'))).status, 200, 'the proposal alone changed the key');
    const self = await as(admin, api.post(`/admin/api/approvals/${approval.id}/approve`));
    assert.deepEqual([self.status, self.body.error], [403, 'same_principal']);
    const approved = await as(approver, api.post(`/admin/api/approvals/${approval.id}/approve`)).expect(200);
    assert.equal(approved.body.approval.status, 'approved');
    assert.equal(approved.body.approval.decidedBy, `${APPROVER_OID} (approver@contoso.dev)`);
    assert.equal(approved.body.result.version.state, 'deactivated');
    assert.equal((await decryptAs(env, USER, 'four-eyes', keyId, Buffer.from('b'))).status, 403);
    const again = await as(approver, api.post(`/admin/api/approvals/${approval.id}/approve`));
    assert.deepEqual([again.status, again.body.error, again.body.message], [409, 'conflict', `Proposal ${approval.id} is already approved.`]);
    const entries = (await env.service.audit.list()).filter((e) => e.keyName === 'four-eyes' && ['propose', 'approve', 'set-state'].includes(e.action) && e.outcome === 'succeeded');
    assert.deepEqual(entries.map((e) => [e.action, e.actor]), [
      ['propose', `${ADMIN_OID} (admin@contoso.dev)`],
      ['set-state', `${APPROVER_OID} (approver@contoso.dev)`],
      ['approve', `${APPROVER_OID} (approver@contoso.dev)`],
    ]);
    assert.equal(entries[2]!.details?.proposedBy, `${ADMIN_OID} (admin@contoso.dev)`);
  });

  it('a delete is a proposal too; reject drops it; unknown ids are 404', async () => {
    const { keyId } = await env.admin.create('rejected', { allow });
    const res = await as(admin, api.delete(`/admin/api/keys/rejected/versions/${keyId}`)).expect(202);
    assert.equal(res.body.approval.operation, 'delete');
    const rejected = await as(approver, api.post(`/admin/api/approvals/${res.body.approval.id}/reject`)).expect(200);
    assert.equal(rejected.body.status, 'rejected');
    await as(approver, api.post(`/admin/api/approvals/${res.body.approval.id}/approve`)).expect(409);
    assert.equal((await decryptAs(env, USER, 'rejected', keyId, Buffer.from('c'))).status, 200);
    await as(approver, api.post('/admin/api/approvals/no-such-id/approve')).expect(404);
    // Reversible steps never wait.
    await as(admin, api.post(`/admin/api/keys/rejected/versions/${keyId}/disable`)).expect(200);
  });

  it('a proposal is bound to the state it was made against: approved after that changed, it is 409 and failed (issue 26)', async () => {
    const { keyId } = await env.admin.create('raced', { allow });
    const deactivate = await propose('raced', keyId, 'deactivated');
    const compromise = await propose('raced', keyId, 'compromised');
    await as(approver, api.post(`/admin/api/approvals/${compromise.id}/approve`)).expect(200);
    const late = await as(approver, api.post(`/admin/api/approvals/${deactivate.id}/approve`));
    assert.deepEqual([late.status, late.body.error], [409, 'conflict']);
    assert.equal(late.body.message, `Version ${keyId} of "raced" was Active when proposal ${deactivate.id} was made and is Compromised now; propose the step again.`);
    const listed = await as(admin, api.get('/admin/api/approvals')).expect(200);
    assert.equal(listed.body.find((a: { id: string }) => a.id === deactivate.id).status, 'failed');
  });

  it('lifting the emergency block waits for a second admin; setting it never does', async () => {
    await as(admin, api.put('/admin/api/emergency-block')).expect(200);
    const lift = await as(admin, api.delete('/admin/api/emergency-block')).expect(202);
    assert.equal(lift.body.approval.operation, 'emergency-unblock');
    assert.equal((await as(admin, api.get('/admin/api/emergency-block'))).body.blocked, true);
    await as(approver, api.post(`/admin/api/approvals/${lift.body.approval.id}/approve`)).expect(200);
    assert.equal((await as(admin, api.get('/admin/api/emergency-block'))).body.blocked, false);
  });

  it('dke approvals list|approve|reject work on the same proposals, the CLI being the principal os:USER@HOST whatever DKE_ADMIN_ACTOR says', async () => {
    const { keyId } = await env.admin.create('by-cli', { allow });
    const approval = await propose('by-cli', keyId, 'compromised');
    const cli = (actor: string, ...args: string[]) => runCli(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: actor });
    const list = cli('oncall@contoso.dev', 'approvals', 'list', '--json');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(JSON.parse(list.stdout).find((a: { id: string }) => a.id === approval.id).status, 'pending');
    // A CLI proposal, then the same actor tries to approve it: refused (exit 2) with the sentence.
    const proposed = cli('oncall@contoso.dev', 'keys', 'delete', 'by-cli', keyId, '--yes', '--json');
    assert.equal(proposed.status, 0, proposed.stderr);
    const own = JSON.parse(proposed.stdout).approval.id as string;
    // Issue 26: another DKE_ADMIN_ACTOR in the same shell is the same person (os:USER@HOST), not a second admin.
    const self = cli('someone-else@contoso.dev', 'approvals', 'approve', own);
    assert.equal(self.status, 2);
    assert.equal(self.stderr, `dke: Proposal ${own} was made by you; another admin must approve it.\n`);
    assert.equal(cli('oncall@contoso.dev', 'approvals', 'reject', own).status, 0);
    const ok = cli('second@contoso.dev', 'approvals', 'approve', approval.id);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^Approved: .* approved +set-state by-cli .* compromised/);
    assert.equal((await env.admin.show('by-cli')).versions[0]!.state, 'compromised');
  });
});

describe('§6 an expired proposal', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '2', DKE_APPROVAL_TTL: '1s' } });
  });
  after(() => env?.close());

  it('is listed as expired and answers 409 when approved after DKE_APPROVAL_TTL', async () => {
    const { keyId } = await env.admin.create('too-late', { allow });
    const outcome = await env.service.admin('proposer', 'p-1').setState('too-late', keyId, 'deactivated', true);
    assert.ok(!outcome.applied && 'approval' in outcome);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(outcome.approval.expiresAt) - Date.now() + 50));
    assert.equal((await env.admin.approvals())[0]!.status, 'expired');
    await assert.rejects(env.service.admin('approver', 'p-2').approve(outcome.approval.id), /expired at .*propose the step again/);
    assert.equal((await env.admin.show('too-late')).versions[0]!.state, 'active');
  });
});
