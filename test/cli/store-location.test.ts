/**
 * Contract §2 (DKE_DATA_DIR) and §3, issue 16: the CLI never creates a store implicitly. A relative DKE_DATA_DIR read
 * from another folder is refused with the path it resolved to, instead of answering "No keys yet." from a new empty
 * store (issue 17's refusal); `--verbose` names the store on stderr.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('§3 the CLI names its store and never creates one behind the operator’s back (issue 16)', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let serviceFolder: string;
  let otherFolder: string;
  const relative = () => ({ ...env.cliEnv, DKE_DATA_DIR: './data' });

  before(async () => {
    env = await startTestEnv();
    // The service's store is env.dir/data: the service folder is env.dir, where ./data means the right store.
    serviceFolder = env.dir;
    otherFolder = join(env.dir, 'elsewhere');
    mkdirSync(otherFolder);
    await env.admin.create('located');
  });
  after(() => env?.close());

  it('keys list from another folder is refused with the resolved path, and no store appears there', () => {
    const result = runCli(['keys', 'list'], relative(), otherFolder);
    assert.equal(result.status, 2);
    // The refusal is issue 17's ("the store is created only on purpose"): it names the path DKE_DATA_DIR resolved to.
    assert.equal(
      result.stderr,
      `dke: There is no store at ${join(otherFolder, 'data', 'dke.sqlite')}. Create one with "dke store init" (or "dke keys create", "dke dev", "dke db migrate"); if it should exist, check that its volume is mounted.\n`,
    );
    assert.equal(result.stdout, '');
    assert.ok(!existsSync(join(otherFolder, 'data')), 'nothing was created');
    assert.equal(runCli(['audit'], relative(), otherFolder).status, 2, 'audit reads the store too');
  });

  it('keys create in a folder with no store says where it created one; a second create says nothing of it', () => {
    const fresh = join(env.dir, 'fresh');
    mkdirSync(fresh);
    const first = runCli(['keys', 'create', 'first-here'], relative(), fresh);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr, `dke: created a new key store at ${join(fresh, 'data', 'dke.sqlite')}\n`);
    const second = runCli(['keys', 'create', 'second-here'], relative(), fresh);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stderr, '');
  });

  it('--verbose names the store used on stderr; from the service folder the keys are there', () => {
    const result = runCli(['--verbose', 'keys', 'list'], relative(), serviceFolder);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, `dke: key store ${join(serviceFolder, 'data', 'dke.sqlite')}\n`);
    assert.match(result.stdout, /^located\n/);
    assert.equal(runCli(['keys', 'list'], relative(), serviceFolder).stderr, '', 'quiet without --verbose');
  });
});
