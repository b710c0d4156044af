/**
 * Contract §4 (key states) and §3 (`dke keys set-state|enable|disable|rotate|delete|attest`) through the one
 * key-admin service (src/app/key-admin.ts) on the real token: every allowed move and its effect on the next request,
 * every refused move with its sentence, previews of permanent steps, CKA_DECRYPT cleared in the token, attestation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { AdminRefused, KeyNotFound } from '../../src/keys/errors.js';
import type { KeyState } from '../../src/keys/key-version.js';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

describe('§4 lifecycle end to end on the real token (app/key-lifecycle)', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  async function versionIn(name: string, state: 'active' | 'pre-active'): Promise<string> {
    return (await env.admin.create(name, { state, allow })).keyId;
  }
  const versionInState = versionIn;

  const decryptStatus = async (name: string, keyId: string) => (await decryptAs(env, USER, name, keyId, Buffer.from('doc'))).status;

  it('walks every allowed move of the table, and each one has its effect on the next request', async () => {
    const chain = await versionInState('chain', 'pre-active');
    assert.equal(await decryptStatus('chain', chain), 403, 'Pre-Active does not decrypt');
    for (const [to, status] of [
      ['active', 200],
      ['deactivated', 403],
      ['compromised', 403],
    ] as [KeyState, number][]) {
      const outcome = await env.admin.setState('chain', chain, to, true);
      assert.equal(outcome.applied, true);
      assert.equal(await decryptStatus('chain', chain), status, `after → ${to}`);
    }
    const preToCompromised = await versionInState('p2c', 'pre-active');
    assert.equal((await env.admin.setState('p2c', preToCompromised, 'compromised', true)).applied, true);
    const activeToCompromised = await versionInState('a2c', 'active');
    assert.equal(await decryptStatus('a2c', activeToCompromised), 200);
    await env.admin.setState('a2c', activeToCompromised, 'compromised', true);
    assert.equal(await decryptStatus('a2c', activeToCompromised), 403);
    const preDeleted = await versionInState('p2d', 'pre-active');
    // The public key is read before the delete: afterwards the token has nothing left to read it from, and the
    // request must still reach the service to prove that the id answers 404.
    const preDeletedJwk = await versionJwk(env, 'p2d', preDeleted);
    assert.equal((await env.admin.delete('p2d', preDeleted, true)).applied, true);
    const gone = await decryptAs(env, USER, 'p2d', preDeleted, Buffer.from('doc'), preDeletedJwk);
    assert.equal(gone.status, 404, 'a Pre-Active version deleted is Destroyed: its id answers 404');
    assert.equal(gone.body.error, 'key_not_found');
  });

  it('refuses every move the table forbids with a sentence naming the allowed ones, and changes nothing', async () => {
    const keyId = await versionIn('refusals', 'active');
    await env.admin.setState('refusals', keyId, 'deactivated', true);
    for (const to of ['active', 'pre-active', 'deactivated'] as KeyState[]) {
      await assert.rejects(env.admin.setState('refusals', keyId, to, true), (e: unknown) => e instanceof AdminRefused && /allowed from Deactivated: Compromised/.test(e.message));
    }
    // The service names the step as data; each front end words it (test/http/admin-surfaces.test.ts).
    await assert.rejects(
      env.admin.setState('refusals', keyId, 'destroyed', true),
      (e: unknown) => e instanceof AdminRefused && e.stepRefusal?.nextStep.kind === 'delete-instead' && e.message === 'A state change never destroys a key version; delete the version to destroy it.',
    );
    await assert.rejects(env.admin.delete('refusals', keyId, true), /Only Pre-Active and Active versions can be deleted/);
    await env.admin.setState('refusals', keyId, 'compromised', true);
    await assert.rejects(env.admin.setState('refusals', keyId, 'active', true), /allowed from Compromised: none, it is final/);
    assert.equal(env.service.store.findKey('refusals')?.versions[0]?.state, 'compromised');
  });

  it('a permanent move without confirmation only previews its impact from the audit trail', async () => {
    const keyId = await versionIn('preview', 'active');
    for (const upn of [USER, USER, USER]) assert.equal((await decryptAs(env, upn, 'preview', keyId, Buffer.from('x'))).status, 200);
    await env.service.store.change((tx) => tx.grant('preview', 'users', 'bob@contoso.dev'));
    assert.equal((await decryptAs(env, 'bob@contoso.dev', 'preview', keyId, Buffer.from('y'))).status, 200);
    const outcome = await env.admin.setState('preview', keyId, 'deactivated', false);
    assert.equal(outcome.applied, false);
    if (outcome.applied || !('preview' in outcome)) return;
    assert.equal(outcome.preview.usage.decrypts, 4);
    assert.equal(outcome.preview.usage.distinctUsers, 2);
    assert.ok(outcome.preview.usage.lastUse !== undefined && Date.now() - Date.parse(outcome.preview.usage.lastUse) < 60_000);
    assert.match(outcome.preview.effect, /cannot be undone/);
    assert.equal(env.service.store.findKey('preview')?.versions[0]?.state, 'active', 'nothing changed');
    const deletion = await env.admin.delete('preview', keyId, false);
    assert.equal(deletion.applied, false);
    assert.equal(await decryptStatus('preview', keyId), 200, 'still decrypts');
  });

  it('Enabled off blocks and on restores only an Active version; it never revives another state', async () => {
    const states: KeyState[] = ['pre-active', 'active', 'deactivated', 'compromised'];
    for (const state of states) {
      const name = `enabled-${state}`;
      const keyId = await versionIn(name, state === 'pre-active' ? 'pre-active' : 'active');
      if (state === 'deactivated' || state === 'compromised') await env.admin.setState(name, keyId, state, true);
      await env.admin.setEnabled(name, keyId, false);
      assert.equal(await decryptStatus(name, keyId), 403, `${state} disabled`);
      await (state === 'active' ? env.http.get(`/${name}`).expect(404) : Promise.resolve());
      await env.admin.setEnabled(name, keyId, true);
      assert.equal(await decryptStatus(name, keyId), state === 'active' ? 200 : 403, `${state} enabled again`);
    }
    const gone = await versionIn('enabled-destroyed', 'active');
    await env.admin.delete('enabled-destroyed', gone, true);
    await assert.rejects(env.admin.setEnabled('enabled-destroyed', gone, true), /Destroyed; there is nothing to enable/);
  });

  it('rotation publishes a new version while documents protected with the old one still open', async () => {
    const first = await versionIn('rotating', 'active');
    const oldJwk = await versionJwk(env, 'rotating', first);
    const second = (await env.admin.rotate('rotating')).keyId;
    const served = await env.http.get('/rotating').set('Host', 'localhost').expect(200);
    assert.equal(served.body.key.kid, `http://localhost/rotating/${second}`);
    assert.notEqual(served.body.key.n, oldJwk.n);
    assert.equal((await decryptAs(env, USER, 'rotating', first, Buffer.from('old doc'), oldJwk)).status, 200);
    const fresh = await decryptAs(env, USER, 'rotating', second, Buffer.from('new doc'), served.body.key);
    assert.equal(fresh.status, 200);
    assert.equal(Buffer.from(fresh.body.value, 'base64').toString(), 'new doc');
    const view = (await env.admin.show('rotating'));
    assert.deepEqual(view.versions.map((v) => [v.keyId, v.published]), [[first, false], [second, true]]);
  });

  it('delete destroys the objects in the token, keeps the record as Destroyed, and the key id answers 404', async () => {
    const keyId = await versionIn('doomed', 'active');
    const jwk = await versionJwk(env, 'doomed', keyId);
    const outcome = await env.admin.delete('doomed', keyId, true);
    assert.ok(outcome.applied && outcome.objectsDestroyed === true);
    env.service.hsm.vault.forget({ name: 'doomed', keyId });
    await assert.rejects(env.service.hsm.vault.attest({ name: 'doomed', keyId }), KeyNotFound);
    await assert.rejects(env.service.hsm.vault.publicKey({ name: 'doomed', keyId }), KeyNotFound);
    assert.equal((await decryptAs(env, USER, 'doomed', keyId, Buffer.from('x'), jwk)).status, 404);
    await env.http.get('/doomed').expect(404);
    assert.equal((await env.admin.show('doomed')).versions[0]?.state, 'destroyed');
    const attest = await env.admin.attest('doomed');
    assert.equal(attest.versions[0]?.verdict, 'destroyed');
    const again = await env.admin.delete('doomed', keyId, true);
    assert.ok(again.applied && again.objectsDestroyed === false, 'a second run finds nothing left to destroy');
  });

  it('Deactivated and Compromised are made physical: CKA_DECRYPT cleared in the token, as attest shows', async () => {
    const keyId = await versionIn('physical', 'active');
    const outcome = await env.admin.setState('physical', keyId, 'deactivated', true);
    assert.ok(outcome.applied && outcome.decryptClearedInToken === true);
    const [attested] = (await env.admin.attest('physical', keyId)).versions;
    assert.equal(attested?.decryptClearedInToken, true);
    assert.deepEqual(attested?.operations, []);
  });

  it('attest reports the token\'s own evidence of a generated key, and the verdict built with our record', async () => {
    const keyId = await versionIn('attested', 'active');
    const { versions } = await env.admin.attest('attested');
    assert.deepEqual(versions[0], {
      keyId,
      state: 'active',
      origin: 'generated',
      sensitive: true,
      alwaysSensitive: true,
      extractable: false,
      neverExtractable: true,
      local: false,
      modulusBits: 2048,
      operations: ['decrypt'],
      decryptClearedInToken: null,
      verdict: 'hsm-born-never-extractable',
    });
  });

  it('the audit trail records every admin action with its actor, and the chain verifies', async () => {
    // Tampering with the chain is the store's concern: test/store/sqlite-audit-trail.test.ts.
    // Its own actions, so that the test holds when run alone (mocha --grep) or in any order.
    const before = (await env.service.audit.list()).length;
    const first = await versionIn('audited', 'active');
    const second = (await env.admin.rotate('audited')).keyId;
    await env.admin.setEnabled('audited', first, false);
    await env.admin.setEnabled('audited', first, true);
    await env.admin.setState('audited', first, 'deactivated', true);
    await env.admin.delete('audited', second, true);
    const entries = (await env.service.audit.list()).slice(before).filter((e) => e.keyName === 'audited');
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor, e.keyId, e.outcome]),
      [
        ['create', 'test', first, 'succeeded'],
        // Issue 27: the allow list it was created with, one entry per grant.
        ['grant', 'test', undefined, 'succeeded'],
        ['rotate', 'test', second, 'succeeded'],
        ['disable', 'test', first, 'succeeded'],
        ['enable', 'test', first, 'succeeded'],
        ['set-state', 'test', first, 'succeeded'],
        ['delete', 'test', second, 'succeeded'],
      ],
    );
    assert.equal((await env.service.audit.verify()).ok, true);
  });
});
