import type { RsaPublicKey } from '../keys/ports.js';

/** The body of GET /{keyName}, as Microsoft's reference service writes it. Changing it breaks Office. */
export interface PublicKeyResponse {
  key: { kty: 'RSA'; n: string; e: number; alg: 'RS256'; kid: string };
  cache?: { exp: string };
}

export function publicKeyResponse(key: RsaPublicKey, kid: string, cacheHours: number, now: Date): PublicKeyResponse {
  const response: PublicKeyResponse = {
    key: { kty: 'RSA', n: key.modulus.toString('base64'), e: exponentNumber(key.publicExponent), alg: 'RS256', kid },
  };
  if (cacheHours > 0) response.cache = { exp: cacheExpiry(now, cacheHours) };
  return response;
}

/** `yyyy-MM-ddTHH:mm:ss` in UTC with no zone suffix, as the reference formats `cache.exp`. */
export function cacheExpiry(now: Date, hours: number): string {
  return new Date(now.getTime() + hours * 3_600_000).toISOString().slice(0, 19);
}

function exponentNumber(exponent: Buffer): number {
  return exponent.reduce((acc, byte) => acc * 256 + byte, 0);
}
