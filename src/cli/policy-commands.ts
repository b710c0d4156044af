import { Command, type OptionValues } from 'commander';
import type { AdminPolicyView, Proposed } from '../app/admin-shapes.js';
import { policyChangeFrom } from '../app/admin-policy-change.js';
import { AdminRefused } from '../app/admin-vocabulary.js';
import { adminVerb } from './admin-verb.js';
import { proposalText } from './key-state-commands.js';

/** The policy in a few lines, as `dke policy show` prints it. */
export function policyText(policy: AdminPolicyView): string {
  return [
    `Approvals required: ${policy.approvalsRequired}${policy.approvalsRequired === 2 ? ' (permanent steps, lifting the emergency block and weakening this policy wait for a second person)' : ''}`,
    `Deletion window: ${policy.deletionWindow.default} by default, at least ${policy.deletionWindow.minimum}`,
    `Rotation minimum: ${policy.rotationMinimum}`,
    `App-only tokens may approve: ${policy.appOnlyMayApprove ? 'yes' : 'no'}`,
  ].join('\n');
}

/** The partial policy the options of `dke policy set` name (the admin API's PUT body, contract §10). */
function changeFrom(options: OptionValues): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  if (options.approvals !== undefined) {
    if (options.approvals !== '1' && options.approvals !== '2') throw new AdminRefused('--approvals must be 1 or 2.');
    change.approvalsRequired = Number(options.approvals);
  }
  const window: Record<string, string> = {};
  for (const [option, field] of [['deletionWindowDefault', 'default'], ['deletionWindowMinimum', 'minimum']] as const) {
    if (options[option] !== undefined) window[field] = String(options[option]);
  }
  if (Object.keys(window).length > 0) change.deletionWindow = window;
  if (options.rotationMinimum !== undefined) change.rotationMinimum = String(options.rotationMinimum);
  if (options.appOnlyMayApprove !== undefined) {
    if (options.appOnlyMayApprove !== 'true' && options.appOnlyMayApprove !== 'false') throw new AdminRefused('--app-only-may-approve must be true or false.');
    change.appOnlyMayApprove = options.appOnlyMayApprove === 'true';
  }
  if (Object.keys(change).length === 0) throw new AdminRefused('Name at least one part of the policy to set (see "dke policy set --help").');
  return change;
}

/** `dke policy show|set` (contract §10): the admin policy kept in the store, for every instance and path. */
export function policyCommand(): Command {
  const policy = new Command('policy').description('the admin policy kept in the store: approvals, deletion windows, rotation minimum, app-only approvers');
  adminVerb(policy.command('show').description('print the admin policy in force'), {
    run: (admin) => admin.policy(),
    text: (view) => policyText(view),
  });
  adminVerb(
    policy
      .command('set')
      .description('change the admin policy: stricter applies at once; weaker waits for the approvals the policy in force requires')
      .option('--approvals <n>', '1 or 2: how many people a permanent step needs')
      .option('--deletion-window-default <span>', 'how long a deleted version waits by default, such as 7d (0s: at once)')
      .option('--deletion-window-minimum <span>', 'no delete waits less than this')
      .option('--rotation-minimum <span>', 'the shortest rotation period a key name may have, such as 1d')
      .option('--app-only-may-approve <bool>', 'true or false: may an app-only token approve a proposal'),
    {
      run: (admin, _args, options) => {
        // The admin API's body, checked by the same code, so both refuse the same spans with the same sentence.
        return admin.setPolicy(policyChangeFrom(changeFrom(options)));
      },
      text: (outcome: AdminPolicyView | Proposed) => ('approval' in outcome ? proposalText(outcome.approval) : `The admin policy is now:\n${policyText(outcome)}`),
    },
  );
  return policy;
}
