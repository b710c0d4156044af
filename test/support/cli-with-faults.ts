/**
 * The `dke` program of a test build, with issue 17's fault point: when DKE_FAULT_KILL_AFTER names an admin step
 * (`create:intent`, `destroy:token`, ...), the command or service dies right after it, as a kill -9 would take it,
 * so the tests can prove the reconcile. Production's entry point (src/cli.ts) has no such hook and ignores the
 * variable: it is read here, in the test build only, and installed through the composition root's test seam.
 */
import { runProgram } from '../../src/cli/program.js';
import { devCommand, devTokenCommand } from '../../src/dev/dev-command.js';
import { installTestSeams } from '../../src/main/test-seams.js';

const killAfter = process.env.DKE_FAULT_KILL_AFTER;
if (killAfter !== undefined && killAfter !== '') {
  installTestSeams({ afterAdminStep: (step) => (step === killAfter ? process.kill(process.pid, 'SIGKILL') : undefined) });
}
void runProgram(process.argv, [devCommand(), devTokenCommand()]);
