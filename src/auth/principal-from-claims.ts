import type { JWTPayload } from 'jose';
import type { Principal } from '../keys/access-policy.js';

const NAME_CLAIMS = ['upn', 'preferred_username', 'email', 'unique_name'] as const;

export interface ClaimsReading {
  readonly principal: Principal;
  /** True when the token said the user has too many groups to list (group overage). */
  readonly groupOverage: boolean;
}

/** `live.com#alice@outlook.com`: an identity provider, `#`, then the guest's own address. */
const PROVIDER_PREFIXED = /^[^#@\s]+#([^#@\s]+@[^#@\s]+)$/;

/**
 * Reads who the user is from verified Entra claims; names come in the order upn, preferred_username, email,
 * unique_name, so the first is the one to show (audit). Guests: a Microsoft-account guest's `unique_name` is
 * `live.com#alice@outlook.com` and is read as `alice@outlook.com`. A guest's UPN in the inviting tenant,
 * `alice_fabrikam.com#EXT#@contoso.onmicrosoft.com`, is kept whole: turning `_` back into `@` would guess (the
 * local part may hold `_` too), and the home address arrives anyway in `email`/`unique_name`/`preferred_username`.
 * With group overage Entra sends no `groups` but a pointer to Graph (`_claim_names.groups` or `hasgroups`): the
 * service does not guess and treats the user as in no group.
 */
export function principalFromClaims(claims: JWTPayload): ClaimsReading | undefined {
  const oid = stringClaim(claims, 'oid');
  const tenantId = stringClaim(claims, 'tid');
  if (oid === undefined || tenantId === undefined) return undefined;
  const names = new Set<string>();
  for (const claim of NAME_CLAIMS) {
    const value = stringClaim(claims, claim);
    if (value === undefined) continue;
    names.add((PROVIDER_PREFIXED.exec(value)?.[1] ?? value).toLowerCase());
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
