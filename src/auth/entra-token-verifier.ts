import { errors, jwtVerify, type JWTPayload } from 'jose';
import { isObjectId, type Principal } from '../keys/access-policy.js';
import { TokenInvalid } from '../keys/errors.js';
import type { TokenVerifier } from '../keys/ports.js';
import { tenantIssuers, type AuthConfig } from './auth-settings.js';
import type { OpenIdKeySource } from './openid-key-source.js';
import { principalFromClaims } from './principal-from-claims.js';

/** The 401 sentence for an admin token whose `oid` is not an object id. */
export const ADMIN_OID_REFUSAL = 'The token\'s oid is not an Entra object id (a GUID), so it is not accepted as an admin.';

/** The only signing algorithm Entra uses for access tokens; anything else is refused before a key is tried. */
const ALLOWED_ALGORITHMS = ['RS256'];

/**
 * Who a verifier admits. `decrypt` (the DKE port): user tokens carrying the required scope; app-only tokens never
 * decrypt. `admin` (the admin API, contract §6): user and app-only tokens alike (automation), no scope required: what
 * a caller may do there is decided by its app roles (`roles`), which the HTTP layer checks.
 */
export type VerifierProfile = 'decrypt' | 'admin';

/**
 * Checks an Entra ID access token as the reference service's JwtBearer does, and stricter: RS256 signature by a key
 * of the configured issuer, an issuer of an allowed tenant whose `tid` agrees, an accepted audience, exp/nbf with the
 * configured skew, and, for decrypt, the required scope in `scp` and a user principal.
 */
export class EntraTokenVerifier implements TokenVerifier {
  readonly #config: AuthConfig;
  readonly #keys: OpenIdKeySource;
  readonly #issuerTenants: ReadonlyMap<string, string | undefined>;
  readonly #audiences: readonly string[];
  readonly #onGroupOverage: ((oid: string) => void) | undefined;
  readonly #profile: VerifierProfile;

  constructor(config: AuthConfig, keys: OpenIdKeySource, onGroupOverage?: (oid: string) => void, profile: VerifierProfile = 'decrypt') {
    this.#config = config;
    this.#keys = keys;
    this.#issuerTenants = allowedIssuers(config);
    this.#audiences = acceptedAudiences(config.audiences);
    this.#onGroupOverage = onGroupOverage;
    this.#profile = profile;
  }

  async verify(token: string): Promise<Principal> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.#keys.resolveKey, {
        algorithms: ALLOWED_ALGORITHMS,
        audience: [...this.#audiences],
        issuer: [...this.#issuerTenants.keys()],
        clockTolerance: this.#config.clockSkewSeconds,
        requiredClaims: ['exp', 'iss', 'aud'],
      }));
    } catch (error) {
      throw new TokenInvalid('A valid bearer token is required.', joseReason(error));
    }
    const expectedTenant = this.#issuerTenants.get(claims.iss ?? '');
    if (expectedTenant !== undefined && String(claims.tid ?? '').toLowerCase() !== expectedTenant) {
      throw new TokenInvalid('A valid bearer token is required.', 'tid does not match the issuer');
    }
    const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
    if (this.#profile === 'decrypt' && !scopes.includes(this.#config.requiredScope)) {
      throw new TokenInvalid('A valid bearer token is required.', `scope ${this.#config.requiredScope} missing`);
    }
    const badTime = invalidTimeClaim(claims);
    if (badTime !== undefined) throw new TokenInvalid('A valid bearer token is required.', `${badTime} is not a whole number of seconds in range`);
    const reading = principalFromClaims(claims, this.#config.tenantIds, this.#config.cloud);
    if (this.#profile === 'admin') {
      if (reading === undefined) throw new TokenInvalid('A valid bearer token is required.', 'no oid or tid');
      // Issue 26: the two-person rule tells admins apart by oid, so only Entra's own form of one counts (a padded or
      // braced copy of an admin's oid would be a second person).
      if (!isObjectId(String(claims.oid))) throw new TokenInvalid(ADMIN_OID_REFUSAL, 'oid is not a GUID');
      // An app-only token names no user: the audit trail shows its application id instead.
      const appId = typeof claims.azp === 'string' ? claims.azp : typeof claims.appid === 'string' ? claims.appid : undefined;
      const auditName = reading.principal.auditName ?? (appId !== undefined ? `app:${appId.toLowerCase()}` : undefined);
      return { ...reading.principal, ...(auditName !== undefined ? { auditName } : {}), ...(isAppOnly(claims) ? { appOnly: true } : {}) };
    }
    if (reading === undefined || reading.principal.auditName === undefined || claims.idtyp === 'app') {
      throw new TokenInvalid('A valid bearer token is required.', 'not a user token');
    }
    if (reading.groupOverage) this.#onGroupOverage?.(reading.principal.oid);
    return reading.principal;
  }
}

/**
 * Does the token name an application rather than a person? Entra marks app-only tokens with `idtyp: "app"` (v2, and
 * v1 with the optional claim); without it, a token with app roles and no delegated scope (`scp`) is one too: a user's
 * token always carries the scopes it was consented for.
 */
export function isAppOnly(claims: JWTPayload): boolean {
  if (claims.idtyp === 'app') return true;
  if (claims.idtyp === 'user') return false;
  return (typeof claims.scp !== 'string' || claims.scp.trim() === '') && Array.isArray(claims.roles);
}

/**
 * Every accepted issuer, compared exactly (no prefix or host matching: `https://sts.windows.net.evil.com/{tid}/`
 * is another issuer), with the tenant its `tid` must name (undefined for the extra exact issuers).
 */
export function allowedIssuers(config: Pick<AuthConfig, 'tenantIds' | 'issuers' | 'cloud'>): Map<string, string | undefined> {
  const issuers = new Map<string, string | undefined>();
  for (const tid of config.tenantIds) for (const issuer of tenantIssuers(config.cloud, tid)) issuers.set(issuer, tid);
  for (const issuer of config.issuers) if (!issuers.has(issuer)) issuers.set(issuer, undefined);
  return issuers;
}

/**
 * The configured audiences, each URL also with and without its trailing slash: Entra puts in `aud` the resource
 * exactly as the client asked for it, and a label's URL may be written either way. Other values (a v2 token's
 * application id) are compared exactly.
 */
export function acceptedAudiences(configured: readonly string[]): string[] {
  const accepted = new Set<string>();
  for (const audience of configured) {
    accepted.add(audience);
    if (!/^https?:\/\//i.test(audience)) continue;
    accepted.add(audience.endsWith('/') ? audience.replace(/\/+$/, '') : `${audience}/`);
  }
  return [...accepted];
}

/** Seconds since 1970 up to 2^32 - 1 (year 2106): any later time is no time Entra issues. */
const LATEST_TIME = 0xffff_ffff;

/**
 * The name of the first of `exp`, `nbf`, `iat` that is present but not a whole number of seconds between 0 and
 * LATEST_TIME. jose only asks for a number, and `"exp":1e400` parses as Infinity: a token that never expires.
 */
export function invalidTimeClaim(claims: JWTPayload): string | undefined {
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value: unknown = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LATEST_TIME) return name;
  }
  return undefined;
}

/** jose's error code for the log: which check failed, never the token. */
function joseReason(error: unknown): string {
  if (error instanceof errors.JOSEError) {
    const claim = error instanceof errors.JWTClaimValidationFailed ? ` (${error.claim})` : '';
    return `${error.code}${claim}`;
  }
  return 'malformed token';
}
