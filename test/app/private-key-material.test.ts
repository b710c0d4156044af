/**
 * Contract §3 `dke keys import` (src/app/private-key-material.ts): the file reader refuses, with a sentence that
 * says why and never quotes the file, anything but an RSA-2048 private key with e = 65537. These refusals come
 * before anything reaches the token (the token side of a failed import: test/app/key-import.test.ts).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { readPrivateKeyMaterial } from '../../src/app/private-key-material.js';
import { AdminRefused } from '../../src/keys/errors.js';
import { rsaPem } from '../support/key-material.js';

describe('§3 keys import: the private key file (app/private-key-material)', () => {
  const refusals: [string, () => string, RegExp][] = [
    ['RSA-1024', () => rsaPem(1024).pem, /^key\.pem holds an RSA-1024 key; DKE keys must be RSA-2048\.$/],
    // A fixture: generating an RSA-4096 key takes seconds on a loaded machine.
    ['RSA-4096', () => readFileSync(join(process.cwd(), 'test', 'fixtures', 'rsa-4096-test-key.pem'), 'utf8'), /^key\.pem holds an RSA-4096 key; DKE keys must be RSA-2048\.$/],
    ['e = 3', () => rsaPem(2048, 3).pem, /^key\.pem has public exponent 3; DKE keys must use 65537\.$/],
    ['a public key file', () => rsaPem().publicKey.export({ type: 'spki', format: 'pem' }).toString(), /^key\.pem holds a public key or certificate; import needs the private key\.$/],
    ['a corrupted file', () => rsaPem().pem.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n').slice(0, 900), /^key\.pem is not a readable RSA private key \(PKCS#8 or PKCS#1 PEM\)\.$/],
    ['an EC key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /^key\.pem holds a ec key; DKE keys are RSA\.$/],
  ];
  for (const [what, make, sentence] of refusals) {
    it(`refuses ${what} with a sentence that says why and quotes nothing of the file`, () => {
      const text = make();
      assert.throws(
        () => readPrivateKeyMaterial(text, 'key.pem'),
        (e: unknown) => e instanceof AdminRefused && sentence.test(e.message) && !e.message.includes(text.split('\n')[1]!.slice(0, 16)),
      );
    });
  }

  it('reads PKCS#8 and PKCS#1 PEM and the bare base64 PKCS#1 of the reference service to the same public key', () => {
    const { pem, publicKey } = rsaPem(2048, 65537, 'pkcs1');
    const der = publicKey.export({ format: 'jwk' });
    const pkcs8 = rsaPem().pem;
    const bare = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    for (const text of [pem, bare]) {
      const material = readPrivateKeyMaterial(text, 'key.pem');
      assert.equal(material.publicKey.modulus.toString('base64url'), der.n);
      assert.equal(material.publicKey.publicExponent.toString('base64url'), der.e);
    }
    assert.equal(readPrivateKeyMaterial(pkcs8, 'key.pem').publicKey.modulus.length, 256);
  });

  it('wipe() zeroes the DER it holds', () => {
    const material = readPrivateKeyMaterial(rsaPem().pem, 'key.pem');
    material.wipe();
    assert.ok(material.pkcs8Der.every((byte) => byte === 0));
  });
});
