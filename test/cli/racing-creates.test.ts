/**
 * Contract §3 (`dke keys create`) and §5 ("concurrent changes are serialised"), issue 17: three CLIs creating one
 * name at the same moment: exactly one succeeds with its --allow-user recorded, the others are refused with a
 * sentence, and no key pair of a loser is left in the token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'mocha';
import { CLI_PATH, type CliResult } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('issue 17: racing `dke keys create` of one name', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  for (let race = 1; race <= 3; race += 1) {
    it(`race ${race}: three CLIs at once → one created (its --allow-user kept), two refused, one key pair in the token`, async function () {
      this.timeout(60_000);
      const name = `raced-${race}`;
      const users = ['ann@contoso.dev', 'ben@contoso.dev', 'cat@contoso.dev'];
      const results = await Promise.all(users.map((user) => runCliAsync(['keys', 'create', name, '--allow-user', user, '--json'], env.cliEnv)));
      const winners = results.filter((r) => r.status === 0);
      const losers = results.filter((r) => r.status !== 0);
      assert.equal(winners.length, 1, results.map((r) => `${r.status} ${r.stderr}`).join(' | '));
      for (const loser of losers) {
        assert.equal(loser.status, 2);
        // Refused before touching the token: the winner is either still at work (its intent) or done (the name).
        const exists = `dke: The key name "${name}" exists already; use "dke keys rotate ${name}" for a new version.\n`;
        const pending = new RegExp(`^dke: An unfinished create of "${name}" \\(version [0-9a-f-]+, by .+ at .+\\) is pending; if that command died, run "dke keys reconcile".\n$`);
        assert.ok(loser.stderr === exists || pending.test(loser.stderr), loser.stderr);
      }
      const created = JSON.parse(winners[0]!.stdout) as { keyId: string };
      const winner = users[results.indexOf(winners[0]!)]!;
      const record = env.service.store.findKey(name)!;
      assert.deepEqual(record.versions.map((v) => v.keyId), [created.keyId]);
      assert.deepEqual(record.allow.users, [winner]);
      const inToken = (await env.service.hsm.vault.listKeyObjects()).filter((o) => o.ref.name === name);
      assert.deepEqual(inToken.map((o) => o.ref.keyId), [created.keyId]);
    });
  }
});
