import { CiphertextRejected, HsmUnavailable, KeyNotUsable } from '../keys/errors.js';
import type { HsmErrorClass } from '../keys/ports.js';
import { pkcs11 } from './pkcs11.js';

/** How the service reacts to a PKCS#11 return value: see HsmErrorClass in keys/ports.ts. */
export type CkrClass = HsmErrorClass;

const BY_CODE = new Map<number, CkrClass>([
  // NSS answers a value not below the modulus with CKR_ARGUMENTS_BAD; checked before the token anyway.
  [pkcs11.CKR_ARGUMENTS_BAD, 'request'],
  [pkcs11.CKR_DATA_INVALID, 'request'],
  [pkcs11.CKR_DATA_LEN_RANGE, 'request'],
  [pkcs11.CKR_ENCRYPTED_DATA_INVALID, 'request'],
  [pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE, 'request'],
  [pkcs11.CKR_DEVICE_ERROR, 'transient'],
  [pkcs11.CKR_DEVICE_MEMORY, 'transient'],
  [pkcs11.CKR_DEVICE_REMOVED, 'transient'],
  [pkcs11.CKR_SESSION_HANDLE_INVALID, 'transient'],
  [pkcs11.CKR_SESSION_CLOSED, 'transient'],
  [pkcs11.CKR_TOKEN_NOT_PRESENT, 'transient'],
  [pkcs11.CKR_USER_NOT_LOGGED_IN, 'transient'],
  [pkcs11.CKR_FUNCTION_FAILED, 'transient'],
  [pkcs11.CKR_GENERAL_ERROR, 'transient'],
  [pkcs11.CKR_KEY_HANDLE_INVALID, 'transient'],
  [pkcs11.CKR_OBJECT_HANDLE_INVALID, 'transient'],
  [pkcs11.CKR_OPERATION_ACTIVE, 'transient'],
  [pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, 'transient'],
  [pkcs11.CKR_PIN_INCORRECT, 'configuration'],
  [pkcs11.CKR_PIN_LOCKED, 'configuration'],
  [pkcs11.CKR_PIN_EXPIRED, 'configuration'],
  [pkcs11.CKR_PIN_INVALID, 'configuration'],
  [pkcs11.CKR_PIN_LEN_RANGE, 'configuration'],
  [pkcs11.CKR_MECHANISM_INVALID, 'configuration'],
  [pkcs11.CKR_MECHANISM_PARAM_INVALID, 'configuration'],
  [pkcs11.CKR_KEY_TYPE_INCONSISTENT, 'configuration'],
  [pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, 'configuration'],
]);

/**
 * What a token answers for an operation one key does not allow: CKR_KEY_FUNCTION_NOT_PERMITTED as PKCS#11 names it,
 * and CKR_KEY_TYPE_INCONSISTENT, which NSS softoken gives for C_DecryptInit on a key whose CKA_DECRYPT is false.
 */
const KEY_REFUSALS = new Set<number>([pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, pkcs11.CKR_KEY_TYPE_INCONSISTENT]);

/**
 * The CKR number of a pkcs11js error (Pkcs11Error.code; pkcs11js makes one of every PKCS#11 failure, including those
 * of the decrypt threads, see decrypt-thread-pool.ts), or undefined for anything else. Never read from message text,
 * with one exception pkcs11js forces: see UNCONVERTED_CKR.
 */
export function ckrCode(error: unknown): number | undefined {
  if (error instanceof pkcs11.Pkcs11Error) return error.code;
  const unconverted = error instanceof Error ? UNCONVERTED_CKR.exec(error.message) : null;
  return unconverted === null ? undefined : Number(unconverted[1]);
}

/**
 * pkcs11js 2.1.7 overrides C_CreateObject, C_SetAttributeValue and C_CopyObject in its subclass after wrapping the
 * other calls, so their failures arrive as plain Errors whose whole message is the native "CKR_NAME:number", the
 * form pkcs11js itself turns into a Pkcs11Error for every other call (its Pkcs11Error.messageReg).
 */
const UNCONVERTED_CKR = /^CKR_[A-Z0-9_]+:(\d+)$/;

/** The name of a CKR number ("CKR_DEVICE_ERROR"). */
export function ckrNameOf(code: number): string {
  for (const [key, value] of Object.entries(pkcs11)) {
    if (key.startsWith('CKR_') && value === code) return key;
  }
  return `CKR_0x${code.toString(16)}`;
}

/** The CKR name for logs ("CKR_DEVICE_ERROR"); never includes data. */
export function ckrName(error: unknown): string {
  const code = ckrCode(error);
  if (code === undefined) return error instanceof Error ? error.name : 'unknown error';
  return ckrNameOf(code);
}

/** pkcs11js's error for a CKR number, as the module itself would have thrown it. */
export function pkcs11Error(code: number, method: string): Error {
  return new pkcs11.Pkcs11Error(ckrNameOf(code), code, method);
}

export function classifyCkr(error: unknown): CkrClass {
  const code = ckrCode(error);
  return code === undefined ? 'unknown' : (BY_CODE.get(code) ?? 'unknown');
}

/**
 * The domain error for a PKCS#11 failure of the given class, as callers of the key vault see it: a bad ciphertext is
 * the uniform CiphertextRejected (400), a key the token refuses the operation KeyNotUsable (403), a device or
 * configuration problem HsmUnavailable (503). Anything else is
 * passed on unchanged (KeyNotFound, the domain's own errors, a programming error).
 */
export function domainErrorFor(error: unknown, errorClass: CkrClass): unknown {
  // The token refuses this one key the operation (CKA_DECRYPT cleared by a Compromise or Deactivate, issue 25): the
  // key is not usable (403), as the contract answers for its state; the token and the other keys are fine.
  if (KEY_REFUSALS.has(ckrCode(error) ?? -1)) return new KeyNotUsable(`${ckrName(error)}: the token refuses this key the operation`);
  switch (errorClass) {
    case 'request':
      return new CiphertextRejected(ckrName(error));
    case 'transient':
      return new HsmUnavailable(ckrName(error));
    case 'configuration':
      return new HsmUnavailable(`${ckrName(error)} (configuration)`, 30);
    default:
      return error;
  }
}
