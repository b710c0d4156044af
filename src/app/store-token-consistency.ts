import type { KeyRecord } from '../keys/key-version.js';
import { canDecrypt } from '../keys/lifecycle.js';
import type { KeyVersionRef, TokenKeyObject } from '../keys/ports.js';
import { DEFAULT_VAULT } from '../keys/vaults.js';

/** Where the key records and the token disagree. */
export interface Disagreement {
  /** Active or Pre-Active versions whose private object is not in the token: they can never decrypt. */
  readonly missingPrivateKeys: readonly KeyVersionRef[];
  /** Those of them that would be served now (Active and Enabled): documents are failing to open. */
  readonly missingServable: readonly KeyVersionRef[];
  /** Token objects labelled by this service that no record knows (an interrupted create, or a replaced store). */
  readonly unknownObjects: readonly KeyVersionRef[];
}

/**
 * Compares the store's versions with the token's objects. `pending` are versions an unfinished admin step is
 * about to create or destroy: they are the reconcile's business, not a disagreement.
 */
export function compareStoreWithToken(records: readonly KeyRecord[], objects: readonly TokenKeyObject[], pending: readonly KeyVersionRef[] = []): Disagreement {
  const version = (ref: KeyVersionRef): string => `${ref.name}\u0000${ref.keyId}`;
  // A version's objects count only in its own vault's token (contract §9); pending steps are named without one.
  const key = (ref: KeyVersionRef): string => `${ref.vault ?? DEFAULT_VAULT}\u0000${version(ref)}`;
  const inToken = new Map(objects.map((o) => [key(o.ref), o]));
  const known = new Set(records.flatMap((r) => r.versions.map((v) => key(v))));
  const skipped = new Set(pending.map(version));
  const missing = records
    .flatMap((r) => r.versions)
    .filter((v) => (v.state === 'active' || v.state === 'pre-active') && !skipped.has(version(v)) && inToken.get(key(v))?.privateKey !== true);
  const ref = (v: KeyVersionRef): KeyVersionRef => ({ name: v.name, keyId: v.keyId });
  const unknownObjects = objects.filter((o) => !known.has(key(o.ref)) && !skipped.has(version(o.ref))).map((o) => (o.ref.vault === undefined || o.ref.vault === DEFAULT_VAULT ? ref(o.ref) : o.ref));
  return { missingPrivateKeys: missing.map(ref), missingServable: missing.filter(canDecrypt).map(ref), unknownObjects };
}

export function refList(refs: readonly KeyVersionRef[]): string {
  return refs.map((r) => `${r.name}/${r.keyId}`).join(', ');
}
