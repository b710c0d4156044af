import type { JWTPayload } from 'jose';
import type { Principal } from '../keys/access-policy.js';
import { tenantIssuers, type EntraCloud } from './auth-settings.js';

/** Claims that name the user for the audit trail only, in the order shown; none of them decides access. */
const SHOWN_NAME_CLAIMS = ['upn', 'preferred_username', 'email', 'unique_name'] as const;

export interface ClaimsReading {
  readonly principal: Principal;
  /** True when the token said the user has too many groups to list (group overage). */
  readonly groupOverage: boolean;
}

/**
 * Reads who the user is from verified Entra claims (issue 18). Access may be decided only on claims nobody can
 * choose: `oid` always, and `upn` only for a member of an allowed tenant (`memberTenants`, lower case). `upn` is
 * set by the tenant's administrators and unique within it; a guest's `upn` (`alice_fabrikam.com#EXT#@contoso…`)
 * is derived from an address the guest's own tenant or the guest chose, so guests count by `oid` alone.
 * `email`, `preferred_username` and `unique_name` can be edited by users or other tenants (Microsoft's guidance:
 * never authorize on them) and only give the name shown in the audit trail; no `live.com#` prefix is stripped.
 * With group overage Entra sends no `groups` but a pointer to Graph (`_claim_names.groups` or `hasgroups`): the
 * service does not guess and treats the user as in no group.
 */
export function principalFromClaims(claims: JWTPayload, memberTenants: readonly string[], cloud: Pick<EntraCloud, 'v1' | 'v2'>): ClaimsReading | undefined {
  const oid = stringClaim(claims, 'oid');
  const tenantId = stringClaim(claims, 'tid')?.toLowerCase();
  if (oid === undefined || tenantId === undefined) return undefined;
  const upn = stringClaim(claims, 'upn');
  const isMember = upn !== undefined && !upn.includes('#') && memberTenants.includes(tenantId) && isHomeTenantToken(claims, tenantId, cloud);
  const shown = SHOWN_NAME_CLAIMS.map((name) => stringClaim(claims, name)).find((value) => value !== undefined);
  const claimNames = claims._claim_names;
  const groupOverage =
    claims.hasgroups === true ||
    claims.hasgroups === 'true' ||
    (typeof claimNames === 'object' && claimNames !== null && 'groups' in claimNames);
  return {
    principal: {
      oid: oid.toLowerCase(),
      tenantId,
      memberUpn: isMember ? upn.toLowerCase() : undefined,
      auditName: shown?.toLowerCase(),
      groups: groupOverage ? [] : stringArray(claims.groups).map((g) => g.toLowerCase()),
      roles: stringArray(claims.roles),
    },
    groupOverage,
  };
}

/**
 * Was the user signed in by the token's own tenant? Entra adds `idp` when another identity provider authenticated
 * the user (a guest's home tenant, `live.com`, `google.com`) and, when configured, `acct` 1 for guests. A member's
 * token has no `idp`, or one that is the token's issuer or an issuer of the same tenant in the configured cloud,
 * compared as a whole URL (issue 26: reading only its first path segment let `https://any.host/{tid}/` pass).
 */
function isHomeTenantToken(claims: JWTPayload, tenantId: string, cloud: Pick<EntraCloud, 'v1' | 'v2'>): boolean {
  if (claims.acct !== undefined && claims.acct !== 0 && claims.acct !== '0') return false;
  const idp = claims.idp;
  if (idp === undefined) return true;
  if (typeof idp !== 'string') return false;
  if (idp === claims.iss) return true;
  return tenantIssuers(cloud, tenantId).some((issuer) => issuer.toLowerCase() === idp.toLowerCase());
}

function stringClaim(claims: JWTPayload, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
