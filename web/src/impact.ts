import { api, path } from './api';
import type { AdminPolicyView, ImpactPreview, KeyState } from './vocabulary';

/** What a permanent step would break, as the service computes it (GET …/impact: a read, nothing is written). */
export async function loadImpact(name: string, keyId: string, to: KeyState): Promise<ImpactPreview> {
  return (await api<ImpactPreview>('GET', `${path('keys', name, 'versions', keyId)}/impact?to=${encodeURIComponent(to)}`)).body;
}

/** The preview's sentences, the same for the admin who proposes a step and the one who approves it. */
export function impactLines(preview: ImpactPreview): string[] {
  const { decrypts, distinctUsers, lastUse } = preview.usage;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    preview.effect,
    `In the last ${preview.windowDays} days it opened ${plural(decrypts, 'document')} for ${plural(distinctUsers, 'user')}${lastUse ? `, last at ${new Date(lastUse).toLocaleString()}` : ''}.`,
  ];
}

/** The line a confirmation adds when the step only becomes a proposal (DKE_APPROVALS_REQUIRED=2). */
export const PROPOSED_LINE = 'Proposed: this waits for a second admin. Nothing changes until another admin approves it on the Approvals page.';

/** Does a permanent step (or lifting the emergency block) only become a proposal under this policy? */
export const waitsForApproval = (policy: AdminPolicyView | undefined): boolean => policy?.approvalsRequired === 2;

/** The service's policy for the confirmations (GET /admin/api/policy). */
export async function loadPolicy(): Promise<AdminPolicyView> {
  return (await api<AdminPolicyView>('GET', '/policy')).body;
}
