import { isDeletion, permanenceRank, stateLabel } from '../keys/lifecycle.js';
import type { AnchoredState, KeyStateStore, KeyVersionRef } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';

/**
 * The permanent states the token records that the store's snapshot does not show yet: a store restored from before
 * the step (issue 25), or a step whose final write has not happened.
 */
export function storeBehindToken(store: KeyStateStore, anchored: readonly AnchoredState[]): AnchoredState[] {
  return anchored.filter(({ ref, state }) => {
    const version = store.findKey(ref.name)?.versions.find((v) => v.keyId === ref.keyId);
    return version !== undefined && permanenceRank(version.state) < permanenceRank(state);
  });
}

/**
 * Re-applies in the store, without a person, each permanent state the token records but the store has lost (contract
 * §5: a restored database never brings such a version back), audited as `restore-conflict` in the same transaction.
 * A version with an unfinished step is left to that step (its own final write, or the reconcile): racing it would
 * turn its success into a refusal. Returns the versions corrected.
 */
export async function applyTokenRecords(ctx: AdminContext, behind: readonly AnchoredState[]): Promise<KeyVersionRef[]> {
  const { store } = ctx.deps;
  const pending = await store.pendingIntents();
  const corrected: KeyVersionRef[] = [];
  for (const anchored of behind) {
    const { name, keyId } = anchored.ref;
    if (pending.some((intent) => intent.name === name && intent.keyId === keyId)) continue;
    const applied = await store.change(async (tx) => {
      const version = (await tx.findKey(name))?.versions.find((v) => v.keyId === keyId);
      if (version === undefined || permanenceRank(version.state) >= permanenceRank(anchored.state)) return false;
      if (!(await tx.setState(name, keyId, version.state, anchored.state, ctx.now().toISOString()))) return false;
      if (isDeletion(anchored.state) && version.deletion !== undefined) await tx.finishDeletion(name, keyId);
      await ctx.audit.within(tx).succeeded('restore-conflict', name, keyId, {
        from: version.state,
        to: anchored.state,
        anchoredAt: anchored.at,
        why: `the token records version ${keyId} of "${name}" as ${stateLabel(anchored.state)} since ${anchored.at}; the store said ${stateLabel(version.state)}`,
      });
      return true;
    });
    if (applied) corrected.push(anchored.ref);
  }
  return corrected;
}
