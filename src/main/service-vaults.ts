import { hsmProblem } from '../hsm/login-state.js';
import { assertKnownVault, type ProbeReport, type VaultDirectory, type VaultView } from '../keys/vaults.js';
import { probeServiceToken } from './hsm-probe.js';
import type { OpenVault, OpenVaults } from './open-vaults.js';

/**
 * The vaults of this instance for the admin API (contract §9): each with its module, token, status, sessions and
 * connection. A vault's probe runs on the service's own token of that vault, beside its pool.
 */
export function serviceVaults(vaults: OpenVaults): VaultDirectory {
  // Callers who ask while a probe of a vault runs share its report: a key generation per request would let a reader load the HSM.
  const running = new Map<string, Promise<ProbeReport>>();
  return {
    list: () => ({ default: vaults.default, vaults: vaults.list.map(vaultView) }),
    probe: (name) => {
      assertKnownVault(vaults.names, name);
      const vault = vaults.list.find((v) => v.name === name)!;
      let report = running.get(name);
      if (report === undefined) {
        report = probeServiceToken(vault.hsm.connection).finally(() => running.delete(name));
        running.set(name, report);
      }
      return report;
    },
  };
}

function vaultView({ name, status, pkcs11, hsm }: OpenVault): VaultView {
  const connection = hsm.connection.status();
  return {
    name,
    library: pkcs11.library,
    ...(pkcs11.tokenLabel !== undefined ? { tokenLabel: pkcs11.tokenLabel } : {}),
    ...(pkcs11.slotIndex !== undefined ? { slot: pkcs11.slotIndex } : {}),
    status,
    sessions: hsm.pool.size,
    sessionsInUse: hsm.pool.inUse,
    connection: { state: connection.state, since: connection.since, detail: connection.detail ?? null, recoveries: connection.recoveries },
  };
}

/**
 * Readiness of the tokens (contract §9): one vault answers as the one token always did; of several, those that do
 * not answer are a warning naming them (their versions answer 503, the others serve), and a failure only when none does.
 */
export async function vaultsProblem(vaults: OpenVaults): Promise<string | { readonly warning: string } | undefined> {
  if (vaults.list.length === 1) return hsmProblem(vaults.list[0]!.hsm.connection);
  const problems = await Promise.all(vaults.list.map(async (v) => ({ name: v.name, problem: await hsmProblem(v.hsm.connection).catch((error: unknown) => (error instanceof Error ? error.message : String(error))) })));
  const down = problems.filter((p) => p.problem !== undefined);
  if (down.length === 0) return undefined;
  const sentence = down.map((p) => `the vault "${p.name}" does not answer: ${p.problem}`).join('; ');
  if (down.length === vaults.list.length) return `no vault answers: ${sentence}`;
  return { warning: `${sentence}; versions in ${down.map((p) => `"${p.name}"`).join(', ')} answer 503 while the other vaults serve` };
}
