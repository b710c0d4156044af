import type { KeyState, KeyVersion } from '../keys/key-version.js';
import { isPermanentTransition, isTransitionAllowed, refusedTransitionSentence, stateLabel } from '../keys/lifecycle.js';
import type { KeyUsage } from '../keys/ports.js';
import { KeyAdmin, type VersionSummary } from './key-admin.js';

/** How far back the impact preview looks for decrypts with a version. */
const IMPACT_WINDOW_DAYS = 30;

export interface ImpactPreview {
  readonly name: string;
  readonly keyId: string;
  readonly from: KeyState;
  readonly to: KeyState;
  /** What the step does, in one sentence, and that it cannot be undone. */
  readonly effect: string;
  readonly windowDays: number;
  readonly usage: KeyUsage;
}

export type StateChangeOutcome =
  | { readonly applied: true; readonly version: VersionSummary; readonly decryptClearedInToken?: boolean; readonly objectsDestroyed?: boolean }
  | { readonly applied: false; readonly preview: ImpactPreview };

/**
 * The permanent steps of contract §4: set-state and delete. Each is checked against the state table, previewed with
 * its impact from the audit trail unless confirmed (`--yes`), written compare-and-set, made physical in the token
 * where it allows (CKA_DECRYPT cleared, objects destroyed), and audited.
 */
export class KeyLifecycle extends KeyAdmin {
  async setState(name: string, keyId: string, to: KeyState, confirmed: boolean): Promise<StateChangeOutcome> {
    const version = this.requireVersion('set-state', name, keyId);
    if (to === 'destroyed') {
      this.refuse('set-state', name, `Use "dke keys delete ${name} ${keyId} --yes" to destroy a key version.`, keyId);
    }
    if (!isTransitionAllowed(version.state, to)) {
      this.refuse('set-state', name, refusedTransitionSentence(version.state, to), keyId);
    }
    if (isPermanentTransition(to) && !confirmed) return { applied: false, preview: this.impactPreview(version, to) };
    this.#writeState(version, to, 'set-state');
    let decryptClearedInToken: boolean | undefined;
    if (to === 'deactivated' || to === 'compromised') {
      decryptClearedInToken = await this.deps.vault.forbidDecrypt(version);
    }
    this.recordSuccess('set-state', name, keyId, { from: version.state, to, ...(decryptClearedInToken !== undefined ? { decryptClearedInToken } : {}) });
    return {
      applied: true,
      version: { name, keyId, state: to, enabled: version.enabled },
      ...(decryptClearedInToken !== undefined ? { decryptClearedInToken } : {}),
    };
  }

  /**
   * Destroys the version's private and public objects in the token and keeps the record as Destroyed, so its key
   * id answers 404 from then on and the audit trail still explains it. Only Pre-Active and Active versions.
   * Run again on a Destroyed version, it removes objects a failed earlier run may have left.
   */
  async delete(name: string, keyId: string, confirmed: boolean): Promise<StateChangeOutcome> {
    const version = this.requireVersion('delete', name, keyId);
    const retry = version.state === 'destroyed';
    if (!retry && !isTransitionAllowed(version.state, 'destroyed')) {
      this.refuse(
        'delete',
        name,
        `Only Pre-Active and Active versions can be deleted; version ${keyId} is ${stateLabel(version.state)}.`,
        keyId,
      );
    }
    if (!confirmed) return { applied: false, preview: this.impactPreview(version, 'destroyed') };
    // The record goes first: from this moment nothing decrypts with the version, even if the token call fails.
    if (!retry) this.#writeState(version, 'destroyed', 'delete');
    const objectsDestroyed = await this.deps.vault.destroy(version);
    this.recordSuccess('delete', name, keyId, { from: version.state, to: 'destroyed', objectsDestroyed });
    return { applied: true, version: { name, keyId, state: 'destroyed', enabled: version.enabled }, objectsDestroyed };
  }

  impactPreview(version: KeyVersion, to: KeyState): ImpactPreview {
    const since = new Date(this.now().getTime() - IMPACT_WINDOW_DAYS * 86_400_000);
    const effect =
      to === 'destroyed'
        ? 'destroys the private key in the HSM: every document protected with this version can never be opened again'
        : to === 'deactivated'
          ? 'stops this version from ever decrypting again: documents protected with it can no longer be opened'
          : 'marks this version Compromised: it never decrypts again and cannot leave that state';
    return {
      name: version.name,
      keyId: version.keyId,
      from: version.state,
      to,
      effect: `${stateLabel(version.state)} → ${stateLabel(to)} ${effect}. This cannot be undone.`,
      windowDays: IMPACT_WINDOW_DAYS,
      usage: this.deps.audit.decryptUsage(version.name, version.keyId, since),
    };
  }

  #writeState(version: KeyVersion, to: KeyState, action: string): void {
    const written = this.deps.store.setState(version.name, version.keyId, version.state, to, this.now().toISOString());
    if (!written) {
      this.refuse(action, version.name, `Version ${version.keyId} of "${version.name}" changed meanwhile; look again and retry.`, version.keyId);
    }
  }
}
