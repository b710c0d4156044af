/**
 * Issue 17 (`dke store backup`, `dke store restore`; contract §4: a Compromised version never decrypts again): a
 * backup taken while the service runs, then a compromise, a grant and a rotation; restoring the older backup is
 * refused without --force, and with it every change the trail recorded after the backup is re-applied and every
 * entry kept, so the compromised version stays Compromised and `dke audit verify` passes.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

describe('issue 17: store backup and restore after a compromise', () => {
  let env: TestEnv;
  let dir: string;
  let first: string;
  let backup: string;
  // A fresh service and store for each test, so that each holds when run alone or in any order.
  beforeEach(async () => {
    env = await startTestEnv();
    dir = env.dir;
    backup = join(dir, 'backup.sqlite');
    first = (await env.admin.create('restored', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
  });
  afterEach(async () => {
    await env?.service.close().catch(() => undefined);
    await env?.issuer.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A backup while serving, then compromise + grant + rotate, then the service stops; the backup's and the trail's last seq. */
  async function backupThenChange(): Promise<{ backedUp: number; head: number }> {
    const made = runCli(['store', 'backup', backup, '--json'], env.cliEnv);
    assert.equal(made.status, 0, made.stderr);
    const backedUp = (JSON.parse(made.stdout) as { auditHead: { seq: number } }).auditHead.seq;
    assert.equal(runCli(['keys', 'set-state', 'restored', first, 'compromised', '--yes'], env.cliEnv).status, 0);
    assert.equal(runCli(['keys', 'grant', 'restored', '--user', 'eve@contoso.dev'], env.cliEnv).status, 0);
    assert.equal(runCli(['keys', 'rotate', 'restored'], env.cliEnv).status, 0);
    const head = (await env.service.audit.verify()).head.seq;
    await env.service.close();
    await env.issuer.stop();
    return { backedUp, head };
  }

  it('backup while serving, then compromise + grant + rotate; restore refused without --force', async function () {
    this.timeout(60_000);
    const { backedUp, head } = await backupThenChange();
    const refused = runCli(['store', 'restore', backup], env.cliEnv);
    assert.equal(refused.status, 2);
    assert.equal(
      refused.stderr,
      `dke: The backup ends at audit entry ${backedUp}, the store's trail at ${head}: restoring it would hide ${head - backedUp} entries. Restore with --force: the changes they record are re-applied and the entries kept.\n`,
    );
  });

  it('--force: the compromised version stays Compromised, the grant and the rotation are back, the chain verifies', async function () {
    this.timeout(60_000);
    // Its own backup and the changes after it, so that the test holds when run alone or in any order.
    await backupThenChange();
    const forced = runCli(['store', 'restore', backup, '--force', '--json'], env.cliEnv);
    assert.equal(forced.status, 0, forced.stderr);
    const result = JSON.parse(forced.stdout) as { entriesCarried: number; changesReapplied: number; changesSkipped: number };
    assert.equal(result.entriesCarried, 3);
    assert.equal(result.changesReapplied, 3);
    assert.equal(result.changesSkipped, 0);
    env = await startTestEnv({ dir });
    const record = env.service.store.findKey('restored')!;
    assert.equal(record.versions.find((v) => v.keyId === first)!.state, 'compromised');
    assert.equal(record.versions.length, 2);
    assert.notEqual(record.publishedKeyId, first);
    assert.deepEqual(record.allow.users, [USER, 'eve@contoso.dev']);
    const res = await decryptAs(env, USER, 'restored', first, Buffer.from('old document'));
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'key_not_usable');
    const actions = (await env.service.audit.list()).map((e) => e.action);
    assert.deepEqual(actions.slice(-6), ['store-backup', 'set-state', 'grant', 'rotate', 'store-restore', 'decrypt']);
    const verify = runCli(['audit', 'verify', '--json'], env.cliEnv);
    assert.equal(verify.status, 0, verify.stdout);
  });
});
