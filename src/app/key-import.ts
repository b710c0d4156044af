import { constants, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList } from '../keys/key-version.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { AuditTrail, KeyStateStore, KeyVault } from '../keys/ports.js';
import type { CreatedVersion } from './key-admin.js';
import type { PrivateKeyMaterial } from './private-key-material.js';
import { toNodePublicKey } from './readiness.js';

export interface KeyImportDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail;
  readonly actor: string;
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
export async function importKey(deps: KeyImportDeps, name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion> {
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
    if (!(await decryptsRoundTrip(deps.vault, ref, material))) {
      await deps.vault.destroy(ref);
      throw new AdminRefused(`The key imported from ${options.source} does not decrypt what its public key encrypts; nothing was kept.`);
    }
    deps.store.addVersion(
      { name, keyId, state: 'active', origin: 'imported', publish: options.publish ?? existing === undefined, ...(options.allow ? { allow: options.allow } : {}) },
      (deps.now?.() ?? new Date()).toISOString(),
    );
    deps.audit.append({ actor: deps.actor, action: 'import', keyName: name, keyId, outcome: 'succeeded', details: { origin: 'imported', source: options.source } });
    return { name, keyId, state: 'active', enabled: true };
  } catch (error) {
    deps.audit.append({
      actor: deps.actor,
      action: 'import',
      keyName: name,
      ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
      outcome: 'refused',
      reason: error instanceof Error ? error.message : 'unknown error',
      details: { source: options.source },
    });
    throw error;
  } finally {
    material.wipe();
  }
}

async function decryptsRoundTrip(vault: KeyVault, ref: { name: string; keyId: string }, material: PrivateKeyMaterial): Promise<boolean> {
  const probe = randomBytes(32);
  const ciphertext = publicEncrypt(
    { key: toNodePublicKey(material.publicKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    probe,
  );
  try {
    return (await vault.decrypt(ref, ciphertext)).equals(probe);
  } catch {
    return false;
  }
}
