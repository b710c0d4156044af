import { hostname } from 'node:os';
import type { KeyAdminDeps } from '../app/key-admin.js';
import { installedTestSeams } from './test-seams.js';

/** What the intents of this process need: this process as their owner, and whether an intent's owner still runs. */
export interface AdminProcess extends Pick<KeyAdminDeps, 'afterStep'> {
  readonly owner: string;
  readonly isOwnerAlive: (owner: string) => boolean;
}

export interface AdminProcessOptions {
  /** The service: its own admin steps are live once it has reconciled those of earlier processes at start. */
  readonly ownStepsLive?: () => boolean;
}

/** This process as the owner of the intents its admin steps write (issue 17), with the test seam when one is set. */
export function adminProcess(options: AdminProcessOptions = {}): AdminProcess {
  const owner = `${hostname()}:${process.pid}`;
  const afterStep = installedTestSeams().afterAdminStep;
  return {
    owner,
    // Before the service has reconciled at start, an intent under this process's own name was left by an earlier
    // process that had the same pid (a container's pid 1); after it, it is a step this very process has under way.
    isOwnerAlive: (of) => (of === owner && options.ownStepsLive?.() === true) || isOwnerAlive(of),
    ...(afterStep !== undefined ? { afterStep } : {}),
  };
}

/**
 * An intent's process is alive when it runs on this host and its pid answers signal 0 (and is not this process).
 * An intent written on another host is left alone (its process cannot be asked there): a reconcile on that host
 * finishes it.
 */
function isOwnerAlive(owner: string): boolean {
  const colon = owner.lastIndexOf(':');
  const host = owner.slice(0, colon);
  const pid = Number(owner.slice(colon + 1));
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
