import type { NextStep } from '../app/admin-vocabulary.js';

/**
 * A refusal's next step in the CLI's words: the `dke` command that takes it (the admin API names its route instead,
 * src/http/admin-routes.ts). runProgram (program.ts) words every refusal it prints with this.
 */
export function commandOfStep(step: NextStep): string {
  switch (step.kind) {
    case 'rotate-instead':
      return `use "dke keys rotate ${step.name}" for a new version`;
    case 'delete-instead':
      return `use "dke keys delete ${step.name} ${step.keyId} --yes" to destroy it`;
    case 'cancel-deletion-first':
      return `cancel the deletion first ("dke keys cancel-deletion ${step.name} ${step.keyId}")`;
    case 'cancel-deletion-restores':
      return `"dke keys cancel-deletion ${step.name} ${step.keyId}" brings it back`;
    case 'reconcile-if-died':
      return 'if that command died, run "dke keys reconcile"';
  }
}
