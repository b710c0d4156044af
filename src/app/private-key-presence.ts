import type { KeyVault, KeyVersionRef } from '../keys/ports.js';

/**
 * Whether the token still holds the private key of each published version (issue 17: Office must not protect new
 * documents with a key that can never open them), known without asking the token on every GET (issue 19). A version
 * is asked about once, when its answer is first built; `recheck` (run every few seconds in the background by the
 * composition root) asks again for every published version, and a decrypt that finds the key gone says so at once
 * (`markMissing`). So a removed private key stops being published within one recheck interval, or at its next decrypt.
 */
export class PrivateKeyPresence {
  readonly #vault: KeyVault;
  /** By `name\0keyId`: true present, false missing. Only published versions are kept (see recheck). */
  readonly #known = new Map<string, boolean>();
  /**
   * Versions whose private key the token refuses to decrypt with (CKA_DECRYPT cleared by a Compromise or Deactivate
   * whose record is not written yet, issue 25): present, yet never published again while they stay published in
   * the store; a recheck does not revive them (asking for presence cannot tell).
   */
  readonly #refused = new Set<string>();

  constructor(vault: KeyVault) {
    this.#vault = vault;
  }

  /** The last verdict, or undefined when this version was never asked about. */
  known(ref: KeyVersionRef): boolean | undefined {
    return this.#refused.has(refKey(ref)) ? false : this.#known.get(refKey(ref));
  }

  /** The last verdict, asking the token only when there is none yet. */
  async present(ref: KeyVersionRef): Promise<boolean> {
    const known = this.known(ref);
    if (known !== undefined) return known;
    const present = await this.#vault.hasPrivateKey(ref);
    this.#known.set(refKey(ref), present);
    return present;
  }

  /** A decrypt found no private key for this version: stop publishing it now, not at the next recheck. */
  markMissing(ref: KeyVersionRef): void {
    this.#known.set(refKey(ref), false);
  }

  /** The token refused a decrypt with this version's key (issue 25): it is not published from now on. */
  markRefused(ref: KeyVersionRef): void {
    this.#refused.add(refKey(ref));
  }

  /**
   * Asks the token again about each of `published` (the versions GET serves now) and forgets every other version. A
   * version the token cannot be asked about now (HSM away) keeps its last verdict and is asked again next time.
   */
  async recheck(published: readonly KeyVersionRef[]): Promise<void> {
    const keep = new Set(published.map(refKey));
    for (const key of this.#known.keys()) if (!keep.has(key)) this.#known.delete(key);
    for (const key of this.#refused) if (!keep.has(key)) this.#refused.delete(key);
    for (const ref of published) {
      try {
        this.#known.set(refKey(ref), await this.#vault.hasPrivateKey(ref));
      } catch {
        // Keeps the last verdict; asked again at the next recheck.
      }
    }
  }
}

function refKey(ref: KeyVersionRef): string {
  return `${ref.name}\u0000${ref.keyId}`;
}
