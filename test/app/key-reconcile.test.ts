/**
 * Issue 17 (contract §3 admin commands, §4 states): a `dke` command killed (SIGKILL, at DKE_FAULT_KILL_AFTER of the
 * test build's entry point test/support/cli-with-faults.ts) right after each step of create, rotate, set-state and
 * delete leaves an intent; `dke keys reconcile --dry-run`
 * lists it (and token objects no record knows), `dke keys reconcile` rolls back or finishes it, audited, so that
 * no orphan key pair stays in the token, no Compromised version keeps CKA_DECRYPT, no Destroyed one keeps its
 * objects, and the audit chain verifies. Real CLI processes on the real NSS token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { CLI_PATH, CLI_WITH_FAULTS_PATH, runCli } from '../support/run-cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';

interface Report {
  dryRun: boolean;
  steps: { action: string; name: string; keyId: string; resolution: string; outcome?: string }[];
  unknownObjects: { name: string; keyId: string }[];
  missingPrivateKeys: { name: string; keyId: string }[];
}

describe('issue 17: a CLI killed at each step of a token operation, then dke keys reconcile', () => {
  let env: TestEnv;
  before(async () => {
    // The in-process service's scheduler runs only at its start: on its 30 s timer it would reconcile a killed CLI's
    // step itself, before the `dke serve` test's instance could (its timer won that race under load).
    env = await startTestEnv({ service: { schedulerIntervalMs: 3_600_000, takeoverIntervalMs: 3_600_000 } });
  });
  after(() => env?.close());

  const killedAt = (step: string, args: string[]): void => {
    const result = runCli(args, { ...env.cliEnv, DKE_FAULT_KILL_AFTER: step }, undefined, CLI_WITH_FAULTS_PATH);
    assert.equal(result.signal, 'SIGKILL', `${args.join(' ')} died at ${step}: ${result.status} ${result.stderr}`);
  };
  const reconcile = (dryRun: boolean): Report => {
    const result = runCli(['keys', 'reconcile', ...(dryRun ? ['--dry-run'] : []), '--json'], env.cliEnv);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as Report;
  };
  const inToken = async (name: string): Promise<string[]> =>
    (await env.service.hsm.vault.listKeyObjects()).filter((o) => o.ref.name === name).map((o) => o.ref.keyId);
  const stateOf = (name: string, keyId: string): string | undefined => env.service.store.findKey(name)?.versions.find((v) => v.keyId === keyId)?.state;

  for (const step of ['create:intent', 'create:token'] as const) {
    it(`create killed after ${step.split(':')[1]}: a pending create blocks the name; reconcile rolls it back, no key pair left`, async () => {
      const name = `killed-${step.replace(':', '-')}`;
      killedAt(step, ['keys', 'create', name, '--allow-user', USER]);
      const blocked = runCli(['keys', 'create', name], env.cliEnv);
      assert.equal(blocked.status, 2);
      assert.match(blocked.stderr, new RegExp(`^dke: An unfinished create of "${name}" \\(version [0-9a-f-]+, by .+ at .+\\) is pending; if that command died, run "dke keys reconcile".\\n$`));
      const plan = reconcile(true);
      assert.deepEqual(plan.steps.map((s) => [s.action, s.name, s.resolution, s.outcome]), [['create', name, 'roll back', undefined]]);
      const orphan = plan.steps[0]!.keyId;
      assert.deepEqual(plan.unknownObjects, step === 'create:token' ? [{ name, keyId: orphan }] : []);
      assert.deepEqual(await inToken(name), step === 'create:token' ? [orphan] : [], 'the dry run changed nothing');
      const done = reconcile(false);
      assert.deepEqual(done.steps.map((s) => s.outcome), [step === 'create:token' ? 'rolled back: the orphan key pair was destroyed' : 'rolled back: no key pair had been made']);
      assert.deepEqual(done.unknownObjects, []);
      assert.deepEqual(await inToken(name), []);
      assert.equal(env.service.store.findKey(name), undefined);
      assert.equal(runCli(['keys', 'create', name], env.cliEnv).status, 0, 'the name is free again');
      assert.deepEqual(reconcile(true).steps, []);
    });
  }

  it('rotate killed after the key pair: reconcile destroys the orphan, the key keeps its one version', async () => {
    const { keyId } = await env.admin.create('rotated', { allow: { users: [USER], groups: [], roles: [] } });
    killedAt('rotate:token', ['keys', 'rotate', 'rotated']);
    const done = reconcile(false);
    assert.deepEqual(done.steps.map((s) => [s.action, s.outcome]), [['rotate', 'rolled back: the orphan key pair was destroyed']]);
    assert.deepEqual(await inToken('rotated'), [keyId]);
    assert.deepEqual(env.service.store.findKey('rotated')!.versions.map((v) => v.keyId), [keyId]);
  });

  for (const step of ['set-state:intent', 'set-state:token'] as const) {
    it(`set-state compromised killed after ${step.split(':')[1]}: reconcile clears CKA_DECRYPT and records Compromised`, async () => {
      const name = `compromised-${step.split(':')[1]}`;
      const { keyId } = await env.admin.create(name, { allow: { users: [USER], groups: [], roles: [] } });
      killedAt(step, ['keys', 'set-state', name, keyId, 'compromised', '--yes']);
      assert.equal(stateOf(name, keyId), 'active', 'the state is written only with the step finished');
      const done = reconcile(false);
      assert.deepEqual(done.steps.map((s) => [s.action, s.resolution, s.outcome]), [['set-state', 'finish', 'finished: CKA_DECRYPT cleared, state compromised']]);
      assert.equal(stateOf(name, keyId), 'compromised');
      const evidence = await env.service.hsm.vault.attest({ name, keyId });
      assert.equal(evidence.operations.includes('decrypt'), false, 'CKA_DECRYPT is cleared in the token');
      const entry = (await env.service.audit.list()).filter((e) => e.action === 'reconcile' && e.keyId === keyId).at(-1)!;
      assert.deepEqual(
        { result: entry.details!.result, intent: entry.details!.intent, from: entry.details!.from, to: entry.details!.to },
        { result: 'finished', intent: 'set-state', from: 'active', to: 'compromised' },
      );
    });
  }

  for (const step of ['delete:intent', 'delete:token'] as const) {
    it(`delete killed after ${step.split(':')[1]}: reconcile destroys the objects and records Destroyed`, async () => {
      const name = `deleted-${step.split(':')[1]}`;
      const { keyId } = await env.admin.create(name, { allow: { users: [USER], groups: [], roles: [] } });
      killedAt(step, ['keys', 'delete', name, keyId, '--yes']);
      assert.deepEqual(await inToken(name), step === 'delete:intent' ? [keyId] : []);
      const done = reconcile(false);
      assert.deepEqual(done.steps.map((s) => [s.action, s.outcome]), [['delete', `finished: ${step === 'delete:intent' ? 'objects destroyed' : 'no object left to destroy'}, state destroyed`]]);
      assert.equal(stateOf(name, keyId), 'destroyed');
      assert.deepEqual(await inToken(name), []);
    });
  }

  it('the service finishes an unfinished step at start: delete killed after the token step, then dke serve', async function () {
    this.timeout(30_000);
    const { keyId } = await env.admin.create('deleted-at-start', { allow: { users: [USER], groups: [], roles: [] } });
    killedAt('delete:token', ['keys', 'delete', 'deleted-at-start', keyId, '--yes']);
    assert.equal(stateOf('deleted-at-start', keyId), 'active');
    const serve = await startServeProcess([CLI_PATH, 'serve'], { ...env.cliEnv, DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_LOG_LEVEL: 'info' });
    try {
      const line = serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'unfinished admin step reconciled');
      assert.deepEqual({ action: line?.action, key: line?.key, outcome: line?.outcome }, { action: 'delete', key: `deleted-at-start/${keyId}`, outcome: 'finished: no object left to destroy, state destroyed' });
    } finally {
      await serve.stop();
    }
    assert.equal(stateOf('deleted-at-start', keyId), 'destroyed');
    assert.deepEqual(reconcile(true).steps, []);
  });

  it('after every kill and reconcile: the audit chain verifies and readiness passes', async () => {
    const verify = runCli(['audit', 'verify', '--json'], env.cliEnv);
    assert.equal(verify.status, 0, verify.stdout);
    const report = await env.service.readiness.check();
    assert.equal(report.checks.keyRecords!.status, 'pass', report.checks.keyRecords!.detail);
  });
});
