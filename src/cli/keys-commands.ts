import { Command, Option } from 'commander';
import { AdminRefused, DEFAULT_INITIAL_STATE, INITIAL_STATES, type AllowList } from '../app/admin-vocabulary.js';
import type { ReconcileReport } from '../app/key-reconcile.js';
import { withAdminHere } from './remote/remote-admin.js';
import { adminVerb } from './admin-verb.js';
import { importKeyCommand } from './import-commands.js';
import { addKeyStateCommands } from './key-state-commands.js';
import { allowListFrom, collect, USER_OPTION_HELP, VAULT_OPTION_HELP } from './options.js';
import { keyViewText, print } from './output.js';

/** `dke keys …` (contract §3). */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage key names and their versions in the HSM');

  adminVerb(
    keys
      .command('create')
      .description('generate an RSA-2048 key inside the HSM (sensitive, never extractable, decrypt only) and publish it')
      .argument('<name>', 'key name, as it appears in the sensitivity label URL')
      .addOption(new Option('--state <state>', 'initial state').choices([...INITIAL_STATES]).default(DEFAULT_INITIAL_STATE))
      .option('--allow-user <upnOrOid>', USER_OPTION_HELP, collect)
      .option('--allow-group <objectId>', 'Entra group object id allowed to decrypt (repeatable)', collect)
      .option('--allow-role <role>', 'app role value allowed to decrypt (repeatable)', collect)
      .option('--vault <name>', VAULT_OPTION_HELP),
    {
      hsm: true,
      createStore: true,
      run: (admin, [name], options) => admin.create(name, { state: options.state, allow: allowListFrom(options), ...(options.vault !== undefined ? { vault: options.vault as string } : {}) }),
      text: (created) => `Created ${created.name} with key id ${created.keyId} (${created.state}).\n${created.keyId}`,
    },
  );

  adminVerb(keys.command('list').description('list key names and their versions'), {
    run: (admin) => admin.list(),
    text: (views) => (views.length === 0 ? 'No keys yet.' : views.map(keyViewText).join('\n\n')),
  });

  adminVerb(keys.command('show').description('show every version of a key name: key id, state, enabled, origin, created, published').argument('<name>'), {
    run: (admin, [name]) => admin.show(name),
    text: (view) => keyViewText(view),
  });

  adminVerb(keys.command('rotate').description('generate a new Active version in the HSM and publish it; older versions keep decrypting').argument('<name>').option('--vault <name>', VAULT_OPTION_HELP), {
    hsm: true,
    run: (admin, [name], options) => admin.rotate(name, options.vault !== undefined ? { vault: options.vault as string } : {}),
    text: (created) => `Rotated ${created.name}: version ${created.keyId} is now published.\n${created.keyId}`,
  });

  for (const [command, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    adminVerb(
      keys
        .command(command)
        .description(enabled ? 'lift the temporary block of a version' : 'block a version temporarily (reversible): no GET, no decrypt')
        .argument('<name>')
        .argument('<keyId>'),
      {
        run: (admin, [name, keyId]) => admin.setEnabled(name, keyId, enabled),
        text: (summary, [name, keyId]) =>
          `${name} version ${keyId} is now ${enabled ? 'enabled' : 'disabled'} (state ${summary.state}).${summary.notice ? `\n${summary.notice}` : ''}`,
      },
    );
  }

  for (const command of ['grant', 'revoke'] as const) {
    keys
      .command(command)
      .description(command === 'grant' ? 'add users, groups or app roles to the allow list' : 'remove them from the allow list')
      .argument('<name>')
      .option('--user <upnOrOid>', USER_OPTION_HELP, collect)
      .option('--group <objectId>', 'Entra group object id, a GUID (repeatable)', collect)
      .option('--role <role>', 'app role value (repeatable)', collect)
      .option('--json', 'print JSON: one change as an object, several as an array')
      .action(async (name: string, options) => {
        const entries = grantEntriesFrom(options);
        if (entries.length === 0) throw new AdminRefused(`Give at least one --user, --group or --role to ${command}.`);
        const changes = await withAdminHere(false, ({ admin }) => admin.changeGrants(command, name, entries));
        const shaped = changes.map(({ kind, value, changed }) => ({ name, kind: kindOption(kind), value, changed }));
        print(options.json === true, shaped.length === 1 ? shaped[0] : shaped, () =>
          shaped
            .map(({ kind, value, changed }) =>
              changed ? `${command === 'grant' ? 'Granted' : 'Revoked'} ${kind} ${value} on ${name}.` : `Nothing to change: ${kind} ${value} ${command === 'grant' ? 'was already' : 'was not'} on the allow list of ${name}.`,
            )
            .join('\n'),
        );
      });
  }

  adminVerb(
    keys
      .command('reconcile')
      .description('finish or roll back admin steps a crashed command left unfinished, and compare the records with the token')
      .option('--dry-run', 'list what would be done, and the token objects no record knows; change nothing'),
    {
      hsm: true,
      run: (admin, _args, options) => admin.reconcile(options.dryRun === true),
      text: (report) => reconcileText(report),
    },
  );

  addKeyStateCommands(keys);
  keys.addCommand(importKeyCommand());
  return keys;
}

/** The entries of `--user`, `--group` and `--role`, each option repeatable, in that order. */
function grantEntriesFrom(options: { user?: string[]; group?: string[]; role?: string[] }): { kind: keyof AllowList; value: string }[] {
  return [
    ...(options.user ?? []).map((value) => ({ kind: 'users' as const, value })),
    ...(options.group ?? []).map((value) => ({ kind: 'groups' as const, value })),
    ...(options.role ?? []).map((value) => ({ kind: 'roles' as const, value })),
  ];
}

/** The option's word for a kind of entry (`user` for `users`), as the output has always said it. */
function kindOption(kind: keyof AllowList): string {
  return kind.slice(0, -1);
}

function reconcileText(report: ReconcileReport): string {
  const lines = report.steps.map(
    (s) => `${report.dryRun ? 'would ' : ''}${s.resolution} the unfinished ${s.action} of ${s.name}/${s.keyId} (by ${s.actor} at ${s.startedAt})${s.outcome ? `: ${s.outcome}` : ''}`,
  );
  if (report.steps.length === 0) lines.push('No unfinished admin step.');
  if (report.inProgress > 0) lines.push(`${report.inProgress} step(s) of commands still running were left alone.`);
  for (const ref of report.unknownObjects) lines.push(`The token holds ${ref.name}/${ref.keyId}, which no record knows.`);
  for (const ref of report.missingPrivateKeys) lines.push(`The private key of ${ref.name}/${ref.keyId} is missing from the token.`);
  for (const vault of report.unreachableVaults ?? []) lines.push(`The vault "${vault}" does not answer: its token was not compared with the records.`);
  return lines.join('\n');
}
