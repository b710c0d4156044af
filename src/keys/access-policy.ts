import type { AllowList } from './key-version.js';

/** Who is calling, as the identity provider proved it. Plain data: no token, no claims beyond these. */
export interface Principal {
  /** Entra object id of the user. */
  readonly oid: string;
  readonly tenantId: string;
  /** Every name the token gives the user (upn, preferred_username, email, unique_name), lower case. */
  readonly names: readonly string[];
  /** Group object ids, lower case; empty when the token signalled group overage. */
  readonly groups: readonly string[];
  readonly roles: readonly string[];
}

/**
 * Deny by default: a user may use a key name when one of their names, groups or app roles is on its allow list.
 * Names and group ids compare case-insensitively (both are stored lower case); roles exactly.
 */
export function isAllowed(principal: Principal, allow: AllowList): boolean {
  return (
    principal.names.some((n) => allow.users.includes(n.toLowerCase())) ||
    principal.groups.some((g) => allow.groups.includes(g.toLowerCase())) ||
    principal.roles.some((r) => allow.roles.includes(r))
  );
}
