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

/** The CKR code of a pkcs11js error (Pkcs11Error.code), or undefined for anything else. */
export function ckrCode(error: unknown): number | undefined {
  if (error instanceof pkcs11.Pkcs11Error) return error.code;
  // Some pkcs11js paths throw a plain Error whose message is "CKR_NAME:code".
  const match = error instanceof Error ? /CKR_[A-Z_]+:(\d+)/.exec(error.message) : null;
  return match ? Number(match[1]) : undefined;
}

/** The CKR name for logs ("CKR_DEVICE_ERROR"); never includes data. */
export function ckrName(error: unknown): string {
  const code = ckrCode(error);
  if (code === undefined) return error instanceof Error ? error.name : 'unknown error';
  for (const [key, value] of Object.entries(pkcs11)) {
    if (key.startsWith('CKR_') && value === code) return key;
  }
  return `CKR_0x${code.toString(16)}`;
}

export function classifyCkr(error: unknown): CkrClass {
  const code = ckrCode(error);
  return code === undefined ? 'unknown' : (BY_CODE.get(code) ?? 'unknown');
}
