/**
 * The words the service, its admin API's OpenAPI document (http/admin-openapi.ts) and the console (web/src) share,
 * each written once: states, effective statuses, origins, grant kinds, approval and check statuses, audit outcomes and
 * error codes. The types the service uses are derived from these lists, the OpenAPI document's enums are these lists,
 * and the console imports this file by relative path (web/src/vocabulary.ts); test/http/vocabulary-drift.test.ts
 * holds them together.
 *
 * Bundled into the browser: this file imports nothing and names nothing of Node (no Buffer). So are lifecycle.ts (the
 * state table), effective-status.ts and admin-records.ts (the records shown as they are kept), which import only each
 * other's words; `tsc -p web/tsconfig.json` (no Node types) fails if one of them breaks that.
 */

/** NIST SP 800-57 key states as contract §4 names them, in the order of a version's life. */
export const KEY_STATES = ['pre-active', 'active', 'deactivated', 'compromised', 'destroyed'] as const;
export type KeyState = (typeof KEY_STATES)[number];

/** How a private key came into the HSM: generated inside it, or imported (bring your own key). */
export const KEY_ORIGINS = ['generated', 'imported'] as const;
export type KeyOrigin = (typeof KEY_ORIGINS)[number];

/** The lists of a key name's allow list, and the one-entry body field that names each (`{"user": …}`). */
export const GRANT_KINDS = ['users', 'groups', 'roles'] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];
export const GRANT_FIELDS = ['user', 'group', 'role'] as const;
export type GrantField = (typeof GRANT_FIELDS)[number];

/** What waits for a second admin under DKE_APPROVALS_REQUIRED=2 (contract §6), and where a proposal stands. */
export const APPROVAL_OPERATIONS = ['set-state', 'delete', 'emergency-unblock', 'set-policy'] as const;
export type ApprovalOperation = (typeof APPROVAL_OPERATIONS)[number];
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'failed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** How an audited decision or admin step ended. */
export const AUDIT_OUTCOMES = ['allowed', 'denied', 'failed', 'succeeded', 'refused'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What an audit entry is about: an admin action (every change and step of the service) or a decrypt decision. */
export const AUDIT_KINDS = ['admin', 'decrypt'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** The files an audit export is written as: one JSON entry per line, or CSV with a header row. */
export const AUDIT_EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/**
 * The filters of an audit read, each written once: the query parameters of GET /admin/api/audit and
 * /admin/api/audit/export (their OpenAPI parameters are this table), the options of `dke audit` (`--actor` …) and
 * the fields of the console's audit page. A repeatable filter matches any of its values; filters narrow each other.
 */
export const AUDIT_FILTERS = [
  { name: 'actor', repeatable: true, about: 'entries whose actor contains this text, in any case (an oid, a UPN, os:user)' },
  { name: 'key', repeatable: true, about: 'entries of this key name' },
  { name: 'action', repeatable: true, about: 'entries of this action (create, grant, set-state, decrypt …)' },
  { name: 'outcome', repeatable: true, about: 'entries with this outcome' },
  { name: 'kind', repeatable: false, about: 'admin: every entry but decrypt decisions; decrypt: only those' },
  { name: 'since', repeatable: false, about: 'entries at or after this ISO time, or a span back from now (24h, 30d)' },
  { name: 'until', repeatable: false, about: 'entries before this ISO time, or a span back from now' },
] as const;
export type AuditFilterName = (typeof AUDIT_FILTERS)[number]['name'];

/**
 * What a key or a version does right now, all things considered: its state, Enabled, a scheduled deletion, the
 * emergency block and whether the token still holds its private key (keys/effective-status.ts decides, in this order
 * of precedence from the end: a permanent state says the most). `serving`: a version decrypts; a key is published.
 */
export const EFFECTIVE_STATUSES = ['serving', 'pre-active', 'not-published', 'not-in-hsm', 'exportable', 'emergency-block', 'blocked', 'pending-deletion', 'deactivated', 'compromised', 'destroyed'] as const;
export type EffectiveStatus = (typeof EFFECTIVE_STATUSES)[number];

/** What the token's evidence proves about where a private key has been (app/key-attestation.ts says how). */
export const PROVENANCE_VERDICTS = ['hsm-born-never-extractable', 'imported-non-extractable', 'exportable', 'unknown', 'destroyed'] as const;
export type ProvenanceVerdict = (typeof PROVENANCE_VERDICTS)[number];

/** A readiness check's verdict: only `fail` takes the instance out of the load balancer. */
export const CHECK_STATUSES = ['pass', 'warn', 'fail'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Where a vault stands (contract §9): an `inactive` vault takes no new keys, its versions keep decrypting. */
export const VAULT_STATUSES = ['active', 'inactive'] as const;
export type VaultStatus = (typeof VAULT_STATUSES)[number];

/** The state of the service's connection to a vault's token (hsm/hsm-connection.ts moves between them). */
export const HSM_STATES = ['up', 'recovering', 'down', 'misconfigured'] as const;
export type HsmState = (typeof HSM_STATES)[number];

/**
 * Every `error` code a response body of the service can carry, with its HTTP status: the domain's failures
 * (keys/errors.ts, answered by http/error-responses.ts from this table) and the HTTP layer's own (http/*.ts).
 */
export const ERROR_STATUSES = {
  invalid_request: 400,
  decrypt_failed: 400,
  refused: 400,
  key_usage_not_restricted: 400,
  invalid_token: 401,
  access_denied: 403,
  key_not_usable: 403,
  same_principal: 403,
  app_only_approver: 403,
  forbidden: 403,
  key_not_found: 404,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  key_already_in_token: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  misdirected_request: 421,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  hsm_unavailable: 503,
  store_unavailable: 503,
  store_refused: 503,
  database_unavailable: 503,
} as const satisfies Readonly<Record<string, number>>;
export type ErrorCode = keyof typeof ERROR_STATUSES;
export const ERROR_CODES = Object.keys(ERROR_STATUSES) as readonly ErrorCode[];
