import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Pkcs11Config } from '../hsm/pkcs11-settings.js';
import { Secret } from '../keys/secret.js';
import { DEFAULT_VAULT, isVaultName, type VaultNames } from '../keys/vaults.js';
import { VAULT_STATUSES, type VaultStatus } from '../keys/vocabulary.js';
import { ConfigError, readPinFile } from './config-error.js';

/** One vault of contract §9: a name, whether it takes new keys, and how to reach its token. */
export interface VaultSettings {
  readonly name: string;
  readonly status: VaultStatus;
  readonly pkcs11: Pkcs11Config;
}

/** The vaults of an instance and the one new keys go to by default. */
export interface VaultsConfig {
  readonly default: string;
  readonly vaults: readonly VaultSettings[];
}

const VAULT_FIELDS = ['name', 'library', 'libraryParameters', 'tokenLabel', 'slot', 'pin', 'pinFile', 'sessions', 'status'] as const;

/**
 * The vaults of an instance: those of DKE_VAULTS' file, or else the one vault `default`, the token of the
 * DKE_PKCS11_* settings (today's single-token deployments keep working unchanged).
 */
export function vaultsOf(config: { readonly pkcs11: Pkcs11Config; readonly vaults?: VaultsConfig }): VaultsConfig {
  return config.vaults ?? { default: DEFAULT_VAULT, vaults: [{ name: DEFAULT_VAULT, status: 'active', pkcs11: config.pkcs11 }] };
}

/** The vaults by name and status, as the key administration checks a `--vault` against them. */
export function vaultNames(vaults: VaultsConfig): VaultNames {
  return { default: vaults.default, statuses: new Map(vaults.vaults.map((v) => [v.name, v.status])) };
}

/**
 * Reads and checks the vaults file of DKE_VAULTS (contract §9). Each refusal is one sentence naming the file and the
 * vault; a PIN is never part of one. The pool settings every vault shares (queue timeout, decrypt threads, default
 * session count) come from the DKE_PKCS11_* settings (`shared`); a relative `pinFile` is read beside the file.
 */
export function readVaultsFile(path: string, shared: Pkcs11Config): VaultsConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(existsSync(path) ? `The vaults file ${path} (DKE_VAULTS) is not valid JSON.` : `The vaults file ${path} (DKE_VAULTS) cannot be read.`);
  }
  const file = objectOrNull(parsed);
  const list = file?.vaults;
  if (file === undefined || !Array.isArray(list) || list.length === 0) {
    throw new ConfigError(`The vaults file ${path} must hold {"default": NAME, "vaults": [...]} with at least one vault.`);
  }
  const vaults = list.map((entry, index) => vaultSettings(path, entry, index, shared));
  const names = new Set<string>();
  const libraries = new Map<string, string>();
  for (const { name, pkcs11 } of vaults) {
    if (names.has(name)) throw new ConfigError(`${path}: the vault name "${name}" is used twice; every vault needs a name of its own.`);
    names.add(name);
    // A module is initialised once per process: the recovery of one vault (C_Finalize, C_Initialize) would end the
    // sessions of another vault on the same module under it.
    const sharing = libraries.get(pkcs11.library);
    if (sharing !== undefined) throw new ConfigError(`${path}: the vaults "${sharing}" and "${name}" name the same library ${pkcs11.library}; each vault needs a PKCS#11 module of its own in this version.`);
    libraries.set(pkcs11.library, name);
  }
  const chosen = file.default ?? (vaults.length === 1 ? vaults[0]!.name : undefined);
  if (typeof chosen !== 'string') throw new ConfigError(`${path}: say with "default" which of the vaults (${[...names].join(', ')}) takes new keys.`);
  const defaultVault = vaults.find((v) => v.name === chosen);
  if (defaultVault === undefined) throw new ConfigError(`${path}: the default vault "${chosen}" is not one of the vaults (${[...names].join(', ')}).`);
  if (defaultVault.status !== 'active') throw new ConfigError(`${path}: the default vault "${chosen}" is inactive, so new keys could go nowhere; make another vault the default.`);
  return { default: chosen, vaults };
}

function vaultSettings(path: string, entry: unknown, index: number, shared: Pkcs11Config): VaultSettings {
  const fields = objectOrNull(entry);
  const name = fields?.name;
  if (fields === undefined || typeof name !== 'string' || !isVaultName(name)) {
    throw new ConfigError(`${path}: vault ${index + 1} needs a "name" of letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit).`);
  }
  const where = `${path}: the vault "${name}"`;
  const unknown = Object.keys(fields).find((key) => !(VAULT_FIELDS as readonly string[]).includes(key));
  if (unknown !== undefined) throw new ConfigError(`${where} has a field "${unknown}" this service does not know (it knows ${VAULT_FIELDS.join(', ')}).`);
  const text = (field: string): string | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(`${where}: "${field}" must be a non-empty string.`);
    return value;
  };
  const whole = (field: string, min: number, max: number): number | undefined => {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${where}: "${field}" must be a whole number from ${min} to ${max}.`);
    return value;
  };
  const library = text('library');
  if (library === undefined) throw new ConfigError(`${where} names no "library" (the path of its PKCS#11 module).`);
  const tokenLabel = text('tokenLabel');
  const slot = whole('slot', 0, 1_000_000);
  if ((tokenLabel === undefined) === (slot === undefined)) throw new ConfigError(`${where} needs exactly one of "tokenLabel" and "slot" to say which token holds its keys.`);
  const pin = text('pin');
  const pinFileField = text('pinFile');
  if (pin !== undefined && pinFileField !== undefined) throw new ConfigError(`${where} has both "pin" and "pinFile"; keep one (a PIN file keeps the PIN out of this file).`);
  const pinFile = pinFileField === undefined ? undefined : resolve(dirname(path), pinFileField);
  const pinValue = pin ?? (pinFile !== undefined && existsSync(pinFile) ? readPinFile(pinFile) : undefined);
  const status = fields.status ?? 'active';
  if (!(VAULT_STATUSES as readonly unknown[]).includes(status)) throw new ConfigError(`${where}: "status" must be ${VAULT_STATUSES.join(' or ')}.`);
  const libraryParameters = text('libraryParameters');
  const sessions = whole('sessions', 1, 1024);
  return {
    name,
    status: status as VaultStatus,
    pkcs11: {
      library,
      ...(libraryParameters !== undefined ? { libraryParameters } : {}),
      ...(tokenLabel !== undefined ? { tokenLabel } : {}),
      ...(slot !== undefined ? { slotIndex: slot } : {}),
      ...(pinValue !== undefined ? { pin: new Secret(pinValue) } : {}),
      ...(pinFile !== undefined ? { pinFile } : {}),
      ...(sessions !== undefined ? { sessions } : {}),
      defaultSessions: shared.defaultSessions,
      queueTimeoutMs: shared.queueTimeoutMs,
      decryptThreads: shared.decryptThreads,
      simulatedDelayMs: shared.simulatedDelayMs,
    },
  };
}

function objectOrNull(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
