import type { KeyRecord, KeyVersion } from '../keys/key-version.js';
import type { KeyVault, TokenKeyObject } from '../keys/ports.js';

/**
 * Readiness and the reconcile with several vaults (contract §9): what they compare, without the vaults whose token does not
 * answer. Their versions are neither self-tested nor looked for in a token (the HSM check warns about them, naming
 * them), so a vault that is down fails alone. With one token every version is in it, and nothing is left out.
 */
export async function reachableTokenView(
  vault: KeyVault,
  records: readonly KeyRecord[],
): Promise<{ records: readonly KeyRecord[]; objects: readonly TokenKeyObject[]; unreachable: readonly string[] }> {
  if (vault.listReachableKeyObjects === undefined) return { records, objects: await vault.listKeyObjects(), unreachable: [] };
  const { objects, unreachable } = await vault.listReachableKeyObjects();
  return { records: withoutVaults(records, unreachable), objects, unreachable };
}

/** Is this version in a vault whose token does not answer now (its self-test is skipped)? */
export function inUnreachableVault(vault: KeyVault): (version: KeyVersion) => boolean {
  const down = new Set(vault.unreachableVaults?.() ?? []);
  return (version) => down.has(version.vault);
}

function withoutVaults(records: readonly KeyRecord[], vaults: readonly string[]): readonly KeyRecord[] {
  if (vaults.length === 0) return records;
  const left = new Set(vaults);
  return records.map((r) => ({ ...r, versions: r.versions.filter((v) => !left.has(v.vault)) }));
}
