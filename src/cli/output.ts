import type { RecentDecrypts } from '../app/admin-shapes.js';
import type { KeyView } from '../app/key-admin-views.js';
import { stateLabel, statusLabel, type StatusOf } from '../app/admin-vocabulary.js';

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
        `  ${v.published ? '*' : ' '} ${v.keyId}  ${stateLabel(v.state).padEnd(11)} ${v.enabled ? 'enabled ' : 'DISABLED'}  ${v.origin.padEnd(9)} vault ${v.vault}  ${v.createdAt}` +
        `  last use ${v.lastUsedAt ?? 'never'}  status: ${statusLabel(statusOf(v))}` +
        `${v.deletion ? `  DELETION SCHEDULED: destroyed at ${v.deletion.destroyAt} unless cancelled` : ''}`,
    )
    .join('\n');
  const rotation = view.rotation ? `\n rotation: every ${view.rotation.every}${view.rotation.nextAt ? `, next at ${view.rotation.nextAt}` : ''}` : '';
  const recent = view.recentDecrypts ? `\n ${recentText(view.recentDecrypts)}` : '';
  return `${view.name}\n status: ${statusLabel(statusOf(view))}${recent}\n allowed:\n${allow}${rotation}\n versions (* = published):\n${versions || '  (none)'}`;
}

/** The status word and its end, as the views carry them, for statusLabel. */
function statusOf(view: { readonly status: StatusOf['status']; readonly statusUntil?: string }): StatusOf {
  return view.statusUntil === undefined ? { status: view.status } : { status: view.status, until: view.statusUntil };
}

/** "decrypts, last 7 days: 12 allowed, 3 refused (access_denied 2, key_not_usable 1)". */
function recentText(recent: RecentDecrypts): string {
  const reasons = Object.entries(recent.refusedByReason).map(([reason, count]) => `${reason} ${count}`);
  return `decrypts, last ${recent.days} days: ${recent.allowed} allowed, ${recent.refused} refused${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}
