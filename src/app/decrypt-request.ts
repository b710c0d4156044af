import { CiphertextRejected, RequestInvalid } from '../keys/errors.js';

/** The only algorithm Office uses for the DKE decrypt call; breaks Office if changed. */
export const DECRYPT_ALGORITHM = 'RSA-OAEP-256';

/** Standard base64 with padding, as Office sends it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses and checks the decrypt body `{"alg":"RSA-OAEP-256","value":"<base64>"}` against the key's modulus before the
 * HSM sees anything. Unknown fields are ignored (newer clients may add some). A value of the wrong length or not below
 * the modulus fails exactly as a padding failure does: one error, one sentence (no oracle).
 */
export function parseDecryptRequest(body: Buffer, modulus: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RequestInvalid('The body must be JSON: {"alg":"RSA-OAEP-256","value":"<base64>"}.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestInvalid('The body must be a JSON object: {"alg":"RSA-OAEP-256","value":"<base64>"}.');
  }
  const { alg, value } = parsed as Record<string, unknown>;
  if (alg !== DECRYPT_ALGORITHM) throw new RequestInvalid('alg must be "RSA-OAEP-256".');
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) {
    throw new RequestInvalid('value must be standard base64.');
  }
  const ciphertext = Buffer.from(value, 'base64');
  if (ciphertext.length !== modulus.length) throw new CiphertextRejected('ciphertext length differs from the modulus');
  if (Buffer.compare(ciphertext, modulus) >= 0) throw new CiphertextRejected('ciphertext not below the modulus');
  return ciphertext;
}
