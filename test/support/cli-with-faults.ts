/**
 * The `dke` program of a test build, with issue 17's and 25's fault points, read here in the test build only and
 * installed through the composition root's test seam (production's entry point, src/cli.ts, has no such hook and
 * ignores the variables):
 * - DKE_FAULT_KILL_AFTER names an admin step (`create:intent`, `destroy:token`, ...): the command or service dies
 *   right after it, as a kill -9 would take it, so the tests can prove the reconcile. Its intents then carry a short
 *   lease (DKE_FAULT_LEASE_MS, default 100 ms), so a reconcile right after the kill finds the holder gone.
 * - DKE_FAULT_HOLD_AFTER names a step and DKE_FAULT_HOLD_FILE a path: right after the step the file is written and
 *   the step waits (the process keeps serving) until the test removes it, e.g. after stopping the database.
 * - DKE_FAULT_OWNER names the holder of this process's intents, as a command on another host would.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram } from '../../src/cli/program.js';
import { devCommand, devTokenCommand } from '../../src/dev/dev-command.js';
import { installTestSeams } from '../../src/main/test-seams.js';

const killAfter = process.env.DKE_FAULT_KILL_AFTER;
const holdAfter = process.env.DKE_FAULT_HOLD_AFTER;
const holdFile = process.env.DKE_FAULT_HOLD_FILE;
const leaseMs = process.env.DKE_FAULT_LEASE_MS;
const owner = process.env.DKE_FAULT_OWNER;

async function hold(file: string): Promise<void> {
  writeFileSync(file, `${process.pid}\n`);
  while (existsSync(file)) await sleep(10);
}

if ((killAfter !== undefined && killAfter !== '') || (holdAfter !== undefined && holdFile !== undefined)) {
  installTestSeams({
    afterAdminStep: (step) => {
      if (step === killAfter) process.kill(process.pid, 'SIGKILL');
      return step === holdAfter && holdFile !== undefined ? hold(holdFile) : undefined;
    },
    ...(leaseMs !== undefined ? { intentLeaseMs: Number(leaseMs) } : killAfter !== undefined && killAfter !== '' ? { intentLeaseMs: 100 } : {}),
    ...(owner !== undefined ? { owner } : {}),
  });
}
void runProgram(process.argv, [devCommand(), devTokenCommand()]);
