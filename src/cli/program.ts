import { Command } from 'commander';
import { AdminRefused, DkeError, StoreUnavailable } from '../app/admin-vocabulary.js';
import { setVerbose } from '../main/open-admin.js';
import { debugOutputWanted } from '../main/settings.js';
import { auditCommand } from './audit-commands.js';
import { doctorCommand } from './doctor-command.js';
import { approvalsCommand } from './approvals-commands.js';
import { emergencyCommand } from './emergency-commands.js';
import { exitCodeFor } from './exit-codes.js';
import { hsmCommand } from './hsm-commands.js';
import { importReferenceCommand } from './import-commands.js';
import { keysCommand } from './keys-commands.js';
import { chooseAdminServer } from './remote/admin-server.js';
import { loginCommands } from './remote/login-commands.js';
import { packageVersion } from './package-version.js';
import { policyCommand } from './policy-commands.js';
import { commandOfStep } from './next-steps.js';
import { serveCommand } from './serve-command.js';
import { dbCommand, storeCommand } from './store-commands.js';

/** The `dke` command line (contract §3). Each command group lives in its own module; `dke dev` comes from dev/. */
export function buildProgram(devCommands: readonly Command[] = []): Command {
  const program = new Command('dke')
    .description('Double Key Encryption key service: keys in a PKCS#11 HSM, decrypt for Office clients')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) })
    .option('--verbose', 'say on stderr which key store each command uses')
    .option('--server <url>', 'send the admin verbs to this admin API with your own sign-in (dke login), not to the local store and HSM (default: DKE_ADMIN_URL)')
    .hook('preAction', (root) => {
      setVerbose(root.opts().verbose === true);
      chooseAdminServer(root.opts().server as string | undefined);
    });
  const version = packageVersion();
  if (version !== undefined) program.version(version, '-V, --version', 'print the version of dke-service and exit');
  program.addCommand(serveCommand());
  for (const command of devCommands) program.addCommand(command);
  program.addCommand(keysCommand());
  program.addCommand(importReferenceCommand());
  program.addCommand(auditCommand());
  program.addCommand(storeCommand());
  program.addCommand(dbCommand());
  program.addCommand(doctorCommand());
  program.addCommand(hsmCommand());
  program.addCommand(emergencyCommand());
  program.addCommand(approvalsCommand());
  for (const command of loginCommands()) program.addCommand(command);
  program.addCommand(policyCommand());
  return program;
}

/** A refused or failed command exits non-zero with one sentence on stderr (contract §3); no stack for known cases. */
export async function runProgram(argv: readonly string[], devCommands: readonly Command[]): Promise<void> {
  try {
    await buildProgram(devCommands).parseAsync([...argv]);
  } catch (caught) {
    // A refusal that names a next step names it as a `dke` command here.
    const error = caught instanceof AdminRefused ? caught.inWords(commandOfStep) : caught;
    // The store's cause (full disk, lock, corruption) is for the operator at the CLI, unlike an HTTP caller.
    const message = error instanceof StoreUnavailable && error.detail !== undefined ? `The store cannot be used: ${error.detail}.` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`dke: ${message}\n`);
    if (!(error instanceof DkeError) && error instanceof Error && debugOutputWanted()) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
