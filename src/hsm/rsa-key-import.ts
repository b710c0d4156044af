import { createCipheriv, randomBytes } from 'node:crypto';
import { KeyUsageNotRestricted } from '../keys/errors.js';
import type { KeyVersionRef, RsaPublicKey } from '../keys/ports.js';
import { pkcs11, type Handle, type Pkcs11Module } from './pkcs11.js';
import { privateKeyTemplate, publicKeyTemplate, USES_BESIDES_DECRYPT, wrappingKeyTemplate } from './rsa-key-templates.js';

/**
 * Brings an RSA private key into the token without ever creating a token object that holds it in the clear:
 * a one-time AES-256 session key is created in the token, the PKCS#8 key is encrypted with it here
 * (AES-256-CBC-PAD: the unwrap mechanism NSS softoken accepts for private keys; its AES key-wrap-pad answers
 * CKR_WRAPPED_KEY_INVALID), and C_UnwrapKey makes the private key a sensitive, non-extractable, decrypt-only object.
 * The AES key and every clear buffer are destroyed or wiped on every path. On failure nothing is left in the token.
 */
export function unwrapRsaPrivateKey(module: Pkcs11Module, session: Handle, ref: KeyVersionRef, pkcs8Der: Buffer, publicKey: RsaPublicKey): Handle {
  const aesKey = randomBytes(32);
  const iv = randomBytes(16);
  let wrapped: Buffer | undefined;
  let wrappingKey: Handle | undefined;
  let privateKey: Handle | undefined;
  try {
    wrappingKey = module.C_CreateObject(session, wrappingKeyTemplate(aesKey));
    const cipher = createCipheriv('aes-256-cbc', aesKey, iv);
    wrapped = Buffer.concat([cipher.update(pkcs8Der), cipher.final()]);
    // The same template as a generated key; the token takes modulus and exponents from the unwrapped key itself.
    privateKey = module.C_UnwrapKey(session, { mechanism: pkcs11.CKM_AES_CBC_PAD, parameter: iv }, wrappingKey, wrapped, privateKeyTemplate(ref));
    restrictToDecrypt(module, session, privateKey);
    module.C_CreateObject(session, publicKeyTemplate(ref, publicKey));
    return privateKey;
  } catch (error) {
    if (privateKey !== undefined) destroyQuietly(module, session, privateKey);
    throw error;
  } finally {
    aesKey.fill(0);
    wrapped?.fill(0);
    if (wrappingKey !== undefined) destroyQuietly(module, session, wrappingKey);
  }
}

/** Clears every use but decrypt and reads them back; refuses the import when the token keeps any of them. */
function restrictToDecrypt(module: Pkcs11Module, session: Handle, key: Handle): void {
  const granted = (): number[] =>
    USES_BESIDES_DECRYPT.filter((type) => {
      try {
        const [attribute] = module.C_GetAttributeValue(session, key, [{ type }]);
        return (attribute?.value as Buffer | undefined)?.[0] === 1;
      } catch {
        return false;
      }
    });
  const extra = granted();
  if (extra.length === 0) return;
  module.C_SetAttributeValue(session, key, extra.map((type) => ({ type, value: false })));
  if (granted().length > 0) throw new KeyUsageNotRestricted('The token keeps other uses than decrypt on the imported key; nothing was kept.');
}

function destroyQuietly(module: Pkcs11Module, session: Handle, handle: Handle): void {
  try {
    module.C_DestroyObject(session, handle);
  } catch {
    // A session object dies with the session anyway; a token object left behind is reported by the caller's check.
  }
}
