import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { RsaPublicKey } from '../keys/ports.js';

/** DKE keys are RSA-2048 with e = 65537 (contract §1); Office encrypts with nothing else. */
const REQUIRED_BITS = 2048;
const REQUIRED_EXPONENT = 65537n;

export interface PrivateKeyMaterial {
  /** PKCS#8 DER of the private key. Wipe with `wipe()` as soon as it is in the HSM. */
  readonly pkcs8Der: Buffer;
  readonly publicKey: RsaPublicKey;
  wipe(): void;
}

/**
 * Reads an RSA private key to import: a PEM file (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"), or the bare
 * base64 body of a PKCS#1 key as Microsoft's reference service keeps it in appsettings.json (`PrivatePem`). Refuses
 * with a sentence anything else: public keys, certificates, encrypted keys, other sizes or exponents, garbage.
 * The sentences never quote the input.
 */
export function readPrivateKeyMaterial(text: string, origin: string): PrivateKeyMaterial {
  const trimmed = text.trim();
  if (/-----BEGIN (RSA )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(trimmed)) {
    throw new AdminRefused(`${origin} holds a public key or certificate; import needs the private key.`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(trimmed)) {
    throw new AdminRefused(`${origin} is an encrypted private key; decrypt it first (openssl pkcs8 -topk8 -nocrypt) on a trusted machine.`);
  }
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----BEGIN')
      ? createPrivateKey({ key: trimmed, format: 'pem' })
      : createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs1' });
  } catch {
    throw new AdminRefused(`${origin} is not a readable RSA private key (PKCS#8 or PKCS#1 PEM).`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new AdminRefused(`${origin} holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; DKE keys are RSA.`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength !== REQUIRED_BITS) {
    throw new AdminRefused(`${origin} holds an RSA-${details.modulusLength ?? '?'} key; DKE keys must be RSA-2048.`);
  }
  if (details.publicExponent !== REQUIRED_EXPONENT) {
    throw new AdminRefused(`${origin} has public exponent ${details.publicExponent ?? '?'}; DKE keys must use 65537.`);
  }
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const pkcs8Der = key.export({ type: 'pkcs8', format: 'der' });
  return {
    pkcs8Der,
    publicKey: { modulus: Buffer.from(jwk.n!, 'base64url'), publicExponent: Buffer.from(jwk.e!, 'base64url') },
    wipe: () => pkcs8Der.fill(0),
  };
}

/** The modulus of a public key given as PEM or as the bare base64 SubjectPublicKeyInfo of the reference's `PublicPem`. */
export function readPublicModulus(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  try {
    const key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey({ key: trimmed, format: 'pem' })
      : createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    return Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
  } catch {
    throw new AdminRefused(`${origin} is not a readable RSA public key.`);
  }
}
