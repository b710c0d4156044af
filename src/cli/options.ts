import type { AllowList } from '../app/admin-vocabulary.js';
import { span } from '../app/admin-policy-change.js';

/** Issue 18: the two user identifiers nobody but the tenant can choose. */
/** `--vault` of create, rotate and import (contract §9). */
export const VAULT_OPTION_HELP = 'the vault whose HSM makes the key (default: the default vault of DKE_VAULTS, or "default")';

export const USER_OPTION_HELP =
  'user allowed to decrypt: object id (oid, a GUID; the only way for guests) or the UPN of a member of an allowed tenant (repeatable)';

/** Commander's collector for repeatable options (--allow-user a --allow-user b). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function allowListFrom(options: { allowUser?: string[]; allowGroup?: string[]; allowRole?: string[] }): AllowList {
  return { users: options.allowUser ?? [], groups: options.allowGroup ?? [], roles: options.allowRole ?? [] };
}

/** A span option (`--window 30d`) in ms; a refusal naming the option when it is not one. */
export function optionSpan(value: string, option: string): number {
  return span(value, option);
}
