import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { AdminRefused } from '../app/admin-vocabulary.js';
import { readPrivateKeyMaterial } from '../app/private-key-material.js';
import { parseReferenceSettings } from '../app/reference-settings.js';
import { withAdminHere } from './remote/remote-admin.js';
import { allowListFrom, collect, USER_OPTION_HELP, VAULT_OPTION_HELP } from './options.js';
import { print } from './output.js';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new AdminRefused(`${path} cannot be read.`);
  }
}

/** `dke keys import NAME --pkcs8 FILE` (contract §3). The file is read once and never copied anywhere. */
export function importKeyCommand(): Command {
  return new Command('import')
    .description('bring your own RSA-2048 key: unwrapped into the HSM as sensitive, non-extractable, decrypt only')
    .argument('<name>')
    .requiredOption('--pkcs8 <file>', 'PEM file of the private key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY")')
    .option('--key-id <id>', 'key id to keep (the id inside existing documents\' kid); default: a new UUID')
    .option('--allow-user <upnOrOid>', USER_OPTION_HELP, collect)
    .option('--allow-group <objectId>', 'Entra group allowed to decrypt (repeatable)', collect)
    .option('--allow-role <role>', 'app role allowed to decrypt (repeatable)', collect)
    .option('--publish', 'publish the imported version (default: only when the key name is new)')
    .option('--vault <name>', VAULT_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(async (name: string, options) => {
      const material = readPrivateKeyMaterial(readText(options.pkcs8), options.pkcs8);
      const created = await withAdminHere(true, ({ admin }) =>
        admin.importKey(name, material, {
          ...(options.keyId !== undefined ? { keyId: options.keyId } : {}),
          allow: allowListFrom(options),
          ...(options.publish === true ? { publish: true } : {}),
          ...(options.vault !== undefined ? { vault: options.vault } : {}),
          source: options.pkcs8,
        }),
      );
      print(options.json === true, created, () => `Imported ${created.name} version ${created.keyId} into the HSM (origin: imported).\n${created.keyId}`);
    });
}

/** `dke import-reference APPSETTINGS_JSON` (contract §3; docs/admin-guide.md "Moving from the reference service"). */
export function importReferenceCommand(): Command {
  return new Command('import-reference')
    .description("move every key of Microsoft's reference DKE service into the HSM, keeping each Name and Id")
    .argument('<appsettings>', "the reference service's appsettings.json")
    .option('--dry-run', 'show what would happen and change nothing')
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      const settings = parseReferenceSettings(readText(file));
      const report = await withAdminHere(true, ({ admin }) => admin.migrateReference(settings, options.dryRun === true));
      print(options.json === true, report, () => {
        const lines = report.steps.map(
          (s) =>
            `${report.dryRun ? 'would ' : ''}${s.action === 'import' ? 'import' : 'keep (already here, same key)'} TestKeys[${s.entry}] ${s.name}/${s.keyId}${s.published ? ', published' : ''}; allowed users: ${s.users.join(', ') || 'none'}`,
        );
        const changed = report.steps.filter((s) => s.action === 'import').length;
        lines.push(report.dryRun ? `Dry run: nothing was changed (${changed} to import).` : `${changed} imported, ${report.steps.length - changed} unchanged.`);
        lines.push('Settings that carry the reference configuration:');
        for (const [key, value] of Object.entries(report.settings)) lines.push(`  ${key}=${value}`);
        for (const note of report.notes) lines.push(`Note: ${note}`);
        return lines.join('\n');
      });
    });
}
