import type { AdminContext } from './admin-context.js';
import { propose } from './key-approvals.js';
import type { EmergencyBlockView, Proposed } from './key-admin-views.js';

/** The kill switch (contract §3 `dke emergency`, §6 `/admin/api/emergency-block`), as every instance sees it. */
export class EmergencyBlock {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /** The switch as every instance sees it on its next request: the store's, or the token's record of it (issue 25). */
  view(): EmergencyBlockView {
    const block = this.#ctx.deps.store.emergencyBlock() ?? this.#ctx.deps.anchoredBlock?.();
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
    const block = on ? { since: ctx.now().toISOString(), by: ctx.deps.actor } : undefined;
    // Issue 25: the token's record first, so an instance cut off from the database sees the block within 1 s, and a
    // step interrupted between the two leaves a block standing, never a lift (the store's block holds on its own).
    const anchoredOnToken = await this.#anchor(block);
    // The switch and its audit entry commit together (issue 17's rule for every admin change).
    const changed = await ctx.deps.store.change(async (tx) => {
      const written = await tx.setEmergencyBlock(block, liftOnlySince);
      await ctx.audit.within(tx).succeeded(action, undefined, undefined, { changed: written, anchoredOnToken });
      return written;
    });
    // A bound lift that found another block standing lifted nothing: that block's record goes back on the token.
    const standing = ctx.deps.store.emergencyBlock();
    if (!on && !changed && standing !== undefined) await this.#anchor({ since: standing.since, by: standing.by });
    await ctx.deps.emergencyBlockChanged?.();
    return this.view();
  }

  /**
   * Setting never waits for the token (an unreachable HSM must not stop the kill switch: the store's block holds). A
   * lift whose record stays on the token would lift nothing, so it is refused with the reason.
   */
  async #anchor(block: { since: string; by: string } | undefined): Promise<boolean> {
    try {
      return await this.#ctx.deps.vault.anchorEmergencyBlock(block);
    } catch (error) {
      if (block !== undefined) return false;
      const why = error instanceof Error ? error.message : 'unknown error';
      throw await this.#ctx.audit.refusal('emergency-unblock', undefined, `The token's record of the emergency block could not be removed (${why}); the block stays on every instance. Retry when the HSM answers.`);
    }
  }
}
