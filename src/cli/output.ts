import type { KeyView } from '../app/key-admin-views.js';
import { stateLabel } from '../app/admin-vocabulary.js';

/** Prints machine-readable JSON with `--json`, else the human text. */
export function print(json: boolean, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}

export function keyViewText(view: KeyView): string {
  const allow = (['users', 'groups', 'roles'] as const)
    .map((kind) => `  ${kind}: ${view.allow[kind].length === 0 ? '(none)' : view.allow[kind].join(', ')}`)
    .join('\n');
  const versions = view.versions
    .map(
      (v) =>
        `  ${v.published ? '*' : ' '} ${v.keyId}  ${stateLabel(v.state).padEnd(11)} ${v.enabled ? 'enabled ' : 'DISABLED'}  ${v.origin.padEnd(9)} ${v.createdAt}` +
        `  last use ${v.lastUsedAt ?? 'never'}${v.deletion ? `  DELETION SCHEDULED: destroyed at ${v.deletion.destroyAt} unless cancelled` : ''}`,
    )
    .join('\n');
  const rotation = view.rotation ? `\n rotation: every ${view.rotation.every}` : '';
  return `${view.name}\n allowed:\n${allow}${rotation}\n versions (* = published):\n${versions || '  (none)'}`;
}
