import type { AnchoredAuditHead, AuditReader, KeyVault } from '../keys/ports.js';

/** How the trail stands against the head the token anchored: a sentence and the first entry concerned, when it is behind. */
export interface AnchoredHeadProblem {
  readonly brokenAt: number;
  readonly problem: string;
}

/**
 * Issue 25 (contract §5): `dke audit verify` fails when the trail ends before the head the token anchored, or holds
 * another entry at its place (a trail restored from an earlier copy and written on since). An archived entry (below
 * the trail's own anchor) cannot be compared and is not.
 */
export function anchoredHeadProblem(anchored: AnchoredAuditHead, trail: { readonly head: { readonly seq: number }; readonly entryHash: string | undefined }): AnchoredHeadProblem | undefined {
  const restored = 'the trail was rolled back or restored from an earlier copy';
  if (trail.head.seq < anchored.seq) {
    return { brokenAt: trail.head.seq + 1, problem: `the trail ends at entry ${trail.head.seq} but the token anchored entry ${anchored.seq} at ${anchored.at}: ${restored}` };
  }
  if (trail.entryHash !== undefined && trail.entryHash !== anchored.hash) {
    return { brokenAt: anchored.seq, problem: `entry ${anchored.seq} is not the entry the token anchored at ${anchored.at}: ${restored} and written on since` };
  }
  return undefined;
}

/** The trail against the token's anchored head; undefined when it is not behind, or the token cannot be asked. */
export async function checkAnchoredHead(audit: Pick<AuditReader, 'headAndEntry'>, vault: Pick<KeyVault, 'anchoredAuditHead'>): Promise<AnchoredHeadProblem | undefined> {
  let anchored: AnchoredAuditHead | undefined;
  try {
    anchored = await vault.anchoredAuditHead();
  } catch {
    // No token (a CLI without the HSM): the chain is still checked against the store's own head.
    return undefined;
  }
  return anchored === undefined ? undefined : anchoredHeadProblem(anchored, await audit.headAndEntry(anchored.seq));
}
