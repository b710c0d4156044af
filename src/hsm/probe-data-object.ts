import { randomBytes } from 'node:crypto';
import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import { readAttribute } from './object-attributes.js';
import { pkcs11, type Handle, type Pkcs11Module } from './pkcs11.js';
import { failed, passed, probeLabel, warned } from './probe-checks.js';

/**
 * Whether the token keeps a private data object (CKO_DATA) of the application: created, read back, destroyed. The
 * service keeps none today, so a refusal is a warning (NSS softoken keeps only keys and certificates in its database).
 */
export function dataObjectCheck(module: Pkcs11Module, session: Handle): ProbeCheck {
  const label = probeLabel();
  const value = randomBytes(32);
  let handle: Handle;
  try {
    handle = module.C_CreateObject(session, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_DATA },
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_PRIVATE, value: true },
      { type: pkcs11.CKA_LABEL, value: label },
      { type: pkcs11.CKA_APPLICATION, value: 'dke-service probe' },
      { type: pkcs11.CKA_VALUE, value },
    ]);
  } catch (error) {
    return warned(
      'data-objects',
      `The token refused a private data object (CKO_DATA) with ${ckrName(error)}; the service keeps none today, so nothing fails now, but ask the vendor whether the partition's policy allows data objects on the token.`,
    );
  }
  const readBack = readAttribute(module, session, handle, pkcs11.CKA_VALUE);
  try {
    module.C_DestroyObject(session, handle);
  } catch (error) {
    return failed('data-objects', `A data object labelled ${label} was kept but could not be destroyed (${ckrName(error)}); remove it with the vendor's tool and ask the vendor which policy allows C_DestroyObject.`);
  }
  return readBack?.equals(value) === true
    ? passed('data-objects', 'A private data object (CKO_DATA) was kept on the token, read back as written and destroyed.')
    : warned('data-objects', 'A private data object was kept and destroyed, but its value did not read back as written; ask the vendor how CKA_VALUE of a data object is read.');
}
