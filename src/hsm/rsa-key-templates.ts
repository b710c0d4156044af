import type { KeyVersionRef, RsaPublicKey } from '../keys/ports.js';
import { pkcs11, type Template } from './pkcs11.js';

/** RSA-2048 with e = 65537: what Office expects from a DKE key (contract §1). */
export const MODULUS_BITS = 2048;
export const PUBLIC_EXPONENT = Buffer.from([0x01, 0x00, 0x01]);

/** CKA_LABEL ties a token object to its key name; CKA_ID carries the key id. */
export const LABEL_PREFIX = 'dke:';

export function objectLabel(ref: KeyVersionRef): string {
  return `${LABEL_PREFIX}${ref.name}/${ref.keyId}`;
}

export function objectId(ref: KeyVersionRef): Buffer {
  return Buffer.from(ref.keyId, 'utf8');
}

/** The attributes that tie a token object to its key version. */
function identity(ref: KeyVersionRef): Template {
  return [
    { type: pkcs11.CKA_ID, value: objectId(ref) },
    { type: pkcs11.CKA_LABEL, value: objectLabel(ref) },
  ];
}

export function findTemplate(ref: KeyVersionRef, objectClass: number): Template {
  return [{ type: pkcs11.CKA_CLASS, value: objectClass }, ...identity(ref)];
}

/** What every key object the service makes starts with: its class and type, and whether it outlives the session. */
function keyObject(objectClass: number, keyType: number, onToken: boolean): Template {
  return [
    { type: pkcs11.CKA_CLASS, value: objectClass },
    { type: pkcs11.CKA_KEY_TYPE, value: keyType },
    { type: pkcs11.CKA_TOKEN, value: onToken },
  ];
}

/** Boolean attributes: each of `granted` true, each of `denied` false. */
function flags(granted: readonly number[], denied: readonly number[]): Template {
  return [...granted.map((type) => ({ type, value: true })), ...denied.map((type) => ({ type, value: false }))];
}

/** The uses a decrypt-only private key must not have (NSS softoken sets them on unwrapped keys whatever the template said). */
export const USES_BESIDES_DECRYPT = [pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE];

/**
 * The public half: a token object so it survives restarts, encrypt only. For generation it names the size and
 * exponent; for an imported key (`values`) it carries the modulus and exponent themselves.
 */
export function publicKeyTemplate(ref: KeyVersionRef, values?: RsaPublicKey): Template {
  return [
    ...keyObject(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_RSA, true),
    ...(values === undefined
      ? [
          { type: pkcs11.CKA_MODULUS_BITS, value: MODULUS_BITS },
          { type: pkcs11.CKA_PUBLIC_EXPONENT, value: PUBLIC_EXPONENT },
        ]
      : [
          { type: pkcs11.CKA_MODULUS, value: values.modulus },
          { type: pkcs11.CKA_PUBLIC_EXPONENT, value: values.publicExponent },
        ]),
    ...flags([pkcs11.CKA_ENCRYPT], [pkcs11.CKA_PRIVATE, pkcs11.CKA_VERIFY, pkcs11.CKA_WRAP]),
    ...identity(ref),
  ];
}

/**
 * The private half: sensitive and never extractable, so the key cannot leave the token even wrapped; decrypt only,
 * so no other operation can turn it into an oracle.
 */
export function privateKeyTemplate(ref: KeyVersionRef): Template {
  return [
    ...keyObject(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA, true),
    ...flags([pkcs11.CKA_PRIVATE, pkcs11.CKA_SENSITIVE, pkcs11.CKA_DECRYPT], [pkcs11.CKA_EXTRACTABLE, ...USES_BESIDES_DECRYPT]),
    ...identity(ref),
  ];
}

/** The one-time AES key that carries an imported private key into the token: a session object, sensitive, unwrap only. */
export function wrappingKeyTemplate(value: Buffer): Template {
  return [
    ...keyObject(pkcs11.CKO_SECRET_KEY, pkcs11.CKK_AES, false),
    { type: pkcs11.CKA_VALUE, value },
    ...flags([pkcs11.CKA_UNWRAP, pkcs11.CKA_SENSITIVE], [pkcs11.CKA_EXTRACTABLE]),
  ];
}

/** Attributes read for attestation, in the order of the evidence fields. */
export const EVIDENCE_ATTRIBUTES = {
  sensitive: pkcs11.CKA_SENSITIVE,
  alwaysSensitive: pkcs11.CKA_ALWAYS_SENSITIVE,
  extractable: pkcs11.CKA_EXTRACTABLE,
  neverExtractable: pkcs11.CKA_NEVER_EXTRACTABLE,
  local: pkcs11.CKA_LOCAL,
} as const;

export const OPERATION_ATTRIBUTES = {
  decrypt: pkcs11.CKA_DECRYPT,
  sign: pkcs11.CKA_SIGN,
  signRecover: pkcs11.CKA_SIGN_RECOVER,
  unwrap: pkcs11.CKA_UNWRAP,
  derive: pkcs11.CKA_DERIVE,
} as const;
