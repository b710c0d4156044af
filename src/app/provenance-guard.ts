import { KeyNotUsable } from '../keys/errors.js';
import type { KeyVersion } from '../keys/key-version.js';
import type { KeyVault } from '../keys/ports.js';
import { provenanceVerdict, type ProvenanceVerdict } from './key-attestation.js';

/**
 * Refuses to serve a key version whose PKCS#11 evidence says it could have left the HSM (issue 4), unless the
 * operator opted in with DKE_ALLOW_EXPORTABLE_KEYS. The evidence is read from the token once per version: the
 * attributes it rests on (CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE) can only ever become less favourable by the
 * token's own rules, and a version that was served once was already judged.
 */
export class ProvenanceGuard {
  readonly #vault: KeyVault;
  readonly #allowExportable: boolean;
  readonly #verdicts = new Map<string, ProvenanceVerdict>();

  constructor(vault: KeyVault, allowExportable: boolean) {
    this.#vault = vault;
    this.#allowExportable = allowExportable;
  }

  /** What the guard last judged of a version: false refused, true served, undefined not judged yet (for its status). */
  known(ref: { readonly name: string; readonly keyId: string }): boolean | undefined {
    if (this.#allowExportable) return true;
    const verdict = this.#verdicts.get(`${ref.name}\u0000${ref.keyId}`);
    return verdict === undefined ? undefined : verdict !== 'exportable';
  }

  /** Throws KeyNotUsable for an exportable version (contract §1: 403 on decrypt, 404 on GET by the caller). */
  async assertServable(version: KeyVersion): Promise<void> {
    if (this.#allowExportable) return;
    const key = `${version.name}\u0000${version.keyId}`;
    let verdict = this.#verdicts.get(key);
    if (verdict === undefined) {
      verdict = provenanceVerdict(version.origin, await this.#vault.attest(version));
      this.#verdicts.set(key, verdict);
    }
    if (verdict === 'exportable') {
      throw new KeyNotUsable(`${version.name}/${version.keyId}: the token says this key could have left the HSM`);
    }
  }
}
