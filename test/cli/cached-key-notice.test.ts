/**
 * Contract §4 ("clients that fetched the public key keep protecting with it until their cache.exp, and the CLI and
 * API say so") and §3, issue 16: disabling or retiring the published version prints that sentence; blocking a version
 * that is not served does not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { cachedPublicKeyNotice } from '../../src/app/cached-public-key-notice.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const notice = (name: string, keyId: string) =>
  `Opening documents protected with ${name} version ${keyId} stops at once, but Office clients that fetched its public key keep protecting new documents with it until their cache.exp (up to 6 h after their last fetch), and those documents will not open while this version stays blocked.`;

describe('§4 the CLI says that cached public keys keep protecting after a block (issue 16)', function () {
  this.timeout(30_000);
  let env: TestEnv;
  const cli = (...args: string[]) => runCli(args, { ...env.cliEnv, DKE_PUBLIC_KEY_CACHE_HOURS: '6' });

  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  it('disable of the published version says it; disabling an older, unpublished version does not', async () => {
    const first = (await env.admin.create('noticed')).keyId;
    const second = (await env.admin.rotate('noticed')).keyId;
    const older = cli('keys', 'disable', 'noticed', first);
    assert.equal(older.status, 0, older.stderr);
    assert.equal(older.stdout, `noticed version ${first} is now disabled (state active).\n`);
    const published = cli('keys', 'disable', 'noticed', second);
    assert.equal(published.stdout, `noticed version ${second} is now disabled (state active).\n${notice('noticed', second)}\n`);
    assert.equal(cli('keys', 'enable', 'noticed', second).status, 0);
    assert.equal(JSON.parse(cli('keys', 'disable', 'noticed', second, '--json').stdout).notice, notice('noticed', second));
  });

  it('deactivate, compromise and delete of the published version say it', async () => {
    for (const [index, step] of [['set-state', 'deactivated'], ['set-state', 'compromised'], ['delete']].entries()) {
      const name = `retired-${index}`;
      const { keyId } = await env.admin.create(name);
      const result = step[0] === 'delete' ? cli('keys', 'delete', name, keyId, '--yes') : cli('keys', 'set-state', name, keyId, step[1]!, '--yes');
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.stdout.endsWith(`\n${notice(name, keyId)}\n`), `${step.join(' ')}: ${result.stdout}`);
    }
  });

  it('no cache part (DKE_PUBLIC_KEY_CACHE_HOURS=0), no notice', () => {
    assert.equal(cachedPublicKeyNotice('k', 'v', 0), undefined);
  });
});
