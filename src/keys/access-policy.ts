import type { AllowList } from './key-version.js';

/** Who is calling, as the identity provider proved it. Plain data: no token, no claims beyond these. */
export interface Principal {
  /** Entra object id of the user (lower case): immutable and never reused, the one identifier nobody can choose. */
  readonly oid: string;
  readonly tenantId: string;
  /**
   * The `upn` claim, lower case, only for a member of an allowed tenant (no `#EXT#`, the token's tenant is the
   * user's home tenant); undefined for guests and tokens without `upn`. The only name that may decide access.
   */
  readonly memberUpn: string | undefined;
  /**
   * The name the audit trail shows (upn, else preferred_username, email or unique_name). For people reading the
   * trail only: these claims can be chosen by the user or another tenant, so they never decide access.
   */
  readonly auditName: string | undefined;
  /** Group object ids, lower case; empty when the token signalled group overage. */
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** An app-only token (a service principal, no person; admin API only): it may propose but not approve (contract §10). */
  readonly appOnly?: boolean;
}

/** An Entra object id: a GUID. Any other user entry of an allow list is a UPN. */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Is this allow-list user entry an object id (`oid`) rather than a UPN? */
export function isObjectId(entry: string): boolean {
  return OBJECT_ID.test(entry);
}

/**
 * Deny by default: a user may use a key name when their `oid`, their member UPN, one of their groups or one of their
 * app roles is on its allow list (issue 18). A user entry that is a GUID matches `oid` only; any other user entry
 * matches only the `upn` of a member of an allowed tenant, so a guest (whose `upn` is `…#EXT#@…`) is matched by
 * `oid` alone. `email`, `preferred_username` and `unique_name` never reach this function. Object ids, UPNs and
 * group ids compare case-insensitively (stored lower case); roles exactly.
 */
export function isAllowed(principal: Principal, allow: AllowList): boolean {
  const oid = principal.oid.toLowerCase();
  const upn = principal.memberUpn?.toLowerCase();
  return (
    allow.users.some((entry) => (isObjectId(entry) ? entry.toLowerCase() === oid : upn !== undefined && entry.toLowerCase() === upn)) ||
    principal.groups.some((g) => allow.groups.includes(g.toLowerCase())) ||
    principal.roles.some((r) => allow.roles.includes(r))
  );
}
