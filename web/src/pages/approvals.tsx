import { useState } from 'preact/hooks';
import { api, path } from '../api';
import { currentSession } from '../sign-in';
import { LIFT_LINE } from '../emergency';
import { impactLines, loadImpact } from '../impact';
import { ConfirmDialog, DataTable, ErrorText, Loading, StateBadge, Time, describe, shortId, useLoad, type ConfirmRequest } from '../ui';
import { DELETED_STATE, stateLabel, type AdminPolicyView, type ApprovalView as Approval } from '../vocabulary';

/** The audit trail names an admin `oid (name)`: the proposer is the signed-in user when the oid is theirs. */
export const proposedBy = (approval: Approval, oid: string): boolean => oid !== '' && approval.requestedBy.startsWith(`${oid} `);

function what(approval: Approval) {
  if (approval.operation === 'emergency-unblock') return <span>lift the emergency block</span>;
  if (approval.operation === 'set-policy') return <span>weaken the admin policy</span>;
  const version = approval.keyId ? <code title={approval.keyId}>{shortId(approval.keyId)}</code> : null;
  return approval.operation === 'delete' ? (
    <span>
      delete {approval.keyName} version {version}
    </span>
  ) : (
    <span>
      {approval.keyName} version {version} → {approval.state ? <StateBadge state={approval.state} /> : '?'}
    </span>
  );
}

/**
 * What approving runs, as the proposer saw it: the impact preview of a permanent step (GET …/impact, computed now),
 * or what lifting the emergency block does.
 */
async function approvalLines(approval: Approval): Promise<string[]> {
  if (approval.operation === 'emergency-unblock') {
    return [LIFT_LINE];
  }
  if (approval.operation === 'set-policy') return ['The admin policy becomes weaker for every instance and path; the audit trail\'s propose entry names the change.'];
  const to = approval.operation === 'delete' ? DELETED_STATE : approval.state;
  if (approval.keyName === undefined || approval.keyId === undefined || to === undefined) return [];
  return impactLines(await loadImpact(approval.keyName, approval.keyId, to));
}

/** The step in words, for the confirmation's title. */
function approvalTitle(approval: Approval): string {
  if (approval.operation === 'emergency-unblock') return 'lift the emergency block';
  if (approval.operation === 'set-policy') return 'weaken the admin policy';
  const version = `${approval.keyName ?? ''} version ${shortId(approval.keyId ?? '')}`;
  return approval.operation === 'delete' ? `delete ${version}` : `${version} → ${approval.state ? stateLabel(approval.state) : '?'}`;
}

/** The stored admin policy (contract §10), read-only: `dke policy set` or PUT /admin/api/policy change it. */
function PolicySummary({ policy }: { policy: AdminPolicyView | undefined }) {
  if (policy === undefined) return null;
  return (
    <section aria-labelledby="policy-title">
      <h2 id="policy-title">Policy</h2>
      <dl class="policy">
        <dt>Approvals required</dt>
        <dd>{policy.approvalsRequired}</dd>
        <dt>Deletion window</dt>
        <dd>
          {policy.deletionWindow.default} by default, at least {policy.deletionWindow.minimum}
        </dd>
        <dt>Rotation minimum</dt>
        <dd>{policy.rotationMinimum}</dd>
        <dt>App-only tokens may approve</dt>
        <dd>{policy.appOnlyMayApprove ? 'yes' : 'no'}</dd>
      </dl>
    </section>
  );
}

export function ApprovalsPage({ canChange, policy, onBlockChanged }: { canChange: boolean; policy: AdminPolicyView | undefined; onBlockChanged: () => void }) {
  const approvals = useLoad(() => api<Approval[]>('GET', '/approvals').then((r) => r.body), []);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState<ConfirmRequest>();
  const me = currentSession()?.oid ?? '';
  const decide = async (approval: Approval, decision: 'approve' | 'reject'): Promise<void> => {
    await api('POST', `${path('approvals', approval.id)}/${decision}`);
    setNotice(`Proposal ${approval.id} ${decision === 'approve' ? 'approved: the step ran' : 'rejected'}.`);
    approvals.reload();
    if (approval.operation === 'emergency-unblock') onBlockChanged();
  };
  /** Approving runs the step at once: the approver first sees what the proposer saw, then confirms. */
  const confirmApproval = (approval: Approval): void => {
    setError(undefined);
    approvalLines(approval).then(
      (lines) =>
        setConfirming({
          title: `Approve: ${approvalTitle(approval)}?`,
          lines: [...lines, `Proposed by ${approval.requestedBy}. Approving runs it now.`],
          confirmLabel: `Approve and run proposal ${approval.id}`,
          run: () => decide(approval, 'approve'),
        }),
      (e: unknown) => setError(describe(e)),
    );
  };
  const pending = approvals.data?.filter((a) => a.status === 'pending') ?? [];
  const decided = approvals.data?.filter((a) => a.status !== 'pending') ?? [];
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p>With a policy of two approvals, deactivating, compromising or deleting a version, lifting the emergency block and weakening the policy wait for a second, different person.</p>
      <PolicySummary policy={policy} />
      <ErrorText text={approvals.error ?? error} />
      <p class="status" role="status">
        {notice ?? ''}
      </p>
      {approvals.data === undefined && approvals.error === undefined && <Loading what="proposals" />}
      <h2>Pending</h2>
      {approvals.data && pending.length === 0 && <p>Nothing waits for an approval.</p>}
      {pending.length > 0 && (
        <ul class="cards">
          {pending.map((a) => {
            const own = proposedBy(a, me);
            return (
              <li key={a.id} class="card">
                <p>
                  <strong>{what(a)}</strong>
                </p>
                <p>
                  Proposed by {a.requestedBy} at <Time at={a.requestedAt} />; expires <Time at={a.expiresAt} />.
                </p>
                {own && <p class="note">You proposed this: another admin must approve it.</p>}
                <div class="actions">
                  <button type="button" class="action" disabled={!canChange || own} onClick={() => confirmApproval(a)}>
                    Approve<span class="sr-only"> proposal {a.id}</span>
                  </button>
                  <button type="button" class="action danger" disabled={!canChange} onClick={() => decide(a, 'reject').catch((e: unknown) => setError(describe(e)))}>
                    {own ? 'Withdraw' : 'Reject'}
                    <span class="sr-only"> proposal {a.id}</span>
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      <h2>Decided</h2>
      {decided.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <DataTable label="Decided proposals" columns={['What', 'Status', 'Proposed by', 'Decided by']}>
              {decided.map((a) => (
                <tr key={a.id}>
                  <td>{what(a)}</td>
                  <td>{a.status}</td>
                  <td>{a.requestedBy}</td>
                  <td>
                    {a.decidedBy ?? '—'} {a.decidedAt && <Time at={a.decidedAt} />}
                  </td>
                </tr>
              ))}
            </DataTable>
      )}
      <ConfirmDialog request={confirming} onDone={() => setConfirming(undefined)} />
    </section>
  );
}
