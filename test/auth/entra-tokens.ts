import { KeyObject as NodeKeyObject, randomUUID, sign } from 'node:crypto';
import { SignJWT, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';
import type { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';

/** Tokens for test/auth: claim sets shaped as Entra really sends them, signed (or forged) at will. */

export const AUDIENCE = 'https://dke.contoso.example';
export const OTHER_TENANT = '9b8c7d6e-0000-4000-8000-0000000000ff';

const now = (): number => Math.floor(Date.now() / 1000);

/** A v1 access token's claims for a member user, as Office gets one for the label's DKE URL (resource flow). */
export function v1Claims(issuer: DevTokenIssuer, overrides: JWTPayload = {}): JWTPayload {
  const t = now();
  return {
    aud: AUDIENCE,
    iss: issuer.v1Issuer(),
    iat: t - 60,
    nbf: t - 60,
    exp: t + 3600,
    acr: '1',
    amr: ['pwd', 'mfa'],
    appid: 'd3590ed6-52b3-4102-aeff-aad2292ab01c',
    appidacr: '0',
    name: 'Alice Example',
    oid: '1b2c3d4e-0000-4000-8000-00000000a11c',
    scp: 'user_impersonation',
    sub: 'x1y2z3',
    tid: issuer.tenantId,
    unique_name: 'alice@contoso.example',
    upn: 'alice@contoso.example',
    uti: randomUUID(),
    ver: '1.0',
    ...overrides,
  };
}

/** A v2 access token's claims (accessTokenAcceptedVersion 2): preferred_username instead of upn. */
export function v2Claims(issuer: DevTokenIssuer, overrides: JWTPayload = {}): JWTPayload {
  const t = now();
  return {
    aud: AUDIENCE,
    iss: issuer.v2Issuer(),
    iat: t - 60,
    nbf: t - 60,
    exp: t + 3600,
    azp: 'd3590ed6-52b3-4102-aeff-aad2292ab01c',
    azpacr: '0',
    name: 'Alice Example',
    oid: '1b2c3d4e-0000-4000-8000-00000000a11c',
    preferred_username: 'alice@contoso.example',
    scp: 'user_impersonation',
    sub: 'x1y2z3',
    tid: issuer.tenantId,
    uti: randomUUID(),
    ver: '2.0',
    ...overrides,
  };
}

/** Signs claims exactly as given (no defaults added) with the issuer's current key and `kid`, or with `key`. */
export function signed(
  issuer: DevTokenIssuer,
  claims: JWTPayload,
  options: { alg?: string; kid?: string; key?: CryptoKey | KeyObject | Uint8Array } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', kid: options.kid ?? issuer.currentKey.kid })
    .sign(options.key ?? issuer.currentKey.privateKey);
}

/** A compact JWS assembled by hand, for forgeries no signing library will make (alg none, edited payloads). */
export function compact(header: object, payload: object, signature: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${signature}`;
}

/**
 * A genuinely signed RS256 token over the payload text exactly as given, for values no JSON encoder writes
 * (`"exp":1e400`, which JSON.parse reads as Infinity).
 */
export function rawSigned(issuer: DevTokenIssuer, payloadJson: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: issuer.currentKey.kid })).toString('base64url');
  const input = `${header}.${Buffer.from(payloadJson).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), NodeKeyObject.from(issuer.currentKey.privateKey as Parameters<typeof NodeKeyObject.from>[0]));
  return `${input}.${signature.toString('base64url')}`;
}
