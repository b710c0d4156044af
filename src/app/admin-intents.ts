import { AdminConflict, DatabaseUnavailable, DkeError, KeyAlreadyInToken, RetryLater, type StepRefusal } from '../keys/errors.js';
import { isKeyState, type KeyState, type KeyVersion } from '../keys/key-version.js';
import { stateLabel } from '../keys/lifecycle.js';
import type { AddVersionResult, AuditEvent, Intent, IntentAction, KeyVersionRef, NewIntent, StoreTransaction } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';
import { DEFAULT_INTENT_LEASE_MS, holdingLease, leaseEnd } from './intent-lease.js';

/** A refusal found inside a write transaction: a plain sentence, or a reason with its next step. */
export type TransactionRefusal = string | StepRefusal;

/** The intent of one token step (issue 17), and the precondition checked in the transaction that writes it. */
export interface IntentStep {
  readonly action: IntentAction;
  readonly ref: KeyVersionRef;
  readonly details: NewIntent['details'];
  readonly check: (tx: StoreTransaction) => Promise<TransactionRefusal | undefined>;
  /** The test seam's name for this operation (`${label}:intent`, `${label}:token`); the action by default. */
  readonly label?: string;
}

/**
 * The shared shape of every operation that touches the token (issue 17): the intent is written, with `check` and "no
 * other unfinished step on this name" evaluated in the same write transaction (a refusal is audited and thrown);
 * then the token step runs, while this process renews the intent's lease (issue 25). The caller then commits the
 * store change, its audit entry and the end of the intent in one transaction (completeStateChange, or its own,
 * through recordAfterTokenStep). A crash or a lost database between the two leaves the intent: once its lease has
 * passed, any instance takes it over (intent-takeover.ts); `onTokenFailure` undoes what a failed token step needs undone.
 */
export async function tokenStepUnderIntent<T>(
  ctx: AdminContext,
  step: IntentStep,
  tokenStep: () => Promise<T>,
  onTokenFailure?: (intent: Intent, error: unknown) => Promise<void>,
): Promise<{ intent: Intent; token: T }> {
  const { action, ref } = step;
  const label = step.label ?? action;
  const leaseMs = ctx.deps.intentLeaseMs ?? DEFAULT_INTENT_LEASE_MS;
  const intent: NewIntent = {
    action,
    name: ref.name,
    keyId: ref.keyId,
    actor: ctx.deps.actor,
    owner: ctx.deps.owner ?? 'unknown',
    createdAt: ctx.now().toISOString(),
    leaseUntil: leaseEnd(ctx.now(), leaseMs),
    ...(step.details ? { details: step.details } : {}),
  };
  const begun = await ctx.deps.store.change(async (tx): Promise<Intent | TransactionRefusal> => {
    const refusal = (await unfinishedStepOn(tx, ref.name)) ?? (await step.check(tx));
    return refusal ?? tx.beginIntent(intent);
  });
  if (!isIntent(begun)) throw await ctx.audit.refusal(action, ref.name, begun, ref.keyId, AdminConflict);
  await ctx.deps.afterStep?.(`${label}:intent`);
  let token: T;
  try {
    token = await holdingLease(ctx.deps.store, begun, leaseMs, ctx.now, tokenStep);
  } catch (error) {
    await onTokenFailure?.(begun, error);
    throw error;
  }
  await ctx.deps.afterStep?.(`${label}:token`);
  return { intent: begun, token };
}

/**
 * The write that records a done token step (issue 25): when the database cannot take it, the answer says what is
 * true, that the token step is done and the record follows by itself once the database answers (an instance takes
 * the intent over after its lease), never the store's "nothing was changed".
 */
export async function recordAfterTokenStep<T>(intent: Intent, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof RetryLater)) throw error;
    throw new DatabaseUnavailable(unrecordedStepSentence(intent), error instanceof DkeError ? error.detail : undefined);
  }
}

/** What an answer says of a token step whose record the database did not take. */
export function unrecordedStepSentence(intent: Intent): string {
  const what = `"${intent.name}" version ${intent.keyId}`;
  const completed = `once the database answers (intent ${intent.id})`;
  switch (intent.action) {
    case 'create':
    case 'rotate':
    case 'import':
      return `The key pair of ${what} is in the token but could not be recorded; it will be removed automatically ${completed}.`;
    case 'delete':
      return `The token step of the deletion of ${what} is done (its objects are destroyed); the record will be completed automatically ${completed}.`;
    case 'set-state': {
      const to = String(intent.details.to);
      return `The token step of the change of ${what} to ${isKeyState(to) ? stateLabel(to) : to} is done; the record will be completed automatically ${completed}.`;
    }
  }
}

/**
 * Issue 25, inside a permanent step's token step: the state is also recorded on the token beside the key (it stays when
 * the key objects go), so a store restored from before the step can never bring the version back (token-anchor.ts).
 * A token that keeps no records does not stop the step: readiness names what is not anchored.
 */
export async function anchorPermanentState(ctx: AdminContext, ref: KeyVersionRef, state: KeyState): Promise<void> {
  await ctx.deps.vault.anchorState(ref, state, ctx.now().toISOString());
}

/** The version an intent is about, in the vault it names (create, rotate and import write theirs into `details`). */
export function intentRef(intent: Intent): KeyVersionRef {
  const { vault } = intent.details;
  return { name: intent.name, keyId: intent.keyId, ...(typeof vault === 'string' ? { vault } : {}) };
}

/** Did the transaction that writes an intent write it (rather than answer why not)? */
export function isIntent(written: Intent | TransactionRefusal): written is Intent {
  return typeof written !== 'string' && 'id' in written;
}

/** The refusal while another command's token step on this key name is unfinished (its intent is still there). */
export async function unfinishedStepOn(tx: Pick<StoreTransaction, 'pendingIntents'>, name: string): Promise<StepRefusal | undefined> {
  const pending = (await tx.pendingIntents()).find((i) => i.name === name);
  return pending === undefined
    ? undefined
    : { reason: `An unfinished ${pending.action} of "${name}" (version ${pending.keyId}, by ${pending.actor} at ${pending.createdAt}) is pending`, nextStep: { kind: 'reconcile-if-died' } };
}

/** A create of a key name that exists: a new version of it comes from a rotation. */
export function nameExistsRefusal(name: string): StepRefusal {
  return { reason: `The key name "${name}" exists already`, nextStep: { kind: 'rotate-instead', name } };
}

/** The refusal for a version the store would not add: the name or the version changed since it was read. */
export function addVersionRefusal(name: string, keyId: string, result: Exclude<AddVersionResult, 'added'>): TransactionRefusal {
  switch (result) {
    case 'name-exists':
      return nameExistsRefusal(name);
    case 'name-missing':
      return `There is no key named "${name}".`;
    case 'version-exists':
      return `The key "${name}" already has a version ${keyId}.`;
  }
}

/**
 * Inside a write transaction: a sentence saying what changed when the version is no longer as it was read (contract
 * §5: the loser of a race is told what the winner did), undefined while it is.
 */
export async function changedSince(tx: StoreTransaction, version: KeyVersion): Promise<string | undefined> {
  const now = (await tx.findKey(version.name))?.versions.find((v) => v.keyId === version.keyId);
  const what = `Version ${version.keyId} of "${version.name}"`;
  if (now === undefined) return `${what} no longer exists; look again and retry.`;
  if (now.state !== version.state) return `${what} changed meanwhile: it is ${stateLabel(now.state)} now, no longer ${stateLabel(version.state)}; look again and retry.`;
  if (now.deletion?.destroyAt !== version.deletion?.destroyAt) {
    return now.deletion === undefined
      ? `${what} changed meanwhile: its deletion was cancelled; look again and retry.`
      : `${what} changed meanwhile: it was scheduled for destruction at ${now.deletion.destroyAt}; look again and retry.`;
  }
  return undefined;
}

/**
 * The last step of set-state and delete: the state (compare-and-set), its audit entry and the end of the intent in
 * one transaction. Refused (and the intent ended) when the version changed meanwhile.
 */
export async function completeStateChange(
  ctx: AdminContext,
  intent: Intent | undefined,
  version: KeyVersion,
  to: KeyState,
  action: string,
  details: AuditEvent['details'],
  alsoWhenChanged?: (tx: StoreTransaction) => Promise<void>,
): Promise<void> {
  const write = (): Promise<string | undefined> => ctx.deps.store.change(async (tx) => {
    const changed = await tx.setState(version.name, version.keyId, version.state, to, ctx.now().toISOString());
    const sentence = changed ? undefined : ((await changedSince(tx, version)) ?? `Version ${version.keyId} of "${version.name}" changed meanwhile; look again and retry.`);
    if (changed) await ctx.audit.within(tx).succeeded(action, version.name, version.keyId, { from: version.state, to, ...details });
    if (changed) await alsoWhenChanged?.(tx);
    if (intent !== undefined) await tx.finishIntent(intent.id);
    return sentence;
  });
  const refusal = intent === undefined ? await write() : await recordAfterTokenStep(intent, write);
  if (refusal !== undefined) throw await ctx.audit.refusal(action, version.name, refusal, version.keyId, AdminConflict);
}

/**
 * A creation that failed after its intent: its key pair (if any) goes, then the intent ends with a refusal entry.
 * A key the token held before (KeyAlreadyInToken) is not ours to destroy: it is left as it is.
 */
export async function rollBackCreation(ctx: AdminContext, intent: Intent, cause: unknown): Promise<void> {
  if (!(cause instanceof KeyAlreadyInToken)) await ctx.deps.vault.destroy(intentRef(intent));
  await ctx.deps.store.change(async (tx) => {
    await ctx.audit.within(tx).refused(intent.action, intent.name, intent.keyId, cause instanceof Error ? cause.message : 'unknown error');
    await tx.finishIntent(intent.id);
  });
}
