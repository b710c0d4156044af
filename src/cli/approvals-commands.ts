import { Command } from 'commander';
import type { ApprovalView } from '../app/key-admin-views.js';
import { adminVerb } from './admin-verb.js';

function approvalLine(a: ApprovalView): string {
  const target = [a.keyName, a.keyId, a.state].filter((part) => part !== undefined).join(' ');
  const decided = a.decidedBy ? ` by ${a.decidedBy} at ${a.decidedAt}` : ` until ${a.expiresAt}`;
  return `${a.id}  ${a.status.padEnd(8)} ${a.operation} ${target}  proposed by ${a.requestedBy} at ${a.requestedAt}${decided}`;
}

/** `dke approvals list|approve ID|reject ID` (contract §3, §6): the CLI's actor (DKE_ADMIN_ACTOR, else os:<user>) decides. */
export function approvalsCommand(): Command {
  const approvals = new Command('approvals').description('proposals waiting for a second admin (DKE_APPROVALS_REQUIRED=2)');
  adminVerb(approvals.command('list').description('every proposal: pending, approved, rejected, expired or failed'), {
    run: (admin) => admin.approvals(),
    text: (list) => (list.length === 0 ? 'No proposals.' : list.map(approvalLine).join('\n')),
  });
  adminVerb(approvals.command('approve').description("approve another admin's proposal: the step runs now, re-checked against the state table").argument('<id>'), {
    hsm: true,
    run: (admin, [id]) => admin.approve(id),
    text: (outcome) => `Approved: ${approvalLine(outcome.approval)}`,
  });
  adminVerb(approvals.command('reject').description('reject (or, as its proposer, withdraw) a pending proposal; nothing happens').argument('<id>'), {
    run: (admin, [id]) => admin.reject(id),
    text: (approval) => `Rejected: ${approvalLine(approval)}`,
  });
  return approvals;
}
