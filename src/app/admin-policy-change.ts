import { policyProblem, policyWeakenings, samePolicy, type AdminPolicy } from '../keys/admin-policy.js';
import { spanMs, spanWords } from '../keys/durations.js';
import { AdminConflict, RequestInvalid } from '../keys/errors.js';
import type { AdminContext } from './admin-context.js';
import type { AdminPolicyView, Proposed } from './admin-shapes.js';
import { propose } from './key-approvals.js';

/** The policy in the shape of contract §10 (`GET /admin/api/policy`, `dke policy show --json`): spans as operators write them. */
export function policyView(policy: AdminPolicy): AdminPolicyView {
  return {
    approvalsRequired: policy.approvalsRequired,
    deletionWindow: { default: spanWords(policy.deletionWindowDefaultMs), minimum: spanWords(policy.deletionWindowMinimumMs) },
    rotationMinimum: spanWords(policy.rotationMinimumMs),
    appOnlyMayApprove: policy.appOnlyMayApprove,
    deletionWindowMs: policy.deletionWindowDefaultMs,
  };
}

/**
 * A partial policy as `PUT /admin/api/policy` takes it (contract §10's shape, every field optional), checked: a
 * RequestInvalid (400) names the first field that is not one.
 */
export function policyChangeFrom(body: unknown): Partial<AdminPolicy> {
  const fields = objectOf(body, 'The body');
  const known = ['approvalsRequired', 'deletionWindow', 'rotationMinimum', 'appOnlyMayApprove', 'deletionWindowMs'];
  const unknown = Object.keys(fields).find((field) => !known.includes(field));
  if (unknown !== undefined) throw new RequestInvalid(`${JSON.stringify(unknown.slice(0, 60))} is not a field of the admin policy; use ${known.slice(0, 4).map((f) => `"${f}"`).join(', ')}.`);
  const change: { -readonly [K in keyof AdminPolicy]?: AdminPolicy[K] } = {};
  if (fields.approvalsRequired !== undefined) {
    if (fields.approvalsRequired !== 1 && fields.approvalsRequired !== 2) throw new RequestInvalid('"approvalsRequired" must be 1 or 2.');
    change.approvalsRequired = fields.approvalsRequired;
  }
  if (fields.deletionWindow !== undefined) {
    const window = objectOf(fields.deletionWindow, '"deletionWindow"');
    if (window.default !== undefined) change.deletionWindowDefaultMs = span(window.default, '"deletionWindow.default"');
    if (window.minimum !== undefined) change.deletionWindowMinimumMs = span(window.minimum, '"deletionWindow.minimum"');
  }
  if (fields.rotationMinimum !== undefined) change.rotationMinimumMs = span(fields.rotationMinimum, '"rotationMinimum"');
  if (fields.appOnlyMayApprove !== undefined) {
    if (typeof fields.appOnlyMayApprove !== 'boolean') throw new RequestInvalid('"appOnlyMayApprove" must be true or false.');
    change.appOnlyMayApprove = fields.appOnlyMayApprove;
  }
  return change;
}

/**
 * A partial policy as PUT /admin/api/policy takes it (contract §10's words: spans such as `7d`): what policyChangeFrom
 * reads back; `dke --server policy set` sends it.
 */
export function policyChangeBody(change: Partial<AdminPolicy>): Record<string, unknown> {
  const window = {
    ...(change.deletionWindowDefaultMs !== undefined ? { default: spanWords(change.deletionWindowDefaultMs) } : {}),
    ...(change.deletionWindowMinimumMs !== undefined ? { minimum: spanWords(change.deletionWindowMinimumMs) } : {}),
  };
  return {
    ...(change.approvalsRequired !== undefined ? { approvalsRequired: change.approvalsRequired } : {}),
    ...(Object.keys(window).length > 0 ? { deletionWindow: window } : {}),
    ...(change.rotationMinimumMs !== undefined ? { rotationMinimum: spanWords(change.rotationMinimumMs) } : {}),
    ...(change.appOnlyMayApprove !== undefined ? { appOnlyMayApprove: change.appOnlyMayApprove } : {}),
  };
}

/** The query of a delete with its own deletion window (`?window=7d`, admin-routes.ts), as `dke --server` sends it. */
export function deletionWindowQuery(windowMs: number): string {
  return `window=${spanWords(windowMs)}`;
}

/** A span as operators write it (`7d`, `0s`), or RequestInvalid naming the field. */
export function span(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? spanMs(value) : undefined;
  if (ms === undefined) throw new RequestInvalid(`${field} must be a span such as 7d, 12h or 0s.`);
  return ms;
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestInvalid(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

/**
 * Changes to the stored policy (contract §10, `dke policy set`, `PUT /admin/api/policy`): a stricter policy applies at
 * once; one that makes anything weaker (policyWeakenings) needs the approvals the policy in force requires, so with
 * two it becomes a `set-policy` proposal bound to the policy it would replace. Written compare-and-set and audited.
 */
export class AdminPolicyChanges {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  async set(change: Partial<AdminPolicy>): Promise<AdminPolicyView | Proposed> {
    const ctx = this.#ctx;
    const current = ctx.policy();
    const next: AdminPolicy = { ...current, ...change };
    const problem = policyProblem(next);
    if (problem !== undefined) throw await ctx.audit.refusal('set-policy', undefined, problem);
    if (samePolicy(current, next)) return policyView(current);
    const weaker = policyWeakenings(current, next);
    if (weaker.length > 0 && ctx.needsApproval()) {
      return { approval: await propose(ctx, 'set-policy', { proposed: { policy: next }, auditDetails: { ...policyAuditFields(next), weaker: weaker.join('; ') } }) };
    }
    const changed = await ctx.deps.store.change(async (tx) => {
      const stored = await tx.policyNow();
      const written = stored === undefined ? await tx.seedPolicy(next) : samePolicy(stored, current) && (await tx.setPolicy(current, next));
      if (!written) return false;
      await ctx.audit.within(tx).succeeded('set-policy', undefined, undefined, { ...policyAuditFields(next), ...(weaker.length > 0 ? { weaker: weaker.join('; ') } : {}) });
      return true;
    });
    if (!changed) throw await ctx.audit.refusal('set-policy', undefined, 'The admin policy was changed by someone else meanwhile; read it again and retry.', undefined, AdminConflict);
    return policyView(next);
  }
}

/** A policy as an audit entry's details. */
export function policyAuditFields(policy: AdminPolicy): Record<string, string | number | boolean> {
  const view = policyView(policy);
  return {
    approvalsRequired: view.approvalsRequired,
    deletionWindowDefault: view.deletionWindow.default,
    deletionWindowMinimum: view.deletionWindow.minimum,
    rotationMinimum: view.rotationMinimum,
    appOnlyMayApprove: view.appOnlyMayApprove,
  };
}
