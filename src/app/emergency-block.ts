import type { AdminContext } from './admin-context.js';
import { propose } from './key-approvals.js';
import type { EmergencyBlockView, Proposed } from './key-admin-views.js';

/** The kill switch (contract §3 `dke emergency`, §6 `/admin/api/emergency-block`), as every instance sees it. */
export class EmergencyBlock {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /** The switch as every instance sees it on its next request. */
  view(): EmergencyBlockView {
    const block = this.#ctx.deps.store.emergencyBlock();
    return block === undefined ? { blocked: false } : { blocked: true, since: block.since, by: block.by };
  }

  /**
   * Sets or lifts the kill switch: while on, no version of any key decrypts (403 key_not_usable) or is published (GET
   * 404); each version's state and Enabled flag are left as they are and apply again once it is lifted. Audited.
   */
  async set(on: boolean): Promise<EmergencyBlockView | Proposed> {
    const ctx = this.#ctx;
    // Setting it never waits; lifting it needs a second admin when approvals are required (contract §6).
    if (!on && this.view().blocked && ctx.needsApproval()) return { approval: await propose(ctx, 'emergency-unblock') };
    const action = on ? 'emergency-block' : 'emergency-unblock';
    // An approved lift lifts only the block it names (issue 26): one set again meanwhile stays.
    const bound = ctx.runningApproval?.boundTo;
    const liftOnlySince = bound !== undefined && 'blockSince' in bound ? bound.blockSince : undefined;
    // The switch and its audit entry commit together (issue 17's rule for every admin change).
    await ctx.deps.store.change(async (tx) => {
      const changed = await tx.setEmergencyBlock(on ? { since: ctx.now().toISOString(), by: ctx.deps.actor } : undefined, liftOnlySince);
      await ctx.audit.within(tx).succeeded(action, undefined, undefined, { changed });
    });
    return this.view();
  }
}
