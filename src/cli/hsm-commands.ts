import { accessSync, constants } from 'node:fs';
import { Command } from 'commander';
import { AdminRefused } from '../app/admin-vocabulary.js';
import { probeConfiguredVault, probeLibrary, type ProbeReport } from '../main/hsm-probe.js';
import { EXIT_CHECKS_FAILED } from './exit-codes.js';
import { print } from './output.js';

interface ProbeOptions {
  readonly vault?: string;
  readonly library?: string;
  readonly libraryParameters?: string;
  readonly tokenLabel?: string;
  readonly slot?: string;
  readonly pinFile?: string;
  readonly json?: boolean;
}

/** `dke hsm probe` (contract §9): will this HSM work for the service? Exit 0 unless a check fails, then 5 (as `dke doctor`). */
export function hsmCommand(): Command {
  const hsm = new Command('hsm').description('the HSM behind the service');
  hsm
    .command('probe')
    .description('check that an HSM can serve dke-service (a temporary key is made and destroyed) and say what to ask the vendor')
    .option('--vault <name>', 'the configured vault to probe (default: the default vault; without DKE_VAULTS "default", the DKE_PKCS11_* settings)')
    .option('--library <path>', 'probe this PKCS#11 module instead of the configured one')
    .option('--library-parameters <text>', 'with --library: the string its C_Initialize takes')
    .option('--token-label <label>', 'with --library: the token, by label')
    .option('--slot <index>', 'with --library: the token, by index among the slots that hold one')
    .option('--pin-file <file>', 'with --library: a file holding the user PIN (the configured PIN is never sent to another module)')
    .option('--json', 'print JSON')
    .action(async (options: ProbeOptions) => {
      const report = await runProbe(options);
      print(options.json === true, report, () => probeText(report));
      if (report.verdict === 'fail') process.exitCode = EXIT_CHECKS_FAILED;
    });
  return hsm;
}

function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const { library } = options;
  if (library === undefined) {
    const stray = (['libraryParameters', 'tokenLabel', 'slot', 'pinFile'] as const).filter((name) => options[name] !== undefined);
    if (stray.length > 0) throw new AdminRefused(`${stray.map(optionName).join(', ')} go with --library; without it the configured HSM is probed.`);
    return probeConfiguredVault(options.vault);
  }
  if (options.vault !== undefined) throw new AdminRefused('Give --vault or --library, not both.');
  if ((options.tokenLabel === undefined) === (options.slot === undefined)) throw new AdminRefused('With --library, give the token by --token-label or by --slot (one of them).');
  if (options.slot !== undefined && !/^\d{1,7}$/.test(options.slot)) throw new AdminRefused(`--slot must be a whole number, not "${options.slot}".`);
  if (options.pinFile !== undefined) assertReadable(options.pinFile);
  return probeLibrary({
    library,
    ...(options.libraryParameters !== undefined ? { libraryParameters: options.libraryParameters } : {}),
    ...(options.tokenLabel !== undefined ? { tokenLabel: options.tokenLabel } : {}),
    ...(options.slot !== undefined ? { slot: Number(options.slot) } : {}),
    ...(options.pinFile !== undefined ? { pinFile: options.pinFile } : {}),
  });
}

const optionName = (name: string): string => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

function assertReadable(file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new AdminRefused(`The PIN file ${file} (--pin-file) cannot be read.`);
  }
}

/** One line per check (status, name, sentence), then the verdict in a sentence. */
export function probeText(report: ProbeReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.map((check) => `${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`);
  const count = (status: string): number => report.checks.filter((check) => check.status === status).length;
  const verdict = {
    pass: 'This HSM can serve dke-service.',
    warn: `This HSM can serve dke-service, with ${count('warn')} warning(s) to read.`,
    fail: `${count('fail')} check(s) failed: this HSM cannot serve dke-service until they are settled with the vendor.`,
  }[report.verdict];
  return `${lines.join('\n')}\n${verdict}`;
}
