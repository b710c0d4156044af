import type { AllowList } from '../keys/key-version.js';
import type { StoreTransaction } from '../keys/ports.js';
import { GRANT_KINDS } from '../keys/vocabulary.js';
import type { AdminAudit } from './admin-audit.js';
import type { AdminContext } from './admin-context.js';

/** One entry of an allow list to grant or revoke. */
export interface GrantEntry {
  readonly kind: keyof AllowList;
  readonly value: string;
}

/** What granting or revoking one entry did: false when there was nothing to change. */
export interface GrantChange extends GrantEntry {
  readonly changed: boolean;
}

/** The allow list of a key name (contract §3 `dke keys grant|revoke`, §6 PUT/DELETE …/grants): who may decrypt. */
export class KeyGrants {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  async grant(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return (await this.change('grant', name, [{ kind, value }]))[0]!.changed;
  }

  async revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return (await this.change('revoke', name, [{ kind, value }]))[0]!.changed;
  }

  /**
   * Adds or removes several entries (a CLI option given more than once): all are checked before any changes, then
   * they change in one transaction, each with its audit entry.
   */
  async change(action: 'grant' | 'revoke', name: string, entries: readonly GrantEntry[]): Promise<GrantChange[]> {
    const ctx = this.#ctx;
    await ctx.requireKey(name);
    if (entries.length === 0 || entries.some((entry) => entry.value.trim() === '')) throw await ctx.audit.refusal(action, name, 'The value to grant or revoke is empty.');
    // Only what is granted is checked: an entry stored before the checks existed can still be revoked.
    if (action === 'grant') await ctx.assertAllowEntries(action, name, allowListOf(entries));
    return ctx.deps.store.change(async (tx) => {
      const changes: GrantChange[] = [];
      for (const { kind, value } of entries) {
        const changed = action === 'grant' ? await tx.grant(name, kind, value) : await tx.revoke(name, kind, value);
        await ctx.audit.within(tx).succeeded(action, name, undefined, { kind, value: value.trim(), changed });
        changes.push({ kind, value, changed });
      }
      return changes;
    });
  }
}

/**
 * The allow list a new version comes with (`keys create --allow-user`, the API's `allow`, an import), granted inside
 * the transaction that adds the version, each entry recorded as `dke keys grant` records it, naming the step it came
 * with: an investigator looking for who was allowed finds these among the grants.
 */
export async function grantAllowList(tx: StoreTransaction, audit: AdminAudit, name: string, allow: AllowList | undefined, withStep: 'create' | 'import'): Promise<void> {
  for (const kind of GRANT_KINDS) {
    for (const value of allow?.[kind] ?? []) {
      const changed = await tx.grant(name, kind, value);
      await audit.within(tx).succeeded('grant', name, undefined, { kind, value: value.trim(), changed, with: withStep });
    }
  }
}

function allowListOf(entries: readonly GrantEntry[]): AllowList {
  const allow = { users: [] as string[], groups: [] as string[], roles: [] as string[] };
  for (const { kind, value } of entries) allow[kind].push(value);
  return allow;
}
