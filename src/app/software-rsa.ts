import { constants, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import type { KeyVault, KeyVersionRef, RsaPublicKey } from '../keys/ports.js';

/**
 * RSA-OAEP with SHA-256 and MGF1-SHA-256 in software, exactly as an Office client encrypts (contract §1). The service
 * itself never decrypts in software: it only encrypts probes that the token must give back (readiness self-test, the
 * round trip that proves an imported key) and the `dke dev` demo ciphertext.
 */
export function encryptOaepSha256(publicKey: RsaPublicKey, plaintext: Buffer): Buffer {
  return publicEncrypt({ key: toNodePublicKey(publicKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
}

/** Node's key object for a modulus and exponent as PKCS#11 gives them (big-endian, unsigned). */
export function toNodePublicKey(key: RsaPublicKey): KeyObject {
  return createPublicKey({
    key: { kty: 'RSA', n: key.modulus.toString('base64url'), e: key.publicExponent.toString('base64url') },
    format: 'jwk',
  });
}

/** Encrypts 32 random bytes as Office would and checks that the token gives them back. */
export async function decryptsRoundTrip(vault: KeyVault, ref: KeyVersionRef, publicKey: RsaPublicKey): Promise<boolean> {
  const probe = randomBytes(32);
  const plaintext = await vault.decrypt(ref, encryptOaepSha256(publicKey, probe));
  return plaintext.equals(probe);
}
