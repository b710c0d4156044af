import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { anyFailed, type DoctorCheck } from '../doctor/checks.js';
import { AdminRefused } from '../app/admin-vocabulary.js';
import { EXIT_CHECKS_FAILED } from './exit-codes.js';
import { print } from './output.js';

/** `dke doctor URL [--token TOKEN | --token-file FILE] [--json]` (contract §3, §8). Exit 0 only when nothing failed, else 5. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description("check a deployment from the outside, as Office does, and say how to fix what fails")
    .argument('<url>', "the sensitivity label's URL, e.g. https://dke.contoso.com/mykey")
    .option('--token <token>', 'an access token for the service (a user of the tenant), to check its claims and a decrypt')
    .option('--token-file <file>', 'read the access token from a file (keeps it out of the shell history)')
    .option('--json', 'print JSON')
    .action(async (url: string, options: { token?: string; tokenFile?: string; json?: boolean }) => {
      if (options.token !== undefined && options.tokenFile !== undefined) throw new AdminRefused('Give --token or --token-file, not both.');
      const token = options.tokenFile !== undefined ? readToken(options.tokenFile) : options.token?.trim();
      // Loaded when used: its HTTP client and TLS probes cost every other command's start nothing.
      const { runDoctor } = await import('../doctor/run-doctor.js');
      const checks = await runDoctor({ url, ...(token ? { token } : {}) });
      print(options.json === true, { checks }, () => doctorTable(checks));
      if (anyFailed(checks)) process.exitCode = EXIT_CHECKS_FAILED;
    });
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().replace(/^Bearer\s+/i, '');
  } catch {
    throw new AdminRefused(`The token file ${file} cannot be read.`);
  }
}

/** A short table: status, check, what was seen; the fix under each warning or failure; a one-line verdict. */
export function doctorTable(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length), 5);
  const lines = checks.map((c) => {
    const line = `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
    return c.fix === null ? line : `${line}\n${' '.repeat(width + 8)}fix: ${c.fix}`;
  });
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  const verdict =
    failed > 0
      ? `${failed} check(s) failed${warned ? `, ${warned} warning(s)` : ''}: Office cannot use this deployment until they are fixed.`
      : `All checks passed${warned ? ` with ${warned} warning(s)` : ''}.`;
  return `${lines.join('\n')}\n${verdict}`;
}
