import type { JWTPayload } from 'jose';
import type { Principal } from '../keys/access-policy.js';

const NAME_CLAIMS = ['upn', 'preferred_username', 'email', 'unique_name'] as const;

export interface ClaimsReading {
  readonly principal: Principal;
  /** True when the token said the user has too many groups to list (group overage). */
  readonly groupOverage: boolean;
}

/**
 * Reads who the user is from verified Entra claims. Guests appear as `live.com#user@example.com` in `unique_name`;
 * the part after `#` is their address. With group overage Entra sends no `groups` but a pointer to Graph
 * (`_claim_names.groups` or `hasgroups`): the service does not guess and treats the user as in no group.
 */
export function principalFromClaims(claims: JWTPayload): ClaimsReading | undefined {
  const oid = stringClaim(claims, 'oid');
  const tenantId = stringClaim(claims, 'tid');
  if (oid === undefined || tenantId === undefined) return undefined;
  const names = new Set<string>();
  for (const claim of NAME_CLAIMS) {
    const value = stringClaim(claims, claim);
    if (value === undefined) continue;
    const address = value.includes('#') ? value.slice(value.lastIndexOf('#') + 1) : value;
    if (address !== '') names.add(address.toLowerCase());
  }
  const claimNames = claims._claim_names;
  const groupOverage =
    claims.hasgroups === true ||
    claims.hasgroups === 'true' ||
    (typeof claimNames === 'object' && claimNames !== null && 'groups' in claimNames);
  return {
    principal: {
      oid,
      tenantId: tenantId.toLowerCase(),
      names: [...names],
      groups: groupOverage ? [] : stringArray(claims.groups).map((g) => g.toLowerCase()),
      roles: stringArray(claims.roles),
    },
    groupOverage,
  };
}

function stringClaim(claims: JWTPayload, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
