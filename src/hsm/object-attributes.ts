import type { RsaPublicKey } from '../keys/ports.js';
import { pkcs11, type Handle, type Pkcs11Module, type Template } from './pkcs11.js';

/** One attribute of a token object, or undefined when the token will not say (CKR_ATTRIBUTE_TYPE_INVALID or _SENSITIVE). */
export function readAttribute(module: Pkcs11Module, session: Handle, handle: Handle, type: number): Buffer | undefined {
  try {
    const [attribute] = module.C_GetAttributeValue(session, handle, [{ type }]);
    return attribute?.value as Buffer | undefined;
  } catch {
    // Attestation and the probe report "unknown" for an attribute the token keeps to itself.
    return undefined;
  }
}

/** A CK_BBOOL attribute, or undefined when the token will not say. */
export function readBoolean(module: Pkcs11Module, session: Handle, handle: Handle, type: number): boolean | undefined {
  const value = readAttribute(module, session, handle, type);
  return value === undefined || value.length === 0 ? undefined : value[0] !== 0;
}

/** The modulus and public exponent of an RSA public key object, without the leading zero bytes some tokens add. */
export function readRsaPublicKey(module: Pkcs11Module, session: Handle, handle: Handle): RsaPublicKey {
  const [modulus, exponent] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
  return { modulus: stripLeadingZeros(modulus!.value as Buffer), publicExponent: stripLeadingZeros(exponent!.value as Buffer) };
}

export function stripLeadingZeros(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  return Buffer.from(value.subarray(start));
}

/** The bit length of a big-endian unsigned number (a modulus). */
export function bitLength(value: Buffer): number {
  const trimmed = stripLeadingZeros(value);
  return (trimmed.length - 1) * 8 + (32 - Math.clz32(trimmed[0] ?? 0));
}

/** Every object a template matches; C_FindObjectsInit is always paired with C_FindObjectsFinal, or the session stays busy. */
export function findAllObjects(module: Pkcs11Module, session: Handle, template: Template): Handle[] {
  module.C_FindObjectsInit(session, template);
  try {
    const handles: Handle[] = [];
    for (;;) {
      const batch = module.C_FindObjects(session, 64);
      if (batch.length === 0) return handles;
      handles.push(...batch);
    }
  } finally {
    module.C_FindObjectsFinal(session);
  }
}
