import type { AllowList } from '../keys/key-version.js';
import type { StoreTransaction } from '../keys/ports.js';
import { GRANT_KINDS } from '../keys/vocabulary.js';
import type { AdminAudit } from './admin-audit.js';
import type { AdminContext } from './admin-context.js';

/** The allow list of a key name (contract §3 `dke keys grant|revoke`, §6 PUT/DELETE …/grants): who may decrypt. */
export class KeyGrants {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  grant(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#change('grant', name, kind, value);
  }

  revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#change('revoke', name, kind, value);
  }

  /** Adds or removes one entry, with its audit entry in the same transaction; false when there was nothing to change. */
  async #change(action: 'grant' | 'revoke', name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    const ctx = this.#ctx;
    await ctx.requireKey(name);
    if (value.trim() === '') throw await ctx.audit.refusal(action, name, 'The value to grant or revoke is empty.');
    if (action === 'grant' && kind === 'users') await ctx.assertUserEntries(action, name, { users: [value], groups: [], roles: [] });
    return ctx.deps.store.change(async (tx) => {
      const changed = action === 'grant' ? await tx.grant(name, kind, value) : await tx.revoke(name, kind, value);
      await ctx.audit.within(tx).succeeded(action, name, undefined, { kind, value: value.trim(), changed });
      return changed;
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
