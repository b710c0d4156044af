/**
 * Contract §2 (every setting is a production setting) and issue 17's fault point: DKE_FAULT_KILL_AFTER is no setting
 * of the service. Production's `dke` (src/cli.ts, built as dist/cli.js) ignores the variable and never kills itself;
 * only the test build's own entry point (test/support/cli-with-faults.ts) installs the hook, through the composition
 * root's test seam (src/main/test-seams.ts), and dies right after the named step.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { SETTING_NAMES } from '../../src/config/settings.js';
import { CLI_PATH, CLI_WITH_FAULTS_PATH, runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('issue 17 fault point: only in the test build, never a production setting', () => {
  it('the configuration neither declares nor reads DKE_FAULT_KILL_AFTER; a settings file naming it is refused', () => {
    assert.equal((SETTING_NAMES as readonly string[]).includes('DKE_FAULT_KILL_AFTER'), false);
    const config = loadConfig({ DKE_FAULT_KILL_AFTER: 'create:intent' });
    assert.equal(JSON.stringify(config).includes('create:intent'), false, 'the variable reached the configuration');
    const dir = mkdtempSync(join(tmpdir(), 'dke-fault-config-'));
    try {
      writeFileSync(join(dir, 'local.json'), JSON.stringify({ DKE_FAULT_KILL_AFTER: 'create:intent' }));
      assert.throws(() => loadConfig({}, dir), (error: unknown) => error instanceof ConfigError && /unknown setting DKE_FAULT_KILL_AFTER/.test(error.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the real processes', () => {
    let env: TestEnv;
    before(async () => {
      env = await startTestEnv();
    });
    after(() => env?.close());

    it('production `dke keys create` with DKE_FAULT_KILL_AFTER set finishes (exit 0, no signal); the test entry dies at the step', () => {
      const production = runCli(['keys', 'create', 'not-killed'], { ...env.cliEnv, DKE_FAULT_KILL_AFTER: 'create:intent' }, undefined, CLI_PATH);
      assert.deepEqual([production.status, production.signal], [0, null], production.stderr);
      assert.equal(runCli(['keys', 'show', 'not-killed'], env.cliEnv).status, 0);
      const faulty = runCli(['keys', 'create', 'killed'], { ...env.cliEnv, DKE_FAULT_KILL_AFTER: 'create:intent' }, undefined, CLI_WITH_FAULTS_PATH);
      assert.equal(faulty.signal, 'SIGKILL', `${faulty.status} ${faulty.stderr}`);
    });
  });
});
