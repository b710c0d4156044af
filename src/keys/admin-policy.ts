import { spanWords } from './durations.js';

/**
 * The admin policy (contract §10, issue 26): one row in the store, shared by every instance and every path (admin API,
 * console, CLI, scheduler). The configuration only seeds it when the store gets its first policy.
 */
export interface AdminPolicy {
  /** 2: permanent steps, lifting the emergency block and weakening this policy wait for a second person. */
  readonly approvalsRequired: 1 | 2;
  /** How long a deleted version waits before its HSM objects are destroyed (0: at once). */
  readonly deletionWindowDefaultMs: number;
  /** No delete may wait less than this, and the scheduler destroys nothing sooner. */
  readonly deletionWindowMinimumMs: number;
  /** The shortest rotation period a key name may have; the scheduler never rotates more often. */
  readonly rotationMinimumMs: number;
  /** May an app-only token (a service principal, no person) approve a proposal? */
  readonly appOnlyMayApprove: boolean;
}

/** The shortest rotation period before the policy lived in the store (each rotation makes a new HSM key pair). */
export const DEFAULT_ROTATION_MINIMUM_MS = 86_400_000;

/** The parts of the configuration that seed the policy of a store that has none yet. */
export interface PolicySeed {
  readonly approvalsRequired?: 1 | 2;
  readonly deletionWindowMs?: number;
}

/** The policy a store gets when it has none: DKE_APPROVALS_REQUIRED and DKE_DELETION_WINDOW, people approve. */
export function seededPolicy(seed: PolicySeed): AdminPolicy {
  return {
    approvalsRequired: seed.approvalsRequired ?? 1,
    deletionWindowDefaultMs: seed.deletionWindowMs ?? 0,
    deletionWindowMinimumMs: 0,
    rotationMinimumMs: DEFAULT_ROTATION_MINIMUM_MS,
    appOnlyMayApprove: false,
  };
}

/** Why a policy cannot be kept, in one sentence, or undefined. */
export function policyProblem(policy: AdminPolicy): string | undefined {
  if (policy.deletionWindowDefaultMs < policy.deletionWindowMinimumMs) {
    return `The default deletion window (${spanWords(policy.deletionWindowDefaultMs)}) cannot be shorter than its minimum (${spanWords(policy.deletionWindowMinimumMs)}).`;
  }
  if (policy.rotationMinimumMs < 3_600_000) return `A rotation minimum of ${spanWords(policy.rotationMinimumMs)} is too short: each rotation makes a new key pair in the HSM; use 1h or more.`;
  return undefined;
}

/**
 * What `next` makes weaker than `current`, in words (empty: nothing, so it applies at once): fewer approvals, shorter
 * deletion windows, a shorter rotation minimum, app-only approvers allowed.
 */
export function policyWeakenings(current: AdminPolicy, next: AdminPolicy): string[] {
  const weaker: string[] = [];
  if (next.approvalsRequired < current.approvalsRequired) weaker.push(`approvals required ${current.approvalsRequired} → ${next.approvalsRequired}`);
  if (next.deletionWindowDefaultMs < current.deletionWindowDefaultMs) weaker.push(`default deletion window ${spanWords(current.deletionWindowDefaultMs)} → ${spanWords(next.deletionWindowDefaultMs)}`);
  if (next.deletionWindowMinimumMs < current.deletionWindowMinimumMs) weaker.push(`minimum deletion window ${spanWords(current.deletionWindowMinimumMs)} → ${spanWords(next.deletionWindowMinimumMs)}`);
  if (next.rotationMinimumMs < current.rotationMinimumMs) weaker.push(`rotation minimum ${spanWords(current.rotationMinimumMs)} → ${spanWords(next.rotationMinimumMs)}`);
  if (next.appOnlyMayApprove && !current.appOnlyMayApprove) weaker.push('app-only principals may approve');
  return weaker;
}

/** Are two policies the same? */
export function samePolicy(a: AdminPolicy, b: AdminPolicy): boolean {
  return (
    a.approvalsRequired === b.approvalsRequired &&
    a.deletionWindowDefaultMs === b.deletionWindowDefaultMs &&
    a.deletionWindowMinimumMs === b.deletionWindowMinimumMs &&
    a.rotationMinimumMs === b.rotationMinimumMs &&
    a.appOnlyMayApprove === b.appOnlyMayApprove
  );
}
