/**
 * Contract §3 (`dke keys create`, `dke keys import`): a key name and id the token already holds is refused with a
 * named error (KeyAlreadyInToken, exit 2 in the CLI), never a plain Error (exit 1, a 500), and nothing is changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { errorResponse } from '../../src/http/error-responses.js';
import { KeyAlreadyInToken } from '../../src/keys/errors.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { rsaPem } from '../support/key-material.js';
import { readPrivateKeyMaterial } from '../../src/app/private-key-material.js';

describe('hsm/pkcs11-key-vault: a key the token already holds (real token)', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  it('generating or importing over a leftover key is KeyAlreadyInToken, and the leftover is kept', async () => {
    const ref = { name: 'leftover', keyId: 'k1' };
    const held = await env.service.hsm.vault.generateKeyPair(ref);
    const isHeld = (error: unknown) => error instanceof KeyAlreadyInToken && error.code === 'key_already_in_token' && /already holds a key leftover\/k1/.test(error.message);
    await assert.rejects(env.admin.create('leftover', { keyId: 'k1' }), isHeld);
    await assert.rejects(env.admin.importKey('leftover', readPrivateKeyMaterial(rsaPem().pem, 'key.pem'), { keyId: 'k1', source: 'key.pem' }), isHeld);
    assert.ok((await env.service.hsm.vault.publicKey(ref)).modulus.equals(held.modulus), 'the token still holds the first key');
    assert.equal(env.service.store.findKey('leftover'), undefined, 'nothing was recorded');
  });

  it('maps to CLI exit 2 and HTTP 409 in the one table of each, a plain Error to exit 1 and a 500', () => {
    const error = new KeyAlreadyInToken('The token already holds a key a/b; nothing was changed.');
    const challenge = { audiences: ['https://dke.test'], authorizationUrl: 'https://login.example/authorize' };
    assert.equal(exitCodeFor(error), 2);
    assert.equal(exitCodeFor(new Error('bug')), 1);
    assert.deepEqual(errorResponse(error, challenge).status, 409);
    assert.deepEqual(errorResponse(new Error('bug'), challenge).body, { error: 'internal_error', message: 'The request could not be handled.' });
  });
});
