import { randomUUID } from 'node:crypto';
import { samePolicy } from '../keys/admin-policy.js';
import { AdminConflict, AdminNotFound, AppOnlyApprover, DuplicateProposal, SamePrincipal } from '../keys/errors.js';
import type { KeyState } from '../keys/key-version.js';
import { stateLabel } from '../keys/lifecycle.js';
import type { Approval, ApprovalBinding, ProposedChange, StoreTransaction } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';
import { approvalView, type ApprovalView } from './key-admin-views.js';

/** What a proposal is about: the key version and target state, or the policy a `set-policy` would set. */
export interface ProposalTarget {
  readonly keyName?: string;
  readonly keyId?: string;
  readonly state?: KeyState;
  readonly proposed?: ProposedChange;
  /** What the propose entry of the audit trail adds, so an approver can read what the step would do. */
  readonly auditDetails?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Records a proposal of the two-person rule (the stored policy's approvalsRequired 2) with its audit entry: the step
 * waits for an admin with another principal. The families whose steps need approval (key-lifecycle.ts,
 * key-deletion.ts, emergency-block.ts, admin-policy-change.ts) call it instead of acting. Issue 26: the proposal is
 * bound to the state it was made against (read in the same transaction), and a second pending proposal for the same
 * step is refused with the id of the first.
 */
export async function propose(ctx: AdminContext, operation: Approval['operation'], target: ProposalTarget = {}): Promise<ApprovalView> {
  const now = ctx.now();
  const { keyName, keyId, state, proposed } = target;
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
    ...(proposed !== undefined ? { proposed } : {}),
  };
  const existing = await ctx.deps.store.change(async (tx) => {
    const pending = await tx.pendingApprovalLike(approval, now.toISOString());
    if (pending !== undefined) return pending;
    const boundTo = await bindingNow(tx, approval);
    await tx.addApproval(boundTo === undefined ? approval : { ...approval, boundTo });
    await ctx.audit.within(tx).succeeded('propose', keyName, keyId, { approval: approval.id, operation, ...(state ? { to: state } : {}), ...target.auditDetails, expiresAt: approval.expiresAt });
    return undefined;
  });
  if (existing !== undefined) {
    const sentence = `Proposal ${existing} for this step is already pending; approve or reject it instead of proposing it again.`;
    await ctx.audit.refused('propose', keyName, keyId, sentence);
    throw new DuplicateProposal(sentence, existing);
  }
  return approvalView(approval, now);
}

/** What the proposal names of the state it acts on, read inside the transaction that records or approves it. */
async function bindingNow(tx: StoreTransaction, approval: Approval): Promise<ApprovalBinding | undefined> {
  switch (approval.operation) {
    case 'set-state':
    case 'delete': {
      const version = await tx.versionMarker(approval.keyName!, approval.keyId!);
      return version === undefined ? undefined : { version };
    }
    case 'emergency-unblock': {
      const block = await tx.emergencyBlockNow();
      return block === undefined ? undefined : { blockSince: block.since };
    }
    case 'set-policy': {
      const policy = await tx.policyNow();
      return policy === undefined ? undefined : { policy };
    }
  }
}

/** What changed since a proposal was made, in a sentence; undefined when its state is still the one it names. */
function changeSince(bound: ApprovalBinding, now: ApprovalBinding | undefined, approval: Approval): string | undefined {
  const id = approval.id;
  if ('version' in bound) {
    const current = now !== undefined && 'version' in now ? now.version : undefined;
    if (current === undefined) return `Version ${approval.keyId} of "${approval.keyName}" is gone since proposal ${id} was made.`;
    if (current.state !== bound.version.state) return `Version ${approval.keyId} of "${approval.keyName}" was ${stateLabel(bound.version.state)} when proposal ${id} was made and is ${stateLabel(current.state)} now; propose the step again.`;
    if (current.rowVersion !== bound.version.rowVersion) return `Version ${approval.keyId} of "${approval.keyName}" changed since proposal ${id} was made; propose the step again.`;
    return undefined;
  }
  if ('blockSince' in bound) {
    const since = now !== undefined && 'blockSince' in now ? now.blockSince : undefined;
    if (since === bound.blockSince) return undefined;
    return since === undefined
      ? `The emergency block set at ${bound.blockSince} that proposal ${id} would lift is lifted already.`
      : `Proposal ${id} would lift the emergency block set at ${bound.blockSince}; the block in force now was set at ${since}, so propose lifting it again.`;
  }
  const policy = now !== undefined && 'policy' in now ? now.policy : undefined;
  return policy !== undefined && samePolicy(policy, bound.policy) ? undefined : `The admin policy changed since proposal ${id} was made; propose the change again.`;
}

/** Runs an approved proposal's step as the approving admin would run it (KeyAdmin wires it to the families). */
export type ApprovedStep = (approval: Approval) => Promise<unknown>;

/** The two-person rule's decisions (contract §6, §10; `dke approvals list|approve|reject`). */
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
   * A second person approves a proposal: it must be pending and unexpired (409 otherwise), come from another
   * principal (403 same_principal) that is a person unless the policy lets applications approve (403
   * app_only_approver), and the state it was made against must still be the state now (409, the proposal failed).
   * The step then runs as this admin would run it, re-checking the state table now; a step the table refuses by now
   * marks the proposal failed and answers its refusal. Both people are audited.
   */
  async approve(id: string): Promise<{ approval: ApprovalView; result: unknown }> {
    const ctx = this.#ctx;
    const approval = await this.#pendingApproval('approve', id);
    if (approval.requestedByPrincipal === ctx.principal) {
      throw await ctx.audit.refusal('approve', approval.keyName, `Proposal ${id} was made by you; another admin must approve it.`, approval.keyId, SamePrincipal);
    }
    if (ctx.deps.appOnly === true && !ctx.policy().appOnlyMayApprove) {
      const sentence = `Proposal ${id} must be approved by a person: this token is an application's (app-only), and the admin policy does not let applications approve.`;
      throw await ctx.audit.refusal('approve', approval.keyName, sentence, approval.keyId, AppOnlyApprover);
    }
    let result: unknown;
    ctx.runningApproval = approval;
    try {
      await this.#assertStillBound(approval);
      result = await this.#run(approval);
    } catch (error) {
      await this.#decide(approval, 'failed', { reason: error instanceof Error ? error.message : 'unknown' });
      throw error;
    } finally {
      ctx.runningApproval = undefined;
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

  /** 409 with what changed when the state a proposal names is no longer the state now (issue 26). */
  async #assertStillBound(approval: Approval): Promise<void> {
    const bound = approval.boundTo;
    if (bound === undefined) return;
    const ctx = this.#ctx;
    const now = await ctx.deps.store.change((tx) => bindingNow(tx, approval));
    const changed = changeSince(bound, now, approval);
    if (changed !== undefined) throw await ctx.audit.refusal('approve', approval.keyName, changed, approval.keyId, AdminConflict);
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
