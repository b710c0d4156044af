import { constants, createPublicKey, publicEncrypt } from 'node:crypto';

/** What an Office client does with GET /{keyName}'s answer: RSA-OAEP-SHA256 under the JWK's n and e. */
export function encryptLikeOffice(jwk: { n: string; e: number }, plaintext: Buffer): string {
  const e = Buffer.from(jwk.e.toString(16).padStart(6, '0'), 'hex');
  const key = createPublicKey({
    key: { kty: 'RSA', n: Buffer.from(jwk.n, 'base64').toString('base64url'), e: e.toString('base64url') },
    format: 'jwk',
  });
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext).toString('base64');
}
