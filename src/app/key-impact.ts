import { AdminConflict, AdminRefused, type StepRefusal } from '../keys/errors.js';
import type { KeyState, KeyVersion } from '../keys/key-version.js';
import { DELETED_STATE, isDeletion, isTransitionAllowed, permanentEffectSentence, refusedTransitionSentence, scheduledDeletionSentence, stateLabel } from '../keys/lifecycle.js';
import type { AdminContext } from './admin-context.js';
import type { ImpactPreview } from './key-admin-views.js';

/** How far back the impact preview looks for decrypts with a version. */
const IMPACT_WINDOW_DAYS = 30;

/** Why a permanent step may not happen now, and what kind of refusal it is (AdminConflict: 409 on the admin API). */
export interface StepCheck {
  readonly why: string | StepRefusal;
  readonly Refusal: new (why: string | StepRefusal) => AdminRefused;
}

/** Why `set-state` may not move the version to `to` now (contract §4's table, a waiting deletion); undefined if it may. */
export function setStateCheck(version: KeyVersion, to: KeyState): StepCheck | undefined {
  const { name, keyId } = version;
  if (isDeletion(to)) {
    return { why: { reason: 'A state change never destroys a key version', nextStep: { kind: 'delete-instead', name, keyId } }, Refusal: AdminRefused };
  }
  if (!isTransitionAllowed(version.state, to)) return { why: refusedTransitionSentence(version.state, to), Refusal: AdminConflict };
  if (version.deletion !== undefined) {
    const reason = `Version ${keyId} of "${name}" is scheduled for destruction at ${version.deletion.destroyAt}`;
    return { why: { reason, nextStep: { kind: 'cancel-deletion-first', name, keyId } }, Refusal: AdminConflict };
  }
  return undefined;
}

/**
 * Why `delete` may not act on the version now; undefined if it may. Only Pre-Active and Active versions are deleted;
 * a Destroyed one may be deleted again (that removes objects a failed earlier run left).
 */
export function deleteCheck(version: KeyVersion): StepCheck | undefined {
  if (isDeletion(version.state)) return undefined;
  const { name, keyId } = version;
  if (!isTransitionAllowed(version.state, DELETED_STATE)) {
    return { why: `Only Pre-Active and Active versions can be deleted; version ${keyId} is ${stateLabel(version.state)}.`, Refusal: AdminConflict };
  }
  if (version.deletion !== undefined) {
    const reason = `Version ${keyId} of "${name}" is already scheduled for destruction at ${version.deletion.destroyAt}`;
    return { why: { reason, nextStep: { kind: 'cancel-deletion-restores', name, keyId } }, Refusal: AdminConflict };
  }
  return undefined;
}

/**
 * What a permanent step would do and who it would affect, from the audit trail's decrypts of the last 30 days. A delete
 * within a deletion window is cancellable until its destroyAt (were it applied now), and says so instead of "cannot be
 * undone".
 */
export async function impactPreview(ctx: AdminContext, version: KeyVersion, to: KeyState): Promise<ImpactPreview> {
  const now = ctx.now().getTime();
  const since = new Date(now - IMPACT_WINDOW_DAYS * 86_400_000);
  const windowMs = ctx.policy().deletionWindowDefaultMs;
  const cancellableUntil = isDeletion(to) && windowMs > 0 ? new Date(now + windowMs).toISOString() : undefined;
  return {
    name: version.name,
    keyId: version.keyId,
    from: version.state,
    to,
    effect: cancellableUntil === undefined ? permanentEffectSentence(version.state, to) : scheduledDeletionSentence(version.state, cancellableUntil),
    ...(cancellableUntil !== undefined ? { cancellableUntil } : {}),
    windowDays: IMPACT_WINDOW_DAYS,
    usage: await ctx.deps.audit.decryptUsage(version.name, version.keyId, since),
  };
}

/**
 * The impact preview as a read (the console, before a confirmation): the same checks the step itself makes, answered
 * with the same refusals, but nothing is written (no audit entry, no intent) and the token is not asked.
 */
export async function impactOf(ctx: AdminContext, name: string, keyId: string, to: KeyState): Promise<ImpactPreview> {
  const version = await ctx.readVersion(name, keyId);
  const check = isDeletion(to) ? deleteCheck(version) : setStateCheck(version, to);
  if (check !== undefined) throw new check.Refusal(check.why);
  return impactPreview(ctx, version, to);
}
