import { hasObjectsInToken } from '../keys/lifecycle.js';
import type { KeyStateStore, KeyVault } from '../keys/ports.js';

/**
 * Stores made before the public key was kept in the key record (issue 12) get it from the token, once per version,
 * so that from then on decrypt validates a body and GET answers without asking the HSM. Returns a sentence per
 * version whose token did not answer; those are tried again at the next start, and meanwhile read from the token.
 */
export async function backfillPublicKeys(store: KeyStateStore, vault: KeyVault): Promise<string[]> {
  const problems: string[] = [];
  for (const record of store.listKeys()) {
    for (const version of record.versions) {
      if (version.publicKey !== undefined || !hasObjectsInToken(version.state)) continue;
      try {
        const publicKey = await vault.publicKey(version);
        await store.change((tx) => tx.setPublicKey(version.name, version.keyId, publicKey));
      } catch (error) {
        problems.push(`${version.name}/${version.keyId}: ${error instanceof Error ? error.message : 'unknown error'}`);
      }
    }
  }
  return problems;
}
