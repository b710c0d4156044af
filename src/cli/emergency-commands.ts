import { Command } from 'commander';
import type { EmergencyBlockView } from '../app/key-admin-views.js';
import { withAdminHere } from './remote/remote-admin.js';
import { adminVerb } from './admin-verb.js';
import { EXIT_NEEDS_CONFIRMATION } from './exit-codes.js';
import { proposalText } from './key-state-commands.js';
import { print } from './output.js';

function stateText(view: EmergencyBlockView): string {
  return view.blocked
    ? `The emergency block is ON since ${view.since} (set by ${view.by}): no key decrypts or is published. Lift it with "dke emergency unblock --yes".`
    : 'The emergency block is off: each version decrypts and is published as its own state and Enabled flag say.';
}

/** `dke emergency block|unblock --yes` and `dke emergency status` (contract §3: the kill switch). */
export function emergencyCommand(): Command {
  const emergency = new Command('emergency').description('the kill switch: stop every key from decrypting and being published, on every instance');
  for (const [name, on] of [['block', true], ['unblock', false]] as const) {
    emergency
      .command(name)
      .description(on ? 'stop every version of every key from decrypting and being published (needs --yes)' : 'lift the block: per-version Enabled flags apply again (needs --yes)')
      .option('--yes', 'confirm')
      .option('--json', 'print JSON')
      .action(async (options) => {
        if (options.yes !== true) {
          process.stdout.write(
            on
              ? 'Would stop every key from decrypting and being published, on every instance, until "dke emergency unblock --yes". Nothing was changed. To go ahead: dke emergency block --yes\n'
              : 'Would lift the emergency block: versions decrypt and are published again as their state and Enabled flag say. Nothing was changed. To go ahead: dke emergency unblock --yes\n',
          );
          process.exitCode = EXIT_NEEDS_CONFIRMATION;
          return;
        }
        const view = await withAdminHere('if-reachable', ({ admin }) => admin.setEmergencyBlock(on));
        print(options.json === true, view, () => ('approval' in view ? proposalText(view.approval) : stateText(view)));
      });
  }
  adminVerb(emergency.command('status').description('is the emergency block on?'), {
    run: (admin) => admin.emergencyBlock(),
    text: (view) => stateText(view),
  });
  return emergency;
}
