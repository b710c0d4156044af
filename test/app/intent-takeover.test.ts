/**
 * Issue 25 and contract §5 in one process, on the embedded store and the real NSS token: a version the token refuses
 * (its CKA_DECRYPT cleared before the store says so, as a compromise interrupted after its token step leaves it, or
 * a decrypt racing a committed compromise) answers 403 and is no longer published, readiness stays ready with a
 * warning naming it, and other keys serve; an intent is left to its holder while its lease runs and taken over once
 * it has passed: finished, audited with who took it over from whom (src/app/intent-takeover.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { KeyAdmin } from '../../src/app/key-admin.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const ALLOW = { users: [USER], groups: [], roles: [] };

describe('issue 25: one version\'s fault stays its own, and an unfinished step is taken over after its lease', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  it('a version whose key the token refuses: decrypt 403 (not 503), GET 404, readiness ready with a warning naming it; the other key serves', async () => {
    const steady = (await env.admin.create('steady', { allow: ALLOW })).keyId;
    const torn = (await env.admin.create('torn', { allow: ALLOW })).keyId;
    assert.equal((await env.http.get('/torn')).status, 200);
    assert.equal(await env.service.hsm.vault.forbidDecrypt({ name: 'torn', keyId: torn }), true);
    const refused = await decryptAs(env, USER, 'torn', torn, Buffer.from('x'));
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, { error: 'key_not_usable', message: 'This key cannot be used to decrypt.' });
    assert.equal((await env.http.get('/torn')).status, 404);
    const report = await env.service.readiness.check();
    assert.equal(report.ready, true, JSON.stringify(report.checks));
    assert.equal(report.checks.selfTest!.status, 'warn');
    assert.match(report.checks.selfTest!.detail!, new RegExp(`^the token refuses these versions, which are not published meanwhile: torn/${torn}: `));
    assert.equal((await decryptAs(env, USER, 'steady', steady, Buffer.from('y'))).status, 200);
    assert.equal((await env.http.get('/steady')).status, 200);
    await env.admin.setState('torn', torn, 'compromised', true);
    assert.equal((await env.service.readiness.check()).checks.selfTest!.status, 'pass');
  });

  it('a leased intent is left to its holder (reconcile counts it in progress); once its lease passed, it is finished and audited as taken over', async () => {
    const keyId = (await env.admin.create('held', { allow: ALLOW })).keyId;
    const leaseUntil = new Date(Date.now() + 60_000).toISOString();
    await env.service.store.change((tx) =>
      tx.beginIntent({ action: 'set-state', name: 'held', keyId, actor: 'someone', owner: 'gone-host:7', createdAt: new Date().toISOString(), leaseUntil, details: { from: 'active', to: 'compromised' } }),
    );
    assert.deepEqual(await env.admin.takeOverUnfinishedSteps(), []);
    const dryRun = await env.admin.reconcile(true);
    assert.deepEqual([dryRun.steps.length, dryRun.inProgress], [0, 1]);
    // Another instance whose clock has passed the lease (two minutes on).
    const later = new KeyAdmin({ store: env.service.store, vault: env.service.hsm.vault, audit: env.service.audit, actor: 'dke-service', owner: 'taker:1', now: () => new Date(Date.now() + 120_000) });
    const [taken] = await later.takeOverUnfinishedSteps();
    assert.equal(taken?.outcome, 'finished: CKA_DECRYPT cleared, state compromised');
    assert.equal(env.service.store.findKey('held')?.versions[0]?.state, 'compromised');
    assert.deepEqual(await env.service.store.pendingIntents(), []);
    const entry = (await env.service.audit.list()).filter((e) => e.action === 'reconcile' && e.keyId === keyId);
    assert.deepEqual(
      entry.map((e) => [e.actor, e.outcome, e.details]),
      [['dke-service', 'succeeded', { intent: 'set-state', intentActor: 'someone', takenOverBy: 'taker:1', takenOverFrom: 'gone-host:7', result: 'finished', from: 'active', to: 'compromised', decryptClearedInToken: true }]],
    );
  });
});
