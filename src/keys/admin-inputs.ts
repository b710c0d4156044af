import { isObjectId } from './access-policy.js';
import { spanMs, spanWords } from './durations.js';
import type { AllowList } from './key-version.js';
import { GRANT_KINDS } from './vocabulary.js';

/**
 * What an admin may hand in, checked once for every front end (the admin API and the CLI both reach it through the
 * key-admin service; the CLI also before a command that repeats an option changes anything). Issue 26: values nobody
 * checked were stored although no token could ever match them (a group's display name), or could be written to
 * confuse a reader of the trail (a UPN with `<`, `>` or NUL).
 */

/** Entra limits a UPN's part before the `@` to 64 characters; the whole address is kept to the e-mail limit. */
const UPN_LOCAL_MAX = 64;
const UPN_MAX = 254;

/**
 * A member's UPN: `local@domain.tld`. The local part is a dot-atom of RFC 5322 `atext` without `#` (guests' `#EXT#`
 * names never match, see isAllowed); the domain is DNS labels with a top-level label that starts with a letter.
 * Nothing else: no space, no control character, no `<`, `>`, quote or NUL.
 */
const MEMBER_UPN = /^[A-Za-z0-9!$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])$/;

/** An app role's value as this service accepts it: strict, so that a look-alike (`DKE.Admin `, `dke.decrypt\u0000`) is refused. */
const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const ROLE_NAME_MAX_LENGTH = 120;

/**
 * The shortest rotation period comes from the stored policy's `rotationMinimum` (contract §10, keys/admin-policy.ts;
 * issue 26: `"every":"1s"` made a new HSM key pair per key at every scheduler run).
 */

/** A value as a sentence may show it: quoted, at most 140 characters, control characters escaped. */
function shown(value: string): string {
  return JSON.stringify(value.slice(0, 140));
}

/**
 * Why a user entry cannot go on an allow list, or undefined when it is an object id or a member's UPN. A guest's
 * `…#EXT#@…` UPN is refused rather than stored: it would never match, since guests are matched by `oid` only.
 */
export function userEntryProblem(entry: string): string | undefined {
  const value = entry.trim();
  if (isObjectId(value)) return undefined;
  if (value.length <= UPN_MAX && MEMBER_UPN.test(value) && value.indexOf('@') <= UPN_LOCAL_MAX) return undefined;
  if (value.includes('#')) {
    return `${shown(value)} is a guest's or an external account's name; allow guests by their object id (oid, a GUID shown in the Entra admin center under Users), which nobody can change.`;
  }
  return `${shown(value)} is neither an object id (oid, a GUID) nor a user principal name (name@domain).`;
}

/** Tokens carry group object ids, never names: a display name on an allow list would never match anybody. */
export function groupEntryProblem(entry: string): string | undefined {
  const value = entry.trim();
  if (isObjectId(value)) return undefined;
  return `${shown(value)} is not a group object id: use the group's object id (a GUID, shown in the Entra admin center under Groups), which is what tokens carry in their groups claim.`;
}

/** An app role value: 1 to ROLE_NAME_MAX_LENGTH letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export function roleEntryProblem(entry: string): string | undefined {
  const value = entry.trim();
  if (value.length <= ROLE_NAME_MAX_LENGTH && ROLE_NAME.test(value)) return undefined;
  return `${shown(value)} is not an app role value: use 1 to ${ROLE_NAME_MAX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit (the role's Value in the app registration).`;
}

const ENTRY_CHECKS: Readonly<Record<keyof AllowList, (entry: string) => string | undefined>> = {
  users: userEntryProblem,
  groups: groupEntryProblem,
  roles: roleEntryProblem,
};

/** Why this value cannot be granted as a `kind` entry, or undefined when it can. */
export function allowEntryProblem(kind: keyof AllowList, value: string): string | undefined {
  return ENTRY_CHECKS[kind](value);
}

/** The first problem of an allow list given to create or import, or undefined. */
export function allowListProblem(allow: AllowList | undefined): string | undefined {
  for (const kind of GRANT_KINDS) {
    for (const value of allow?.[kind] ?? []) {
      const problem = allowEntryProblem(kind, value);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** Why `every` is no rotation period: not a span, or shorter than the policy's minimum. */
export function rotationPeriodProblem(every: string, minimumMs: number): string | undefined {
  const ms = spanMs(every);
  if (ms === undefined || ms === 0) return `${shown(every)} is not a rotation period; use a span such as 90d or 30d.`;
  if (ms < minimumMs) {
    const minimum = spanWords(minimumMs);
    return `A rotation period of ${shown(every.trim())} is shorter than the minimum of ${minimum}: each rotation makes a new key pair in the HSM. Use ${minimum} or more, such as 90d.`;
  }
  return undefined;
}

/** The period the scheduler keeps: never shorter than the policy's minimum, even for a schedule stored before it. */
export function effectiveRotationPeriodMs(every: string, minimumMs: number): number | undefined {
  const ms = spanMs(every);
  return ms === undefined || ms === 0 ? undefined : Math.max(ms, minimumMs);
}
