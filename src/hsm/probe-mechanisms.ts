import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import { pkcs11, type Handle, type Pkcs11Module } from './pkcs11.js';
import { failed, notTried, passed, warned, type ProbeCheckName } from './probe-checks.js';
import { MODULUS_BITS } from './rsa-key-templates.js';

type MechanismInfo = ReturnType<Pkcs11Module['C_GetMechanismInfo']>;

/** What the service needs of a mechanism, and what to ask the vendor for when the token lacks it. */
interface Need {
  readonly check: ProbeCheckName;
  readonly mechanism: number;
  readonly name: string;
  readonly flag: number;
  readonly flagName: string;
  /** What the service does with it, for the sentence of a failure. */
  readonly use: string;
  /** What to ask the vendor for. */
  readonly ask: string;
}

const KEY_PAIR_GEN: Need = {
  check: 'rsa-key-pair-gen',
  mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN,
  name: 'CKM_RSA_PKCS_KEY_PAIR_GEN',
  flag: pkcs11.CKF_GENERATE_KEY_PAIR,
  flagName: 'CKF_GENERATE_KEY_PAIR',
  use: 'so the service cannot generate its RSA-2048 keys in the token',
  ask: 'RSA-2048 key pair generation (CKM_RSA_PKCS_KEY_PAIR_GEN) on this partition',
};

const OAEP: Need = {
  check: 'rsa-oaep',
  mechanism: pkcs11.CKM_RSA_PKCS_OAEP,
  name: 'CKM_RSA_PKCS_OAEP',
  flag: pkcs11.CKF_DECRYPT,
  flagName: 'CKF_DECRYPT',
  use: 'so the token cannot decrypt what Office encrypts (RSA-OAEP with SHA-256 and MGF1-SHA-256)',
  ask: 'CKM_RSA_PKCS_OAEP decryption with SHA-256 and MGF1-SHA-256 for RSA-2048 keys',
};

/** The two mechanisms the service needs, as the token lists them (C_GetMechanismList, C_GetMechanismInfo). */
export function mechanismChecks(module: Pkcs11Module, slot: Handle): ProbeCheck[] {
  let listed: number[];
  try {
    listed = module.C_GetMechanismList(slot);
  } catch (error) {
    return [KEY_PAIR_GEN, OAEP].map((need) => notTried(need.check, `C_GetMechanismList failed with ${ckrName(error)}`));
  }
  return [KEY_PAIR_GEN, OAEP].map((need) => mechanismCheck(module, slot, listed, need));
}

function mechanismCheck(module: Pkcs11Module, slot: Handle, listed: readonly number[], need: Need): ProbeCheck {
  if (!listed.includes(need.mechanism)) return failed(need.check, `The token does not list ${need.name}, ${need.use}; ask the vendor for ${need.ask}.`);
  let info: MechanismInfo;
  try {
    info = module.C_GetMechanismInfo(slot, need.mechanism);
  } catch (error) {
    return failed(need.check, `C_GetMechanismInfo of ${need.name} failed with ${ckrName(error)}; ask the vendor for ${need.ask}.`);
  }
  if ((info.flags & need.flag) === 0) {
    return failed(need.check, `The token lists ${need.name} without ${need.flagName}, ${need.use}; ask the vendor whether a policy of the partition forbids it, and for ${need.ask}.`);
  }
  const range = `${info.minKeySize} to ${info.maxKeySize}`;
  if (info.minKeySize <= MODULUS_BITS && MODULUS_BITS <= info.maxKeySize) return passed(need.check, `${need.name} is listed with ${need.flagName} for keys of ${range} bits, ${MODULUS_BITS} included.`);
  // PKCS#11 gives RSA key sizes in bits; a few modules give bytes (256 for RSA-2048). The key made below settles it.
  if (info.minKeySize <= MODULUS_BITS / 8 && MODULUS_BITS / 8 <= info.maxKeySize) {
    return warned(need.check, `${need.name} is listed with ${need.flagName} for key sizes ${range}, which reads as bytes rather than bits; the temporary RSA-${MODULUS_BITS} key below shows whether it works, and the vendor can say which unit the module uses.`);
  }
  return failed(need.check, `${need.name} is listed for keys of ${range} bits, without ${MODULUS_BITS} (what Office expects); ask the vendor for ${need.ask}.`);
}
