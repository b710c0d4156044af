import { randomBytes } from 'node:crypto';
import type { KeyVersionRef, RsaPublicKey } from '../keys/ports.js';
import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import { bitLength, readBoolean, readRsaPublicKey } from './object-attributes.js';
import { pkcs11, RSA_OAEP_SHA256, type Handle, type Pkcs11Module, type Template } from './pkcs11.js';
import { attempt, attemptNow, failed, notTried, passed, probeLabel, warned } from './probe-checks.js';
import { MODULUS_BITS, privateKeyTemplate, publicKeyTemplate } from './rsa-key-templates.js';

/** Encrypts as an Office client does (RSA-OAEP, SHA-256, MGF1-SHA-256): the other end of the probe's round trip. */
export type EncryptAsOffice = (publicKey: RsaPublicKey, plaintext: Buffer) => Buffer;

interface KeyPair {
  readonly publicKey: Handle;
  readonly privateKey: Handle;
}

/** The private key's attributes the production template asks for, as the token must report them back. */
const TEMPLATE_PROMISES: readonly (readonly [name: string, type: number, wanted: boolean])[] = [
  ['CKA_TOKEN', pkcs11.CKA_TOKEN, true],
  ['CKA_PRIVATE', pkcs11.CKA_PRIVATE, true],
  ['CKA_SENSITIVE', pkcs11.CKA_SENSITIVE, true],
  ['CKA_ALWAYS_SENSITIVE', pkcs11.CKA_ALWAYS_SENSITIVE, true],
  ['CKA_EXTRACTABLE', pkcs11.CKA_EXTRACTABLE, false],
  ['CKA_NEVER_EXTRACTABLE', pkcs11.CKA_NEVER_EXTRACTABLE, true],
  ['CKA_DECRYPT', pkcs11.CKA_DECRYPT, true],
  ['CKA_SIGN', pkcs11.CKA_SIGN, false],
  ['CKA_SIGN_RECOVER', pkcs11.CKA_SIGN_RECOVER, false],
  ['CKA_UNWRAP', pkcs11.CKA_UNWRAP, false],
  ['CKA_DERIVE', pkcs11.CKA_DERIVE, false],
];

/**
 * A temporary RSA-2048 key pair made with the production templates (only its label and id differ: see probeLabel),
 * then: its attributes read back, a value encrypted as Office does and decrypted in the token, C_SetAttributeValue
 * tried on it, and the pair destroyed, on every path, whatever failed before.
 */
export async function temporaryKeyChecks(module: Pkcs11Module, session: Handle, encrypt: EncryptAsOffice): Promise<ProbeCheck[]> {
  const label = probeLabel();
  let pair: KeyPair;
  try {
    pair = await module.C_GenerateKeyPairAsync(session, { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN }, probeTemplate(publicKeyTemplate, label), probeTemplate(privateKeyTemplate, label));
  } catch (error) {
    const why = `no temporary key could be generated`;
    return [
      failed(
        'production-template',
        `The token refused to generate an RSA-${MODULUS_BITS} key pair with the production template (token objects; the private key sensitive, never extractable, decrypt only) with ${ckrName(error)}; ask the vendor which of these attributes the partition's policy refuses.`,
      ),
      notTried('oaep-sha256-decrypt', why),
      notTried('attribute-change', why),
      notTried('key-destroy', why),
    ];
  }
  const checks: ProbeCheck[] = [];
  try {
    checks.push(attemptNow('production-template', () => templateCheck(module, session, pair)));
    checks.push(await attempt('oaep-sha256-decrypt', () => decryptCheck(module, session, pair, encrypt)));
    checks.push(attemptNow('attribute-change', () => attributeChangeCheck(module, session, pair.privateKey, label)));
  } finally {
    checks.push(destroyCheck(module, session, pair, label));
  }
  return checks;
}

/** A production template (a function of a key version) with the probe's label and id in place of a version's. */
function probeTemplate(production: (ref: KeyVersionRef) => Template, label: string): Template {
  const id = Buffer.from(label, 'utf8');
  return production({ name: 'probe', keyId: 'probe' }).map((attribute) =>
    attribute.type === pkcs11.CKA_LABEL ? { type: pkcs11.CKA_LABEL, value: label } : attribute.type === pkcs11.CKA_ID ? { type: pkcs11.CKA_ID, value: id } : attribute,
  );
}

function templateCheck(module: Pkcs11Module, session: Handle, pair: KeyPair): ProbeCheck {
  const contrary: string[] = [];
  const unknown: string[] = [];
  for (const [name, type, wanted] of TEMPLATE_PROMISES) {
    const value = readBoolean(module, session, pair.privateKey, type);
    if (value === undefined) unknown.push(name);
    else if (value !== wanted) contrary.push(`${name} is ${value}`);
  }
  const bits = bitLength(readRsaPublicKey(module, session, pair.publicKey).modulus);
  if (bits !== MODULUS_BITS) contrary.push(`the modulus has ${bits} bits`);
  if (contrary.length > 0) {
    return failed('production-template', `The token generated the key pair but not as the production template asks: ${contrary.join(', ')}; ask the vendor why the token changes these attributes of a generated key.`);
  }
  if (unknown.length > 0) {
    return warned('production-template', `The token generated the key pair with the production template but does not report ${unknown.join(', ')}; ask the vendor how to read them, since "dke keys attest" shows them.`);
  }
  return passed('production-template', `The token generated an RSA-${MODULUS_BITS} key pair with the production template and reports it as asked: on the token, sensitive, never extractable, decrypt only.`);
}

async function decryptCheck(module: Pkcs11Module, session: Handle, pair: KeyPair, encrypt: EncryptAsOffice): Promise<ProbeCheck> {
  const expected = randomBytes(32);
  const ciphertext = encrypt(readRsaPublicKey(module, session, pair.publicKey), expected);
  let step = 'C_DecryptInit';
  let plaintext: Buffer;
  try {
    module.C_DecryptInit(session, RSA_OAEP_SHA256, pair.privateKey);
    step = 'C_Decrypt';
    // `ciphertext` and the output buffer stay referenced by this frame until the promise settles.
    plaintext = Buffer.from(await module.C_DecryptAsync(session, ciphertext, Buffer.alloc(ciphertext.length)));
  } catch (error) {
    return failed(
      'oaep-sha256-decrypt',
      `The token refused RSA-OAEP with SHA-256 and MGF1-SHA-256 (CKM_RSA_PKCS_OAEP: ${ckrName(error)} from ${step}), the one mechanism Office encrypts with, so no protected document could be opened; ask the vendor for CKM_RSA_PKCS_OAEP with hashAlg CKM_SHA256 and mgf CKG_MGF1_SHA256 in C_Decrypt (SoftHSM2 2.6 and some older firmware take SHA-1 only).`,
    );
  }
  return plaintext.equals(expected)
    ? passed('oaep-sha256-decrypt', 'A value encrypted outside the token with the temporary public key, as Office encrypts (RSA-OAEP, SHA-256, MGF1-SHA-256), came back equal from C_Decrypt in the token.')
    : failed('oaep-sha256-decrypt', 'C_Decrypt with RSA-OAEP SHA-256 gave back another value than was encrypted; ask the vendor why its OAEP decryption differs from PKCS#1 v2.2 with SHA-256 and MGF1-SHA-256.');
}

/**
 * The service changes attributes of its keys: CKA_DECRYPT false on a Deactivated or Compromised version (the state
 * blocks it anyway), and uses besides decrypt cleared on an imported key. A new label stands for any attribute.
 */
function attributeChangeCheck(module: Pkcs11Module, session: Handle, privateKey: Handle, label: string): ProbeCheck {
  const relabel = setAttribute(module, session, privateKey, pkcs11.CKA_LABEL, `${label}-renamed`);
  const clearDecrypt = setAttribute(module, session, privateKey, pkcs11.CKA_DECRYPT, false);
  const decryptCleared = clearDecrypt === undefined && readBoolean(module, session, privateKey, pkcs11.CKA_DECRYPT) === false;
  if (relabel === undefined && decryptCleared) {
    return passed('attribute-change', 'C_SetAttributeValue changed CKA_LABEL and cleared CKA_DECRYPT on the temporary key, so a Deactivated or Compromised version is also barred in the token itself.');
  }
  const refused = [relabel === undefined ? undefined : `CKA_LABEL (${relabel})`, decryptCleared ? undefined : `CKA_DECRYPT (${clearDecrypt ?? 'kept true'})`].filter((r) => r !== undefined);
  return warned(
    'attribute-change',
    `C_SetAttributeValue did not change ${refused.join(' or ')} on a key object, so a Deactivated or Compromised version is barred by the service's state only and an imported key that the token gives other uses than decrypt is refused; ask the vendor whether key attributes can be changed after creation, and under which policy.`,
  );
}

/** undefined when the token took the value, else the CKR name of its refusal. */
function setAttribute(module: Pkcs11Module, session: Handle, handle: Handle, type: number, value: string | boolean): string | undefined {
  try {
    module.C_SetAttributeValue(session, handle, [{ type, value }]);
    return undefined;
  } catch (error) {
    return ckrName(error);
  }
}

function destroyCheck(module: Pkcs11Module, session: Handle, pair: KeyPair, label: string): ProbeCheck {
  const refusals: string[] = [];
  for (const handle of [pair.privateKey, pair.publicKey]) {
    try {
      module.C_DestroyObject(session, handle);
    } catch (error) {
      refusals.push(ckrName(error));
    }
  }
  return refusals.length === 0
    ? passed('key-destroy', 'The temporary key pair was destroyed (C_DestroyObject, as "dke keys delete" destroys a version).')
    : failed(
        'key-destroy',
        `The temporary key pair (label ${label} or ${label}-renamed) could not be destroyed (${refusals.join(', ')}), so "dke keys delete" could not destroy a key either; remove it with the vendor's tool and ask the vendor which policy allows C_DestroyObject on private keys.`,
      );
}
