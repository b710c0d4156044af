import type { Command, OptionValues } from 'commander';
import type { KeyAdmin } from '../app/key-admin.js';
import { withAdminHere } from './remote/remote-admin.js';
import { print } from './output.js';

/** What an admin verb does with the command line: one call to the key-admin service, and the text of its result. */
export interface AdminVerb<T> {
  /** Open the HSM too (steps that touch key objects); without it the verb works while the token is unreachable. */
  readonly hsm?: boolean;
  /** Create the store when there is none (issue 17: only verbs that make a deployment do). */
  readonly createStore?: boolean;
  /** `args` are the verb's declared arguments, in order. */
  readonly run: (admin: KeyAdmin, args: string[], options: OptionValues) => Promise<T> | T;
  readonly text: (result: T, args: string[], options: OptionValues) => string;
}

/**
 * The shape of most admin verbs: run one key-admin call with the store (and the HSM when asked) open, then print its
 * result as JSON with `--json`, else as text. Adds `--json` and the action to `command`.
 */
export function adminVerb<T>(command: Command, verb: AdminVerb<T>): Command {
  return command.option('--json', 'print JSON').action(async (...received: unknown[]) => {
    // Commander passes the declared arguments, then the options, then the command itself.
    const args = received.slice(0, -2) as string[];
    const options = received.at(-2) as OptionValues;
    const result = await withAdminHere(verb.hsm === true, ({ admin }) => verb.run(admin, args, options), undefined, { createStore: verb.createStore === true });
    print(options.json === true, result, () => verb.text(result, args, options));
  });
}
