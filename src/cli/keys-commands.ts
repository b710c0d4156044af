import { Command, Option } from 'commander';
import type { AllowList } from '../keys/key-version.js';
import { loadConfig } from '../config/config.js';
import { openAdminContext, type AdminContext } from './admin-context.js';
import { keyViewText, print } from './output.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Runs one admin action with the store (and the HSM when needed) open, and always closes them. */
export async function withAdmin<T>(withHsm: boolean, work: (context: AdminContext) => Promise<T> | T): Promise<T> {
  const context = openAdminContext(loadConfig(), withHsm);
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

export function allowListFrom(options: { allowUser?: string[]; allowGroup?: string[]; allowRole?: string[] }): AllowList {
  return { users: options.allowUser ?? [], groups: options.allowGroup ?? [], roles: options.allowRole ?? [] };
}

/** `dke keys …` (contract §3). */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage key names and their versions in the HSM');

  keys
    .command('create')
    .description('generate an RSA-2048 key inside the HSM (sensitive, never extractable, decrypt only) and publish it')
    .argument('<name>', 'key name, as it appears in the sensitivity label URL')
    .addOption(new Option('--state <state>', 'initial state').choices(['active', 'pre-active']).default('active'))
    .option('--allow-user <upn>', 'user principal name or e-mail allowed to decrypt (repeatable)', collect)
    .option('--allow-group <objectId>', 'Entra group object id allowed to decrypt (repeatable)', collect)
    .option('--allow-role <role>', 'app role value allowed to decrypt (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (name: string, options) => {
      const created = await withAdmin(true, ({ admin }) =>
        admin.create(name, { state: options.state, allow: allowListFrom(options) }),
      );
      print(options.json === true, created, () => `Created ${created.name} with key id ${created.keyId} (${created.state}).\n${created.keyId}`);
    });

  keys
    .command('list')
    .description('list key names and their versions')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const views = await withAdmin(false, ({ admin }) => admin.list());
      print(options.json === true, views, () => (views.length === 0 ? 'No keys yet.' : views.map(keyViewText).join('\n\n')));
    });

  keys
    .command('show')
    .description('show every version of a key name: key id, state, enabled, origin, created, published')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options) => {
      const view = await withAdmin(false, ({ admin }) => admin.show(name));
      print(options.json === true, view, () => keyViewText(view));
    });

  return keys;
}
