/**
 * Contract §3 `dke keys attest` and §4 (src/app/provenance-guard.ts, issue 4): a version whose token evidence says it
 * could have left the HSM is not served; states, flags, grants and the audit chain survive a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import { objectId, objectLabel } from '../../src/hsm/rsa-key-templates.js';
import { decryptAs } from '../support/decrypt-client.js';
import { makeTestToken, startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
/** A group object id as an admin may paste it (upper case); stored and matched in lower case. */
const GROUP_G9 = 'B0000000-0000-4000-8000-0000000000C9';

/** Puts an EXTRACTABLE, non-sensitive key pair into the token under our labels: a key that could have left the HSM. */
async function plantExportableKey(env: TestEnv, name: string, keyId: string): Promise<void> {
  const ref = { name, keyId };
  await env.service.hsm.connection.withSession(async (session) => {
    const common = [
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_ID, value: objectId(ref) },
      { type: pkcs11.CKA_LABEL, value: objectLabel(ref) },
    ];
    await env.service.hsm.token.module.C_GenerateKeyPairAsync(
      session,
      { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [...common, { type: pkcs11.CKA_MODULUS_BITS, value: 2048 }, { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }, { type: pkcs11.CKA_ENCRYPT, value: true }],
      [...common, { type: pkcs11.CKA_PRIVATE, value: true }, { type: pkcs11.CKA_SENSITIVE, value: false }, { type: pkcs11.CKA_EXTRACTABLE, value: true }, { type: pkcs11.CKA_DECRYPT, value: true }],
    );
  });
  const publicKey = await env.service.hsm.vault.publicKey(ref);
  await env.service.store.change((tx) =>
    tx.addVersion({ name, keyId, state: 'active', origin: 'generated', publish: true, allow: { users: [USER], groups: [], roles: [] }, publicKey }, new Date().toISOString()),
  );
}

describe('issue 4: provenance and persistence', () => {
  it('refuses to serve a key whose token evidence says it could have left the HSM, unless DKE_ALLOW_EXPORTABLE_KEYS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-prov-'));
    makeTestToken(dir);
    let env = await startTestEnv({ dir });
    try {
      await plantExportableKey(env, 'leaky', 'k1');
      const attest = await env.admin.attest('leaky');
      assert.equal(attest.versions[0]?.verdict, 'exportable');
      assert.equal(attest.versions[0]?.extractable, true);
      await env.http.get('/leaky').expect(404);
      const refused = await decryptAs(env, USER, 'leaky', 'k1', Buffer.from('x'));
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error, 'key_not_usable');
      // The admin views say so instead of "Serving" (issue 27: a status is never better than what GET answers).
      const shown = await env.admin.show('leaky');
      assert.deepEqual([shown.status, shown.versions[0]?.status], ['exportable', 'exportable']);
      await env.close();
      env = await startTestEnv({ dir, settings: { DKE_ALLOW_EXPORTABLE_KEYS: 'true' } });
      await env.http.get('/leaky').expect(200);
      assert.equal((await decryptAs(env, USER, 'leaky', 'k1', Buffer.from('x'))).status, 200);
    } finally {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('states, flags, grants and the audit chain survive a restart of the service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-restart-'));
    makeTestToken(dir);
    let env = await startTestEnv({ dir });
    let keyId: string;
    let retired: string;
    try {
      retired = (await env.admin.create('durable', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
      keyId = (await env.admin.rotate('durable')).keyId;
      await env.admin.setState('durable', retired, 'deactivated', true);
      await env.admin.setEnabled('durable', keyId, false);
      await env.admin.grant('durable', 'groups', GROUP_G9);
      await env.close();
      env = await startTestEnv({ dir });
      const view = (await env.admin.show('durable'));
      assert.deepEqual(
        view.versions.map((v) => [v.keyId, v.state, v.enabled, v.published]),
        [
          [retired, 'deactivated', true, false],
          [keyId, 'active', false, true],
        ],
      );
      assert.deepEqual(view.allow.groups, [GROUP_G9.toLowerCase()]);
      assert.equal((await env.service.audit.verify()).ok, true);
      assert.equal((await decryptAs(env, USER, 'durable', keyId, Buffer.from('x'))).status, 403);
      await env.admin.setEnabled('durable', keyId, true);
      assert.equal((await decryptAs(env, USER, 'durable', keyId, Buffer.from('x'))).status, 200);
    } finally {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
