import { hostname } from 'node:os';
import type { KeyAdminDeps } from '../app/key-admin.js';
import { installedTestSeams } from './test-seams.js';

/**
 * This process as the holder of its intents' leases (issue 25: whether a holder still runs is never guessed; its
 * lease says), and of the scheduler's lease, whose holder may be asked whether it still runs.
 */
export interface AdminProcess extends Pick<KeyAdminDeps, 'afterStep' | 'intentLeaseMs'> {
  readonly owner: string;
  /** The scheduler's job lease only (app/scheduler.ts): is the process that holds it still running? */
  readonly isOwnerAlive: (owner: string) => boolean;
}

/** This process as the owner of the intents its admin steps write (issue 17), with the test seams when set. */
export function adminProcess(): AdminProcess {
  const seams = installedTestSeams();
  const owner = seams.owner ?? `${hostname()}:${process.pid}`;
  const { afterAdminStep: afterStep, intentLeaseMs } = seams;
  return {
    owner,
    isOwnerAlive,
    ...(afterStep !== undefined ? { afterStep } : {}),
    ...(intentLeaseMs !== undefined ? { intentLeaseMs } : {}),
  };
}

/**
 * The scheduler lease's holder is alive when it runs on this host and its pid answers signal 0 (and is not this
 * process); a holder on another host keeps its lease until it passes.
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
