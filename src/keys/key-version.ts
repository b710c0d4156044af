import type { AllowList, DeletionSchedule } from './admin-records.js';
import { KEY_STATES, type KeyOrigin, type KeyState } from './vocabulary.js';

// The states, origins, allow list and deletion schedule are words the console shares: vocabulary.ts and
// admin-records.ts write them.
export { KEY_STATES, type AllowList, type DeletionSchedule, type KeyOrigin, type KeyState };

/** An RSA public key as big-endian unsigned integers, as PKCS#11 returns CKA_MODULUS and CKA_PUBLIC_EXPONENT. */
export interface RsaPublicKey {
  readonly modulus: Buffer;
  readonly publicExponent: Buffer;
}

export interface KeyVersion {
  readonly name: string;
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
  readonly origin: KeyOrigin;
  readonly createdAt: string;
  readonly stateChangedAt: string;
  /** The vault (contract §9) whose token holds this version's key pair; `default` for every version of a store from before vaults. */
  readonly vault: string;
  /**
   * Kept at creation or import, so the decrypt path validates a body and GET answers without asking the token.
   * Undefined only for a record from before it was kept whose token could not be read yet (see public-key-backfill.ts).
   */
  readonly publicKey?: RsaPublicKey;
  /**
   * Set while a delete waits for its window (contract §4): the version neither decrypts nor is published meanwhile,
   * `cancel-deletion` clears it (state, Enabled and publication were never touched), and at `destroyAt` the scheduler
   * destroys the HSM objects and records Destroyed.
   */
  readonly deletion?: DeletionSchedule;
}

export interface KeyRecord {
  readonly name: string;
  /** The key id served by GET /{keyName}; see contract §1 "published version". */
  readonly publishedKeyId: string | undefined;
  /** Scheduled rotation (`dke keys rotation NAME --every 90d`): the period as the operator wrote it. */
  readonly rotationEvery?: string;
  readonly allow: AllowList;
  readonly versions: readonly KeyVersion[];
}

export function isKeyState(value: string): value is KeyState {
  return (KEY_STATES as readonly string[]).includes(value);
}

/** State names as operators type them ("Pre-Active", "pre_active", "preactive" all mean pre-active). */
export function parseKeyState(value: string): KeyState | undefined {
  const v = value.trim().toLowerCase().replace(/[_\s]/g, '-');
  const normalised = v === 'preactive' ? 'pre-active' : v;
  return isKeyState(normalised) ? normalised : undefined;
}
