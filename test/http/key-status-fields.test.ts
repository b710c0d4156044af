// Issue 27 "one effective status per key and version": the admin API's key list and show, and `dke keys list|show`
// (text and --json), carry the status the service computes (src/keys/effective-status.ts) and the next rotation; the
// list also the decrypts of the last 7 days with refusals by reason. The impact preview of a delete within the
// deletion window says until when it is cancellable; GET /admin/api/policy names what the console's confirmations
// need. Each status is checked against what the DKE port answers: a key is "serving" exactly when GET /{name} is 200.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import type { KeyView } from '../../src/app/admin-shapes.js';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { destroyPrivateOnly } from '../support/token-objects.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const WEEK_MS = 7 * 86_400_000;

describe('issue 27: effective status, next rotation and recent decrypts in the admin API and dke keys', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let auditor: string;
  const keyIds: Record<string, string> = {};
  const api = (path: string) => supertest(env.service.adminApp).get(`/admin/api${path}`).set('Authorization', `Bearer ${auditor}`);
  const listed = async (): Promise<Map<string, KeyView>> => new Map(((await api('/keys').expect(200)).body as KeyView[]).map((k) => [k.name, k]));

  before(async () => {
    env = await startTestEnv({ settings: { DKE_DELETION_WINDOW: '7d' } });
    auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const allow = { users: [USER], groups: [], roles: [] };
    for (const name of ['serving-key', 'disabled-key', 'pending-key', 'compromised-key', 'missing-key']) keyIds[name] = (await env.admin.create(name, { allow })).keyId;
    await env.admin.setEnabled('disabled-key', keyIds['disabled-key']!, false);
    await env.admin.delete('pending-key', keyIds['pending-key']!, true);
    await env.admin.setState('compromised-key', keyIds['compromised-key']!, 'compromised', true);
    await destroyPrivateOnly(env, 'missing-key', keyIds['missing-key']!);
    // What the service's background recheck does every few seconds.
    await env.service.protocol.recheckPrivateKeys();
    await env.admin.setRotation('serving-key', '90d');
    for (const upn of [USER, USER, 'mallory@contoso.dev']) await decryptAs(env, upn, 'serving-key', keyIds['serving-key']!, Buffer.from('x'));
    await decryptAs(env, USER, 'disabled-key', keyIds['disabled-key']!, Buffer.from('x'));
  });
  after(() => env?.close());

  it('each key has the status of its published version, and "serving" exactly when GET /{name} answers 200', async () => {
    const keys = await listed();
    const pending = (await env.admin.show('pending-key')).versions[0]!.deletion!.destroyAt;
    assert.deepEqual(
      [...keys.values()].map((k) => [k.name, k.status, k.statusUntil]),
      [
        ['compromised-key', 'compromised', undefined],
        ['disabled-key', 'blocked', undefined],
        ['missing-key', 'not-in-hsm', undefined],
        ['pending-key', 'pending-deletion', pending],
        ['serving-key', 'serving', undefined],
      ],
    );
    for (const key of keys.values()) await env.http.get(`/${key.name}`).expect(key.status === 'serving' ? 200 : 404);
    // Each version carries its own, and show answers what list does.
    const shown = (await api('/keys/pending-key').expect(200)).body as KeyView;
    assert.deepEqual(
      shown.versions.map((v) => [v.status, v.statusUntil, v.state, v.enabled]),
      [['pending-deletion', pending, 'active', true]],
    );
    const { recentDecrypts, ...listedWithoutDecrypts } = keys.get('pending-key')!;
    assert.deepEqual(recentDecrypts, { days: 7, allowed: 0, refused: 0, refusedByReason: {} });
    assert.deepEqual(shown, listedWithoutDecrypts, 'show answers what list does, but for the decrypt counts (the key page has its chart)');
  });

  it('the next rotation date and the decrypts of the last 7 days, with refusals by reason', async () => {
    const key = (await listed()).get('serving-key')!;
    const created = Date.parse(key.versions[0]!.createdAt);
    assert.deepEqual(key.rotation, { every: '90d', nextAt: new Date(created + 90 * 86_400_000).toISOString() });
    assert.deepEqual(key.recentDecrypts, { days: 7, allowed: 2, refused: 1, refusedByReason: { access_denied: 1 } });
    assert.deepEqual((await listed()).get('disabled-key')!.recentDecrypts, { days: 7, allowed: 0, refused: 1, refusedByReason: { key_not_usable: 1 } });
  });

  it('during the emergency block no key is serving, and each comes back as it was once it is lifted', async () => {
    await env.admin.setEmergencyBlock(true);
    try {
      const keys = await listed();
      assert.equal(keys.get('serving-key')!.status, 'emergency-block');
      assert.equal(keys.get('serving-key')!.versions[0]!.status, 'emergency-block');
      // A version's own, lasting reason stays in front.
      assert.equal(keys.get('disabled-key')!.status, 'blocked');
      await env.http.get('/serving-key').expect(404);
    } finally {
      await env.admin.setEmergencyBlock(false);
    }
    assert.equal((await listed()).get('serving-key')!.status, 'serving');
  });

  it('the impact preview of a delete within the window says until when it is cancellable, not "cannot be undone"; the policy names the window', async () => {
    const before = Date.now();
    const preview = (await api(`/keys/serving-key/versions/${keyIds['serving-key']}/impact?to=destroyed`).expect(200)).body as { effect: string; cancellableUntil: string };
    const until = Date.parse(preview.cancellableUntil);
    assert.ok(until >= before + WEEK_MS && until <= Date.now() + WEEK_MS, preview.cancellableUntil);
    assert.equal(
      preview.effect,
      `Active → Destroyed: the version stops decrypting and being published at once, and the delete is cancellable until ${preview.cancellableUntil}, when its private key is destroyed in the HSM.`,
    );
    // Contract §10's shape, as the store keeps it (seeded from this instance's settings when the store got it).
    assert.deepEqual((await api('/policy').expect(200)).body, {
      approvalsRequired: 1,
      deletionWindow: { default: '7d', minimum: '0s' },
      rotationMinimum: '1d',
      appOnlyMayApprove: false,
      deletionWindowMs: WEEK_MS,
    });
  });

  it('dke keys list --json and dke keys show print the same statuses (the CLI does not ask the token: "where known")', async () => {
    const list = runCli(['keys', 'list', '--json'], env.cliEnv);
    assert.equal(list.status, 0, list.stderr);
    const printed = new Map((JSON.parse(list.stdout) as KeyView[]).map((k) => [k.name, k.status]));
    assert.deepEqual(Object.fromEntries(printed), { 'serving-key': 'serving', 'disabled-key': 'blocked', 'pending-key': 'pending-deletion', 'compromised-key': 'compromised', 'missing-key': 'serving' });
    const shown = runCli(['keys', 'show', 'pending-key'], env.cliEnv);
    assert.equal(shown.status, 0, shown.stderr);
    const destroyAt = (await env.admin.show('pending-key')).versions[0]!.deletion!.destroyAt;
    const until = `${destroyAt.slice(0, 10)} ${destroyAt.slice(11, 16)} UTC`;
    assert.match(shown.stdout, new RegExp(`^pending-key\\n status: Pending deletion until ${until}\\n allowed:\\n`));
    assert.match(shown.stdout, new RegExp(`\\* ${keyIds['pending-key']}  Active {6}enabled .* status: Pending deletion until ${until}  DELETION SCHEDULED`));
    const listedText = runCli(['keys', 'list'], env.cliEnv).stdout;
    assert.match(listedText, /\nserving-key\n status: Serving\n decrypts, last 7 days: 2 allowed, 1 refused \(access_denied 1\)\n/);
    const serving = runCli(['keys', 'show', 'serving-key'], env.cliEnv).stdout;
    assert.match(serving, /\n rotation: every 90d, next at \d{4}-\d\d-\d\dT[\d:.]+Z\n/);
  });
});
