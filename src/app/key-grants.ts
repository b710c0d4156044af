import type { AllowList } from '../keys/key-version.js';
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
