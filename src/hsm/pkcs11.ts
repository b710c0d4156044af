/**
 * The one import of pkcs11js. It is a CommonJS module whose constants and classes hang off `module.exports`,
 * so ESM code takes the default export and re-exports the names the adapter uses.
 */
import pkcs11js from 'pkcs11js';

export const pkcs11 = pkcs11js;
export type Handle = Buffer;
export type Pkcs11Module = InstanceType<typeof pkcs11js.PKCS11>;
export type Template = Parameters<Pkcs11Module['C_FindObjectsInit']>[1];
export type Mechanism = Parameters<Pkcs11Module['C_DecryptInit']>[1];

/** CK_RSA_PKCS_OAEP_PARAMS as pkcs11js takes it (its `RsaOAEP` type is not exported from the module). */
interface RsaOaepParams {
  type: number;
  hashAlg: number;
  mgf: number;
  source: number;
}

/** pkcs11js has no constant for CKZ_DATA_SPECIFIED (PKCS#11 2.40 §2.1.8); its value is 1. */
export const CKZ_DATA_SPECIFIED = 1;

/** RSA-OAEP with SHA-256, MGF1-SHA-256 and an empty label: what Office encrypts with (contract §1). */
const OAEP_SHA256_PARAMS: RsaOaepParams = {
  type: pkcs11js.CK_PARAMS_RSA_OAEP,
  hashAlg: pkcs11js.CKM_SHA256,
  mgf: pkcs11js.CKG_MGF1_SHA256,
  source: CKZ_DATA_SPECIFIED,
};

export const RSA_OAEP_SHA256: Mechanism = { mechanism: pkcs11js.CKM_RSA_PKCS_OAEP, parameter: OAEP_SHA256_PARAMS };
