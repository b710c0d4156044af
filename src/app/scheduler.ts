import type { KeyStateStore, Logger } from '../keys/ports.js';
import type { KeyAdmin } from './key-admin.js';
import type { CreatedVersion, VersionSummary } from './key-admin-views.js';

/** The store-level lease every instance asks for before it runs the jobs. */
const LEASE = 'scheduler';

export interface SchedulerDeps {
  readonly store: KeyStateStore;
  /** The key-admin service acting as `scheduler`, the actor the audit trail names for what the jobs do. */
  readonly admin: KeyAdmin;
  /** This process (`host:pid`), as written in the lease. */
  readonly owner: string;
  /** How long a lease holds; another instance takes over once it has passed without renewal. */
  readonly leaseMs: number;
  readonly logger: Logger;
  /** Are there unfinished admin steps (intents) in the store? Only then is the reconcile run first. */
  readonly hasUnfinishedSteps: () => Promise<boolean>;
  /** Is the process that holds the lease still running? A dead holder's lease is taken over at once. */
  readonly isOwnerAlive: (owner: string) => boolean;
  readonly now?: () => Date;
}

export interface SchedulerRun {
  /** False when another instance holds the lease: it runs the jobs, this one did nothing. */
  readonly ran: boolean;
  readonly destroyed: readonly VersionSummary[];
  readonly rotated: readonly CreatedVersion[];
}

/**
 * The service's background jobs (issue 14): destroying versions whose deletion window has ended, and scheduled rotation. Exactly one instance
 * runs them at a time, the one holding the lease in the shared store (taken in a write transaction, so it is the
 * store's write lock that decides); unfinished steps a dead run left behind are reconciled first, so a run that died
 * half-way is finished by the next.
 */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  #running: Promise<SchedulerRun> | undefined;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Resolves once the pass in flight (if any) has ended, so the HSM is closed only after it. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  /** One pass of every job; concurrent calls share the pass in flight. */
  runOnce(): Promise<SchedulerRun> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<SchedulerRun> {
    const now = (this.#deps.now ?? (() => new Date()))();
    const until = new Date(now.getTime() + this.#deps.leaseMs).toISOString();
    if (!(await this.#claim(now.toISOString(), until))) return { ran: false, destroyed: [], rotated: [] };
    if (await this.#deps.hasUnfinishedSteps()) await this.#deps.admin.reconcile(false);
    const destroyed = await this.#deps.admin.destroyDueVersions();
    for (const version of destroyed) this.#deps.logger.info('deletion window ended: version destroyed', { key: `${version.name}/${version.keyId}` });
    const rotated = await this.#deps.admin.rotateDueKeys();
    for (const version of rotated) this.#deps.logger.info('scheduled rotation: new version published', { key: `${version.name}/${version.keyId}` });
    return { ran: true, destroyed, rotated };
  }

  async #claim(now: string, until: string): Promise<boolean> {
    const { store, owner } = this.#deps;
    if (await store.claimJobLease(LEASE, owner, now, until)) return true;
    const holder = await store.jobLeaseHolder(LEASE);
    return holder !== undefined && !this.#deps.isOwnerAlive(holder) && (await store.claimJobLease(LEASE, owner, now, until, holder));
  }
}
