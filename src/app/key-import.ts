import { randomUUID } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList } from '../keys/key-version.js';
import { DEFAULT_INITIAL_STATE } from '../keys/lifecycle.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { Intent, KeyStateStore, KeyVault } from '../keys/ports.js';
import { DEFAULT_VAULT, type VaultNames } from '../keys/vaults.js';
import type { AdminAudit } from './admin-audit.js';
import { addVersionRefusal, isIntent, unfinishedStepOn, type TransactionRefusal } from './admin-intents.js';
import { DEFAULT_INTENT_LEASE_MS, holdingLease, leaseEnd } from './intent-lease.js';
import { grantAllowList } from './key-grants.js';
import type { CreatedVersion } from './key-admin-views.js';
import type { PrivateKeyMaterial } from './private-key-material.js';
import { decryptsRoundTrip } from './software-rsa.js';

export interface KeyImportDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  /** The vaults of the instance: an import without a vault named goes to the default one. */
  readonly vaults?: VaultNames;
  readonly owner?: string;
  readonly intentLeaseMs?: number;
  readonly now?: () => Date;
}

export interface ImportOptions {
  readonly keyId?: string;
  readonly allow?: AllowList;
  /** Publish the imported version; default: only when the key name is new. */
  readonly publish?: boolean;
  /** Where the key came from, for the audit trail (a file name, "appsettings.json TestKeys[2]"). Never key material. */
  readonly source: string;
  /** The vault whose token takes the key (contract §9), already checked by the caller; absent: the default vault. */
  readonly vault?: string;
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
    const clock = (): Date => deps.now?.() ?? new Date();
    const now = (): string => clock().toISOString();
    const leaseMs = deps.intentLeaseMs ?? DEFAULT_INTENT_LEASE_MS;
    // The intent is written before the token is touched (issue 17), so a crash mid-import is rolled back by the reconcile.
    const intent = await deps.store.change(async (tx): Promise<Intent | TransactionRefusal> => {
      const refusal =
        (await unfinishedStepOn(tx, name)) ?? ((await tx.findKey(name))?.versions.some((v) => v.keyId === keyId) ? addVersionRefusal(name, keyId, 'version-exists') : undefined);
      return refusal ?? tx.beginIntent({ action: 'import', name, keyId, actor: audit.actor, owner: deps.owner ?? 'unknown', createdAt: now(), leaseUntil: leaseEnd(clock(), leaseMs), details: { vault: vaultOf(deps, options) } });
    });
    if (!isIntent(intent)) throw new AdminRefused(intent);
    try {
      return await holdingLease(deps.store, intent, leaseMs, clock, () => importUnderIntent(deps, audit, intent, material, options, now));
    } catch (error) {
      // The intent ends here, with the refusal entry written below (the key pair, if made, is gone already).
      await deps.store.change((tx) => tx.finishIntent(intent.id));
      throw error;
    }
  } catch (error) {
    await audit.refused('import', name, options.keyId, error instanceof Error ? error.message : 'unknown error', { source: options.source });
    throw error;
  } finally {
    material.wipe();
  }
}

/**
 * The token step and the record of an import whose intent is written: the key is unwrapped into the token, proven
 * with a round trip, then recorded with its audit entry and the end of the intent in one transaction. Whatever this
 * import put into the token is removed again when a later step fails.
 */
async function importUnderIntent(
  deps: KeyImportDeps,
  audit: AdminAudit,
  intent: Intent,
  material: PrivateKeyMaterial,
  options: ImportOptions,
  now: () => string,
): Promise<CreatedVersion> {
  const { name, keyId } = intent;
  const vault = vaultOf(deps, options);
  const ref = { name, keyId, vault };
  await deps.vault.importPrivateKey(ref, material.pkcs8Der, material.publicKey);
  material.wipe();
  try {
    if (!(await decryptsRoundTrip(deps.vault, ref, material.publicKey).catch(() => false))) {
      throw new AdminRefused(`The key imported from ${options.source} does not decrypt what its public key encrypts; nothing was kept.`);
    }
    // Checked again inside the write transaction, with the audit entry: a racing import of the same id loses here.
    const result = await deps.store.change(async (tx) => {
      const added = await tx.addVersion(
        {
          name,
          keyId,
          state: DEFAULT_INITIAL_STATE,
          origin: 'imported',
          publish: options.publish ?? 'if-new-name',
          publicKey: material.publicKey,
          vault,
        },
        now(),
      );
      if (added === 'added') {
        await audit.within(tx).succeeded('import', name, keyId, { origin: 'imported', source: options.source });
        await grantAllowList(tx, audit, name, options.allow, 'import');
        await tx.finishIntent(intent.id);
      }
      return added;
    });
    if (result !== 'added') throw new AdminRefused(addVersionRefusal(name, keyId, result));
    return { name, keyId, state: DEFAULT_INITIAL_STATE, enabled: true };
  } catch (error) {
    await deps.vault.destroy(ref).catch(() => false);
    throw error;
  }
}

/** The vault an import goes to: the one named (checked by the caller), else the instance's default vault. */
function vaultOf(deps: KeyImportDeps, options: ImportOptions): string {
  return options.vault ?? deps.vaults?.default ?? DEFAULT_VAULT;
}
