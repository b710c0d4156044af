import type { Config } from '../config/config.js';
import { vaultNames, vaultsOf, type VaultSettings } from '../config/vaults-file.js';
import type { HsmEvents } from '../hsm/hsm-connection.js';
import { openHsm, type OpenHsm, type OpenHsmOptions } from '../hsm/open-hsm.js';
import { VaultRouter } from '../hsm/vault-router.js';
import type { VaultNames } from '../keys/vaults.js';
import { configuredToken } from './open-hsm.js';

/** One vault of the instance, opened: its settings and its token (its connection says whether it answers). */
export interface OpenVault extends VaultSettings {
  readonly hsm: OpenHsm;
}

/**
 * Every vault of the instance (contract §9), and the KeyVault that routes each version to its vault's token; its
 * decrypt threads start, and its tokens close, vault by vault.
 */
export interface OpenVaults extends Pick<OpenHsm, 'startDecryptThreads' | 'close'> {
  readonly default: string;
  readonly list: readonly OpenVault[];
  readonly names: VaultNames;
  readonly router: VaultRouter;
  /** The default vault's token. */
  readonly defaultHsm: OpenHsm;
}

export interface OpenVaultsOptions {
  /** Per vault: the events of its connection (the service logs and counts them with the vault's name). */
  readonly events?: (vault: string) => HsmEvents;
  readonly tolerateMisconfiguration?: boolean;
  /** Test seams, by vault name. */
  readonly seams?: (vault: string) => Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'> | undefined;
}

/**
 * Opens the token of every vault, one PKCS#11 module each (contract §9). With several vaults, one whose module or
 * token cannot be opened fails alone (its connection says why, and its versions answer 503); alone, as the DKE_PKCS11_*
 * token of today's deployments, it stops the start as it always did.
 */
export function openVaults(config: Config, options: OpenVaultsOptions = {}): OpenVaults {
  const configured = vaultsOf(config);
  const { default: defaultName, vaults } = configured;
  const list: OpenVault[] = [];
  try {
    for (const vault of vaults) {
      const pkcs11 = config.vaults === undefined ? configuredToken(config) : vault.pkcs11;
      const hsm = openHsm(pkcs11, {
        ...options.seams?.(vault.name),
        ...(options.events !== undefined ? { events: options.events(vault.name) } : {}),
        ...(options.tolerateMisconfiguration !== undefined ? { tolerateMisconfiguration: options.tolerateMisconfiguration } : {}),
        tolerateUnopenedToken: vaults.length > 1,
      });
      list.push({ ...vault, hsm });
    }
  } catch (error) {
    void Promise.all(list.map((v) => v.hsm.close()));
    throw error;
  }
  const router = new VaultRouter(new Map(list.map((v) => [v.name, { vault: v.hsm.vault, isUp: () => v.hsm.connection.status().state === 'up' }])), defaultName);
  return {
    default: defaultName,
    list,
    names: vaultNames(configured),
    router,
    defaultHsm: list.find((v) => v.name === defaultName)!.hsm,
    startDecryptThreads: async () => {
      for (const vault of list) await vault.hsm.startDecryptThreads();
    },
    close: async () => {
      await Promise.all(list.map((v) => v.hsm.close()));
    },
  };
}
