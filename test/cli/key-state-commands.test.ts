/**
 * Contract §3 `dke keys enable|disable|grant|revoke|set-state|rotate|attest` and `dke audit [verify]`
 * (src/cli/key-state-commands.ts, src/cli/audit-commands.ts) as a real process beside the running service: exit codes,
 * sentences and JSON shapes, and each change applies to the service's next request. Behaviour: test/app/key-admin.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'mocha';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

describe('§3 dke keys lifecycle commands and dke audit (real CLI process, running service)', () => {
  let env: TestEnv;
  let keyId: string;
  const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'admin@contoso.dev' });

  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('cli-life', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
  });
  after(() => env?.close());

  it('disable and enable take effect on the service\'s very next request', async () => {
    assert.equal((await decryptAs(env, USER, 'cli-life', keyId, Buffer.from('a'))).status, 200);
    const disabled = cli('keys', 'disable', 'cli-life', keyId);
    assert.equal(disabled.status, 0, disabled.stderr);
    // The served version: the CLI adds contract §4's sentence on cached public keys (test/cli/cached-key-notice.test.ts).
    assert.match(disabled.stdout, new RegExp(`^cli-life version ${keyId} is now disabled \\(state active\\)\\.\\nOpening documents protected with cli-life version ${keyId} stops at once, `));
    assert.equal((await decryptAs(env, USER, 'cli-life', keyId, Buffer.from('b'))).status, 403);
    await env.http.get('/cli-life').expect(404);
    assert.equal(cli('keys', 'enable', 'cli-life', keyId, '--json').status, 0);
    assert.equal((await decryptAs(env, USER, 'cli-life', keyId, Buffer.from('c'))).status, 200);
  });

  it('grant and revoke change who may decrypt on the next request', async () => {
    assert.equal((await decryptAs(env, USER.replace('alice', 'bob'), 'cli-life', keyId, Buffer.from('d'))).status, 403);
    const granted = cli('keys', 'grant', 'cli-life', '--user', 'Bob@Contoso.dev');
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal(granted.stdout, 'Granted user Bob@Contoso.dev on cli-life.\n');
    assert.equal((await decryptAs(env, 'bob@contoso.dev', 'cli-life', keyId, Buffer.from('e'))).status, 200);
    assert.equal(cli('keys', 'revoke', 'cli-life', '--user', 'bob@contoso.dev').status, 0);
    assert.equal((await decryptAs(env, 'bob@contoso.dev', 'cli-life', keyId, Buffer.from('f'))).status, 403);
    // Several entries at once: test/cli/grant-options.test.ts. None is a refusal.
    const none = cli('keys', 'grant', 'cli-life');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /at least one --user, --group or --role/);
  });

  it('a permanent step without --yes prints the impact preview, exits 3 and changes nothing', async () => {
    // Its own key and its own decrypts (three, by two users) for the preview to count, so that the test holds when
    // run alone or in any order.
    const own = (await env.admin.create('cli-preview', { allow: { users: [USER, 'bob@contoso.dev'], groups: [], roles: [] } })).keyId;
    for (const [user, text] of [[USER, 'g1'], [USER, 'g2'], ['bob@contoso.dev', 'g3']] as const) {
      assert.equal((await decryptAs(env, user, 'cli-preview', own, Buffer.from(text))).status, 200);
    }
    const result = cli('keys', 'set-state', 'cli-preview', own, 'deactivated', '--json');
    assert.equal(result.status, 3, result.stderr);
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.applied, false);
    assert.equal(printed.preview.usage.decrypts, 3, 'exactly its own three decrypts');
    assert.equal(printed.preview.usage.distinctUsers, 2);
    assert.equal((await decryptAs(env, USER, 'cli-preview', own, Buffer.from('g'))).status, 200);
    const text = cli('keys', 'delete', 'cli-preview', own);
    assert.equal(text.status, 3);
    assert.match(text.stdout, /Nothing was changed\. To go ahead: dke keys delete cli-preview .* --yes/);
  });

  it('issue 18: --user takes an oid or a member UPN; a guest #EXT# name is refused (exit 2) with the way to grant guests', async () => {
    const oid = '5A6B7C8D-0000-4000-8000-00000000609E';
    assert.equal(cli('keys', 'grant', 'cli-life', '--user', oid).status, 0);
    const guestToken = await env.token({ upn: 'gina_fabrikam.example#EXT#@contoso.dev', oid: oid.toLowerCase(), extraClaims: { idp: 'https://sts.windows.net/72f988bf-0000-4000-8000-000000000001/' } });
    const value = encryptLikeOffice(await versionJwk(env, 'cli-life', keyId), Buffer.from('o'));
    const res = await env.http.post(`/cli-life/${keyId}/decrypt`).set('Content-Type', 'application/json').set('Authorization', `Bearer ${guestToken}`).send(JSON.stringify({ alg: 'RSA-OAEP-256', value }));
    assert.equal(res.status, 200);
    const refused = cli('keys', 'grant', 'cli-life', '--user', 'gina_fabrikam.example#EXT#@contoso.dev');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /allow guests by their object id \(oid/);
    const created = cli('keys', 'create', 'cli-guest', '--allow-user', 'live.com#gina@outlook.example');
    assert.equal(created.status, 2);
    assert.match(created.stderr, /allow guests by their object id/);
    assert.equal(cli('keys', 'show', 'cli-guest').status, 2, 'nothing was created');
  });

  it('rotate, set-state --yes and attest --json work as contract §3 shapes them', async () => {
    const rotated = JSON.parse(cli('keys', 'rotate', 'cli-life', '--json').stdout);
    assert.deepEqual(Object.keys(rotated), ['name', 'keyId', 'state', 'enabled']);
    const deactivated = cli('keys', 'set-state', 'cli-life', keyId, 'Deactivated', '--yes');
    assert.equal(deactivated.status, 0, deactivated.stderr);
    assert.match(deactivated.stdout, /is now Deactivated\. CKA_DECRYPT is now cleared in the token too\./);
    assert.equal((await decryptAs(env, USER, 'cli-life', keyId, Buffer.from('h'))).status, 403);
    const attest = JSON.parse(cli('keys', 'attest', 'cli-life', '--json').stdout);
    assert.equal(attest.name, 'cli-life');
    assert.deepEqual(attest.versions.map((v: { verdict: string }) => v.verdict), ['hsm-born-never-extractable', 'hsm-born-never-extractable']);
    for (const field of ['keyId', 'sensitive', 'alwaysSensitive', 'extractable', 'neverExtractable', 'local', 'modulusBits', 'verdict', 'origin']) {
      assert.ok(field in attest.versions[0], field);
    }
    const refused = cli('keys', 'set-state', 'cli-life', keyId, 'active', '--yes');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /cannot become Active; allowed from Deactivated: Compromised\./);
  });

  it('dke audit lists who did what, and dke audit verify checks the chain', async () => {
    // The disable, the allowed decrypt and the attest it looks for are made here, on its own key, so that the test
    // holds when run alone or in any order.
    const own = (await env.admin.create('cli-audited', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    assert.equal((await decryptAs(env, USER, 'cli-audited', own, Buffer.from('i'))).status, 200);
    assert.equal(cli('keys', 'disable', 'cli-audited', own).status, 0);
    assert.equal(cli('keys', 'enable', 'cli-audited', own).status, 0);
    assert.equal(cli('keys', 'attest', 'cli-audited').status, 0);
    const entries = JSON.parse(cli('audit', '--json').stdout) as { actor: string; action: string; outcome: string }[];
    assert.ok(entries.some((e) => e.actor === 'admin@contoso.dev' && e.action === 'disable'));
    assert.ok(entries.some((e) => e.action === 'decrypt' && e.outcome === 'allowed'));
    assert.ok(!entries.some((e) => e.action === 'attest'), 'attest is a read: it writes no entry (issue 27)');
    const recent = JSON.parse(cli('audit', '--since', '1h', '--json').stdout) as unknown[];
    assert.equal(recent.length, entries.length, 'reading the trail writes no entry (issue 27)');
    const future = JSON.parse(cli('audit', '--since', '2999-01-01T00:00:00Z', '--json').stdout) as unknown[];
    assert.equal(future.length, 0);
    const verify = cli('audit', 'verify');
    assert.equal(verify.status, 0);
    assert.match(verify.stdout, /intact: \d+ entries chained/);
    const recorded = JSON.parse(cli('audit', '--json').stdout) as { actor: string; action: string; outcome: string }[];
    assert.deepEqual(recorded, entries, 'issue 27: attest, reading and verifying the trail are reads, and write no entry');
    const badSince = cli('audit', '--since', 'yesterday-ish');
    assert.equal(badSince.status, 2);
    assert.equal(badSince.stderr, 'dke: --since takes an ISO time (2026-11-01T00:00:00Z) or a span such as 24h or 30d, not "yesterday-ish".\n');
  });

  it('dke audit verify exits 4 and names the first broken entry when an entry was edited', () => {
    assert.equal(cli('audit', 'verify').status, 0, 'intact, and the verification itself is an entry');
    const db = new Database(join(env.config.dataDir, 'dke.sqlite'));
    try {
      const { seq, entry } = db.prepare('SELECT seq, entry FROM audit ORDER BY seq LIMIT 1').get() as { seq: number; entry: string };
      db.prepare('UPDATE audit SET entry = ? WHERE seq = ?').run(entry.replace('"outcome":"', '"outcome":"x'), seq);
      const broken = cli('audit', 'verify');
      assert.equal(broken.status, 4);
      assert.equal(broken.stdout, `The audit trail is BROKEN at entry ${seq}: entry ${seq} was altered.\n`);
      db.prepare('UPDATE audit SET entry = ? WHERE seq = ?').run(entry, seq);
    } finally {
      db.close();
    }
    assert.equal(cli('audit', 'verify').status, 0, 'intact again once restored');
  });
});
