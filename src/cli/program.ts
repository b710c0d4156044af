import { Command } from 'commander';
import { devCommand, devTokenCommand } from '../dev/dev-command.js';
import { auditCommand } from './audit-commands.js';
import { importReferenceCommand } from './import-commands.js';
import { keysCommand } from './keys-commands.js';
import { serveCommand } from './serve-command.js';

/** The `dke` command line (contract §3). Each command group lives in its own module. */
export function buildProgram(): Command {
  const program = new Command('dke')
    .description('Double Key Encryption key service: keys in a PKCS#11 HSM, decrypt for Office clients')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  program.addCommand(serveCommand());
  program.addCommand(devCommand());
  program.addCommand(devTokenCommand());
  program.addCommand(keysCommand());
  program.addCommand(importReferenceCommand());
  program.addCommand(auditCommand());
  return program;
}
