import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import type { Handle, Pkcs11Module } from './pkcs11.js';
import { failed, passed, warned } from './probe-checks.js';

interface Version {
  readonly major: number;
  readonly minor: number;
}

const version = (v: Version): string => `${v.major}.${v.minor}`;
/** PKCS#11 pads its text fields with blanks. */
const text = (value: string): string => value.trim() || '(blank)';

/** C_GetInfo: which module this is, by whom, and which Cryptoki version it speaks. */
export function moduleCheck(module: Pkcs11Module): ProbeCheck {
  let info: ReturnType<Pkcs11Module['C_GetInfo']>;
  try {
    info = module.C_GetInfo();
  } catch (error) {
    return failed('module', `C_GetInfo failed with ${ckrName(error)}; ask the vendor why the module will not describe itself.`);
  }
  const identity = `${text(info.libraryDescription)} by ${text(info.manufacturerID)}, library version ${version(info.libraryVersion)}, Cryptoki ${version(info.cryptokiVersion)}`;
  // CK_RSA_PKCS_OAEP_PARAMS with SHA-256 and MGF1-SHA-256 came with Cryptoki 2.20.
  const old = info.cryptokiVersion.major < 2 || (info.cryptokiVersion.major === 2 && info.cryptokiVersion.minor < 20);
  return old
    ? warned('module', `${identity}, older than Cryptoki 2.20, which defines RSA-OAEP with SHA-256; ask the vendor for a module of Cryptoki 2.20 or later.`)
    : passed('module', `${identity}.`);
}

/** C_GetTokenInfo: which token, made by whom, on which firmware. */
export function tokenCheck(module: Pkcs11Module, slot: Handle): ProbeCheck {
  try {
    const info = module.C_GetTokenInfo(slot);
    return passed(
      'token',
      `Token "${info.label.trim()}": ${text(info.model)} by ${text(info.manufacturerID)}, serial ${text(info.serialNumber)}, firmware ${version(info.firmwareVersion)}, hardware ${version(info.hardwareVersion)}.`,
    );
  } catch (error) {
    return failed('token', `C_GetTokenInfo failed with ${ckrName(error)}; ask the vendor why the token will not describe itself.`);
  }
}
