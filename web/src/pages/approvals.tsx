import { useState } from 'preact/hooks';
import { api, path } from '../api';
import { currentSession } from '../sign-in';
import { DataTable, ErrorText, Loading, StateBadge, Time, describe, shortId, useLoad } from '../ui';
import type { ApprovalView as Approval } from '../vocabulary';

/** The audit trail names an admin `oid (name)`: the proposer is the signed-in user when the oid is theirs. */
export const proposedBy = (approval: Approval, oid: string): boolean => oid !== '' && approval.requestedBy.startsWith(`${oid} `);

function what(approval: Approval) {
  if (approval.operation === 'emergency-unblock') return <span>lift the emergency block</span>;
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

export function ApprovalsPage({ canChange }: { canChange: boolean }) {
  const approvals = useLoad(() => api<Approval[]>('GET', '/approvals').then((r) => r.body), []);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const me = currentSession()?.oid ?? '';
  const decide = (approval: Approval, decision: 'approve' | 'reject'): void => {
    setError(undefined);
    api('POST', `${path('approvals', approval.id)}/${decision}`).then(
      () => {
        setNotice(`Proposal ${approval.id} ${decision === 'approve' ? 'approved: the step ran' : 'rejected'}.`);
        approvals.reload();
      },
      (e: unknown) => setError(describe(e)),
    );
  };
  const pending = approvals.data?.filter((a) => a.status === 'pending') ?? [];
  const decided = approvals.data?.filter((a) => a.status !== 'pending') ?? [];
  return (
    <section aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p>With DKE_APPROVALS_REQUIRED=2, deactivating, compromising or deleting a version and lifting the emergency block wait for a second, different admin.</p>
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
                  <button type="button" class="action" disabled={!canChange || own} onClick={() => decide(a, 'approve')}>
                    Approve<span class="sr-only"> proposal {a.id}</span>
                  </button>
                  <button type="button" class="action danger" disabled={!canChange} onClick={() => decide(a, 'reject')}>
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
    </section>
  );
}
