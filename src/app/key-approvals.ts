import { randomUUID } from 'node:crypto';
import { AdminConflict, AdminNotFound, SamePrincipal } from '../keys/errors.js';
import type { KeyState } from '../keys/key-version.js';
import type { Approval } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';
import { approvalView, type ApprovalView } from './key-admin-views.js';

/**
 * Records a proposal of the two-person rule (DKE_APPROVALS_REQUIRED=2) with its audit entry: the step waits for an
 * admin with another principal. The families whose steps need approval (key-lifecycle.ts, key-deletion.ts,
 * emergency-block.ts) call it instead of acting.
 */
export async function propose(ctx: AdminContext, operation: Approval['operation'], keyName?: string, keyId?: string, state?: KeyState): Promise<ApprovalView> {
  const now = ctx.now();
  const approval: Approval = {
    id: randomUUID(),
    operation,
    ...(keyName !== undefined ? { keyName } : {}),
    ...(keyId !== undefined ? { keyId } : {}),
    ...(state !== undefined ? { state } : {}),
    requestedBy: ctx.deps.actor,
    requestedByPrincipal: ctx.principal,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (ctx.deps.approvalTtlMs ?? 86_400_000)).toISOString(),
    status: 'pending',
  };
  await ctx.deps.store.change(async (tx) => {
    await tx.addApproval(approval);
    await ctx.audit.within(tx).succeeded('propose', keyName, keyId, { approval: approval.id, operation, ...(state ? { to: state } : {}), expiresAt: approval.expiresAt });
  });
  return approvalView(approval, now);
}

/** Runs an approved proposal's step as the approving admin would run it (KeyAdmin wires it to the families). */
export type ApprovedStep = (approval: Approval) => Promise<unknown>;

/** The two-person rule's decisions (contract §6; `dke approvals list|approve|reject`). */
export class KeyApprovals {
  readonly #ctx: AdminContext;
  readonly #run: ApprovedStep;

  constructor(ctx: AdminContext, run: ApprovedStep) {
    this.#ctx = ctx;
    this.#run = run;
  }

  /** Every proposal of the two-person rule, oldest first (`dke approvals list`, GET /admin/api/approvals). */
  async approvals(): Promise<ApprovalView[]> {
    const now = this.#ctx.now();
    return (await this.#ctx.deps.store.listApprovals()).map((a) => approvalView(a, now));
  }

  /**
   * A second admin approves a proposal: it must be pending and unexpired (409 otherwise) and come from another
   * principal (403 same_principal). The step then runs as this admin would run it, re-checking the state table now;
   * a step the table refuses by now marks the proposal failed and answers its refusal. Both people are audited.
   */
  async approve(id: string): Promise<{ approval: ApprovalView; result: unknown }> {
    const ctx = this.#ctx;
    const approval = await this.#pendingApproval('approve', id);
    if (approval.requestedByPrincipal === ctx.principal) {
      throw await ctx.audit.refusal('approve', approval.keyName, `Proposal ${id} was made by you; another admin must approve it.`, approval.keyId, SamePrincipal);
    }
    let result: unknown;
    ctx.executingApproval = true;
    try {
      result = await this.#run(approval);
    } catch (error) {
      await this.#decide(approval, 'failed', { reason: error instanceof Error ? error.message : 'unknown' });
      throw error;
    } finally {
      ctx.executingApproval = false;
    }
    await this.#decide(approval, 'approved');
    return { approval: await this.#approvalById(id), result };
  }

  /** Either admin (the proposer too, to withdraw it) rejects a pending proposal; nothing else happens. */
  async reject(id: string): Promise<ApprovalView> {
    const approval = await this.#pendingApproval('reject', id);
    await this.#decide(approval, 'rejected');
    return this.#approvalById(id);
  }

  async #approvalById(id: string): Promise<ApprovalView> {
    return (await this.approvals()).find((a) => a.id === id)!;
  }

  /** The proposal, if it can still be decided: 404 unknown, 409 decided or expired (an expired one is recorded so). */
  async #pendingApproval(action: 'approve' | 'reject', id: string): Promise<Approval> {
    const ctx = this.#ctx;
    const approval = (await ctx.deps.store.listApprovals()).find((a) => a.id === id);
    if (approval === undefined) throw new AdminNotFound(`There is no proposal ${id}.`);
    if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= ctx.now().getTime()) {
      await ctx.deps.store.change((tx) => tx.decideApproval(id, 'expired', 'expiry', ctx.now().toISOString()));
      throw await ctx.audit.refusal(action, approval.keyName, `Proposal ${id} expired at ${approval.expiresAt}; propose the step again.`, approval.keyId, AdminConflict);
    }
    if (approval.status !== 'pending') {
      throw await ctx.audit.refusal(action, approval.keyName, `Proposal ${id} is already ${approval.status}.`, approval.keyId, AdminConflict);
    }
    return approval;
  }

  async #decide(approval: Approval, status: 'approved' | 'rejected' | 'failed', extra: Record<string, string> = {}): Promise<void> {
    const ctx = this.#ctx;
    await ctx.deps.store.change(async (tx) => {
      if (!(await tx.decideApproval(approval.id, status, ctx.deps.actor, ctx.now().toISOString()))) return;
      const action = status === 'rejected' ? 'reject' : 'approve';
      await ctx.audit.within(tx).succeeded(action, approval.keyName, approval.keyId, {
        approval: approval.id,
        operation: approval.operation,
        proposedBy: approval.requestedBy,
        decidedBy: ctx.deps.actor,
        status,
        ...extra,
      });
    });
  }
}
