import { randomUUID } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList } from '../keys/key-version.js';
import { DEFAULT_INITIAL_STATE } from '../keys/lifecycle.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { KeyStateStore, KeyVault } from '../keys/ports.js';
import type { AdminAudit } from './admin-audit.js';
import type { CreatedVersion } from './key-admin-views.js';
import { addVersionRefusal } from './key-admin-views.js';
import type { PrivateKeyMaterial } from './private-key-material.js';
import { decryptsRoundTrip } from './software-rsa.js';

export interface KeyImportDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly now?: () => Date;
}

export interface ImportOptions {
  readonly keyId?: string;
  readonly allow?: AllowList;
  /** Publish the imported version; default: only when the key name is new. */
  readonly publish?: boolean;
  /** Where the key came from, for the audit trail (a file name, "appsettings.json TestKeys[2]"). Never key material. */
  readonly source: string;
}

/**
 * Bring your own key (contract §3 `dke keys import`): the key is unwrapped into the HSM as a sensitive,
 * non-extractable, decrypt-only object, then proven with a round trip (encrypt here with the public key derived from
 * the file, decrypt in the token) before it is recorded with origin "imported". Any failure removes what was created.
 * The caller's key material is wiped once it is in the token, whatever happens.
 */
export async function importKey(deps: KeyImportDeps, audit: AdminAudit, name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion> {
  try {
    const nameProblem = keyNameProblem(name);
    if (nameProblem !== undefined) throw new AdminRefused(nameProblem);
    const keyId = options.keyId ?? randomUUID();
    const idProblem = keyIdProblem(keyId);
    if (idProblem !== undefined) throw new AdminRefused(idProblem);
    const existing = deps.store.findKey(name);
    if (existing?.versions.some((v) => v.keyId === keyId)) {
      throw new AdminRefused(`The key "${name}" already has a version ${keyId}.`);
    }
    const ref = { name, keyId };
    await deps.vault.importPrivateKey(ref, material.pkcs8Der, material.publicKey);
    material.wipe();
    if (!(await decryptsRoundTrip(deps.vault, ref, material.publicKey).catch(() => false))) {
      await deps.vault.destroy(ref);
      throw new AdminRefused(`The key imported from ${options.source} does not decrypt what its public key encrypts; nothing was kept.`);
    }
    // Checked again inside the write transaction, with the audit entry: a racing import of the same id loses here.
    const result = deps.store.addVersion(
      {
        name,
        keyId,
        state: DEFAULT_INITIAL_STATE,
        origin: 'imported',
        publish: options.publish ?? 'if-new-name',
        publicKey: material.publicKey,
        ...(options.allow ? { allow: options.allow } : {}),
        then: () => audit.succeeded('import', name, keyId, { origin: 'imported', source: options.source }),
      },
      (deps.now?.() ?? new Date()).toISOString(),
    );
    if (result !== 'added') {
      await deps.vault.destroy(ref);
      throw new AdminRefused(addVersionRefusal(name, keyId, result));
    }
    return { name, keyId, state: DEFAULT_INITIAL_STATE, enabled: true };
  } catch (error) {
    audit.refused('import', name, options.keyId, error instanceof Error ? error.message : 'unknown error', { source: options.source });
    throw error;
  } finally {
    material.wipe();
  }
}
