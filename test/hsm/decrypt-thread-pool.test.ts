/**
 * Contract §1 decrypt, HSM step (src/hsm/decrypt-thread-pool.ts, issue 5): C_DecryptInit and C_Decrypt run on worker
 * threads (one at first, more as load asks, up to one per session), on the real token, and a token error comes back
 * with its numeric CKR.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { encryptOaepSha256 } from '../../src/app/software-rsa.js';
import { parseSettings } from '../../src/config/config.js';
import { ckrName } from '../../src/hsm/ckr-classes.js';
import { CiphertextRejected } from '../../src/keys/errors.js';
import { DecryptThreadPool } from '../../src/hsm/decrypt-thread-pool.js';
import { openHsm, type OpenHsm } from '../../src/hsm/open-hsm.js';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import { findTemplate } from '../../src/hsm/rsa-key-templates.js';
import { makeTestToken } from '../support/test-env.js';
import { until } from '../support/until.js';

describe('hsm/decrypt-thread-pool: C_DecryptInit + C_Decrypt off the event loop, on the real token', () => {
  let dir: string;
  let hsm: OpenHsm;
  let threads: DecryptThreadPool;
  const ref = { name: 'threads', keyId: 'k1' };
  let ciphertextFor: (plaintext: Buffer) => Buffer;
  let keyHandle: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-threads-'));
    const token = makeTestToken(dir);
    const config = parseSettings({ ...token.settings, DKE_AUTH_METADATA_URL: 'http://127.0.0.1:9/x', DKE_PKCS11_SESSIONS: '4' });
    hsm = openHsm(config.pkcs11);
    const publicKey = await hsm.vault.generateKeyPair(ref);
    ciphertextFor = (plaintext) => encryptOaepSha256(publicKey, plaintext);
    keyHandle = await hsm.connection.withSession(async (session) => {
      hsm.token.module.C_FindObjectsInit(session, findTemplate(ref, pkcs11.CKO_PRIVATE_KEY));
      const handle = hsm.token.module.C_FindObjects(session);
      hsm.token.module.C_FindObjectsFinal(session);
      return handle!;
    });
    threads = await DecryptThreadPool.start({ library: config.pkcs11.library, libraryParameters: config.pkcs11.libraryParameters!, simulatedDelayMs: 0 }, 2);
  });

  after(async () => {
    await threads.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decrypts concurrently on pooled sessions and gives every caller its own plaintext', async () => {
    assert.equal(threads.size, 1, 'one thread starts with the pool');
    const plaintexts = Array.from({ length: 16 }, () => randomBytes(32));
    const results = await Promise.all(
      plaintexts.map((p) => hsm.connection.withSession((session) => threads.decrypt(session, keyHandle, ciphertextFor(p), 256))),
    );
    results.forEach((r, i) => assert.ok(r.equals(plaintexts[i]!)));
    // Decrypts that found the thread busy started another, up to the limit (2) however many were in flight.
    await until(() => threads.size === 2, 'a second thread');
    await Promise.all(plaintexts.map((p) => hsm.connection.withSession((session) => threads.decrypt(session, keyHandle, ciphertextFor(p), 256))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(threads.size, 2, 'never more threads than the limit');
  });

  it('rejects with the token\'s CKR code, sent from the thread as a number, so the adapter can classify it', async () => {
    const bad = ciphertextFor(Buffer.from('x'));
    bad[10]! ^= 1;
    const session = await hsm.pool.acquire();
    try {
      await assert.rejects(
        threads.decrypt(session, keyHandle, bad, 256),
        (error: unknown) => error instanceof pkcs11.Pkcs11Error && error.code === pkcs11.CKR_ENCRYPTED_DATA_INVALID && ckrName(error) === 'CKR_ENCRYPTED_DATA_INVALID',
      );
    } finally {
      hsm.pool.release(session);
    }
    await assert.rejects(
      hsm.connection.withSession((s) => threads.decrypt(s, keyHandle, bad, 256)),
      (error: unknown) => error instanceof CiphertextRejected && error.detail === 'CKR_ENCRYPTED_DATA_INVALID',
      'the connection classifies it once: the uniform 400',
    );
    const good = Buffer.from('after');
    const again = await hsm.connection.withSession((session) => threads.decrypt(session, keyHandle, ciphertextFor(good), 256));
    assert.ok(again.equals(good), 'the session is usable after a failed operation');
  });
});
