import type { KeyState } from '../keys/key-version.js';
import type { AnchoredState, AuditReader, EmergencyBlock, KeyStateStore, KeyVault, KeyVersionRef, Logger } from '../keys/ports.js';
import { anchoredHeadProblem } from './anchored-audit-head.js';
import type { TokenAnchorView } from './dke-protocol.js';
import { storeBehindToken } from './restore-conflicts.js';

export interface TokenAnchorDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: Pick<AuditReader, 'headAndEntry'>;
  /** Re-applies in the store what the token records and the store lost, audited (KeyAdmin.applyTokenRecords). */
  readonly applyRecords: (behind: readonly AnchoredState[]) => Promise<KeyVersionRef[]>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * One instance's view of the token's records (issue 25, contract §5 "the HSM anchors what must never be undone"),
 * refreshed in the background so that the decrypt and GET paths only read memory:
 * - the emergency block as the token records it (`pollBlock`, every few hundred ms: one search by label), so an
 *   instance that reaches the HSM but not the database refuses within 1 s of a block set anywhere;
 * - the permanent states the token records (`reconcile`, at start and periodically): such a version never decrypts or
 *   is published whatever the store says, and a store behind the token is corrected (restore-conflicts.ts);
 * - the audit head, written on the token only forward (`anchorAuditHead`), so a trail rolled back shows.
 * What goes wrong here is a readiness warning, never a failure of the whole instance.
 */
export class TokenAnchor implements TokenAnchorView {
  readonly #deps: TokenAnchorDeps;
  readonly #now: () => Date;
  #block: EmergencyBlock | undefined;
  #anchored = new Map<string, AnchoredState>();
  /** Versions the token records as permanent that the store could not be corrected for yet (refused meanwhile). */
  #uncorrected: readonly AnchoredState[] = [];
  #headProblem: string | undefined;

  constructor(deps: TokenAnchorDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  blocked(): boolean {
    return this.#block !== undefined;
  }

  /** The emergency block as the token last said. */
  block(): EmergencyBlock | undefined {
    return this.#block;
  }

  recorded(ref: KeyVersionRef): KeyState | undefined {
    return this.#anchored.get(refKey(ref))?.state;
  }

  /** Versions the token records as permanent that the store does not show so yet (a disagreement of that version only). */
  uncorrected(): KeyVersionRef[] {
    return this.#uncorrected.map((state) => state.ref);
  }

  /** The token's record of the emergency block, read now (a failed read keeps the last one known). */
  async pollBlock(): Promise<void> {
    this.#block = await this.#deps.vault.anchoredEmergencyBlock();
  }

  /** Reads the permanent states the token records, and corrects a store that is behind them. */
  async reconcile(): Promise<void> {
    const anchored = await this.#deps.vault.anchoredStates();
    this.#anchored = new Map(anchored.map((state) => [refKey(state.ref), state]));
    const behind = storeBehindToken(this.#deps.store, anchored);
    this.#uncorrected = behind;
    if (behind.length === 0) return;
    const corrected = await this.#deps.applyRecords(behind);
    for (const ref of corrected) this.#deps.logger.warn('restore conflict: the store was behind the token; the permanent state was re-applied', { key: ref.name, keyId: ref.keyId });
    this.#uncorrected = storeBehindToken(this.#deps.store, anchored);
  }

  /** Writes the trail's head on the token when it moved on, unless the trail is behind the head anchored there. */
  async anchorAuditHead(): Promise<void> {
    const { vault, audit } = this.#deps;
    const anchored = await vault.anchoredAuditHead();
    const trail = await audit.headAndEntry(anchored?.seq ?? 0);
    this.#headProblem = anchored === undefined ? undefined : anchoredHeadProblem(anchored, trail)?.problem;
    if (this.#headProblem !== undefined || (anchored !== undefined && trail.head.seq <= anchored.seq)) return;
    await vault.anchorAuditHead({ seq: trail.head.seq, hash: trail.head.hash, at: this.#now().toISOString() });
  }

  /** Readiness: a warning naming what is not anchored or not in agreement; never a failure (issue 25). */
  readinessWarning(): { readonly warning: string } | undefined {
    const warnings = [
      this.#deps.vault.anchorProblem(),
      this.#uncorrected.length === 0
        ? undefined
        : `the token records ${this.#uncorrected.map((s) => `${s.ref.name}/${s.ref.keyId} as ${s.state}`).join(', ')} but the store does not yet: refused meanwhile, corrected once the store can be written`,
      this.#headProblem === undefined ? undefined : `the audit trail is behind the head anchored on the token (${this.#headProblem}); run "dke audit verify"`,
    ].filter((w): w is string => w !== undefined);
    return warnings.length === 0 ? undefined : { warning: warnings.join('; ') };
  }
}

function refKey(ref: KeyVersionRef): string {
  return `${ref.name}\u0000${ref.keyId}`;
}
