import { Command } from 'commander';
import { backupToFile, copyEmbeddedStore, initStore, restoreFromFile } from '../main/store-admin.js';
import { print } from './output.js';

/**
 * A store backup holds the key records, never the keys: without the HSM's own backup of its objects, a restored store
 * names versions that no longer decrypt (issue 27: operators took the one for the other).
 */
export const HSM_NOT_BACKED_UP =
  "The HSM's keys are not in this backup: back them up with your HSM vendor's own backup (the embedded development token: copy DKE_DATA_DIR/dev-token).";

/** `dke store init`, `backup`, `restore` (issue 17): the embedded store's file itself. */
export function storeCommand(): Command {
  const store = new Command('store').description('the embedded key-state store and audit trail (DKE_DATA_DIR/dke.sqlite)');
  store
    .command('init')
    .description('create an empty store; the service never creates one itself')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const result = await initStore();
      print(options.json === true, result, () => `${result.created ? 'Created' : 'Kept'} ${result.created ? result.location : `the existing ${result.location.replace(/^the /, '')}`}.`);
    });
  store
    .command('backup')
    .description("a consistent copy of the store (key records, grants, audit trail), taken while the service runs; the HSM's keys are not in it")
    .argument('<file>', 'where to write the copy (must not exist)')
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      const result = await backupToFile(file);
      print(options.json === true, result, () => `Backed up the store to ${result.file} (audit head: entry ${result.auditHead.seq}).\n${HSM_NOT_BACKED_UP}`);
    });
  store
    .command('restore')
    .description('replace the store with a backup; stop the service first and start it again afterwards')
    .argument('<file>', 'a file made by "dke store backup"')
    .option('--force', 'restore a backup older than the audit trail: the changes recorded after it are re-applied')
    .option('--json', 'print JSON')
    .action(async (file: string, options) => {
      const result = await restoreFromFile(file, options.force === true);
      print(options.json === true, result, () =>
        [
          `Restored the store from ${file} (its trail ends at entry ${result.backupHead.seq}).`,
          `${result.entriesCarried} audit entries written after the backup were kept; ${result.changesReapplied} recorded key changes re-applied${result.changesSkipped > 0 ? `, ${result.changesSkipped} not applicable` : ''}.`,
          'Restart the service to use the restored store.',
        ].join('\n'),
      );
    });
  return store;
}

/** `dke db migrate` and `dke db copy` (contract §3): the schema of the configured store, and moving to PostgreSQL. */
export function dbCommand(): Command {
  const db = new Command('db').description('the schema of the configured store, and moving an embedded store into PostgreSQL');
  db.command('migrate')
    .description('create or upgrade the schema of the configured store (the service also does it at start, one instance at a time)')
    .action(async () => {
      const { location } = await initStore();
      process.stdout.write(`${location.charAt(0).toUpperCase()}${location.slice(1)} has the current schema.\n`);
    });
  db.command('copy')
    .description('copy an embedded store (keys, versions, grants, the audit trail) into the empty PostgreSQL database of DKE_DATABASE_URL')
    .requiredOption('--from <dataDir>', 'the DKE_DATA_DIR that holds the embedded store (dke.sqlite)')
    .option('--json', 'print JSON')
    .action(async (options: { from: string; json?: boolean }) => {
      const result = await copyEmbeddedStore(options.from);
      print(options.json === true, result, () =>
        `Copied ${result.keys} key names, ${result.versions} versions, ${result.grants} grants and ${result.auditEntries} audit entries; the trail verifies up to entry ${result.auditHead.seq}.`,
      );
    });
  return db;
}
