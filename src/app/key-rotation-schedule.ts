import { effectiveRotationPeriodMs, rotationPeriodProblem } from '../keys/admin-inputs.js';
import { DEFAULT_ROTATION_MINIMUM_MS } from '../keys/admin-policy.js';
import type { KeyRecord } from '../keys/key-version.js';
import type { AdminContext } from './admin-context.js';
import type { VersionSummary as CreatedVersion } from './admin-shapes.js';

/**
 * Scheduled rotation (contract §3 `dke keys rotation`, §4): the period of each key name, and the scheduler's job that
 * rotates the names whose newest Active version is older than it. `rotate` is the lifecycle's (key-lifecycle.ts).
 */
export class KeyRotationSchedule {
  readonly #ctx: AdminContext;
  readonly #rotate: (name: string) => Promise<CreatedVersion>;

  constructor(ctx: AdminContext, rotate: (name: string) => Promise<CreatedVersion>) {
    this.#ctx = ctx;
    this.#rotate = rotate;
  }

  /**
   * With `every` (a span such as 90d, at least the stored policy's rotation minimum), the scheduler publishes a new
   * version whenever the newest Active one is older than that; undefined turns it off.
   */
  async set(name: string, every: string | undefined): Promise<void> {
    const ctx = this.#ctx;
    await ctx.requireKey(name);
    const problem = every === undefined ? undefined : rotationPeriodProblem(every, ctx.policy().rotationMinimumMs);
    if (problem !== undefined) throw await ctx.audit.refusal('rotation', name, problem);
    await ctx.deps.store.change(async (tx) => {
      const changed = await tx.setRotation(name, every?.trim());
      await ctx.audit.within(tx).succeeded('rotation', name, undefined, { every: every?.trim() ?? null, changed });
    });
  }

  /** The scheduler's rotation job: every key name whose newest Active version is older than its period gets a new one. */
  async rotateDueKeys(): Promise<CreatedVersion[]> {
    const now = this.#ctx.now().getTime();
    const minimumMs = this.#ctx.policy().rotationMinimumMs;
    const rotated: CreatedVersion[] = [];
    for (const record of this.#ctx.deps.store.listKeys()) {
      const due = nextRotationAt(record, minimumMs);
      if (due === undefined || Date.parse(due) > now) continue;
      rotated.push(await this.#rotate(record.name));
    }
    return rotated;
  }
}

/**
 * When the scheduler publishes a new version of this key name: once its newest Active version is as old as the
 * period (so at the first run after this instant). Undefined without a schedule or without an Active version.
 */
export function nextRotationAt(record: Pick<KeyRecord, 'rotationEvery' | 'versions'>, minimumMs = DEFAULT_ROTATION_MINIMUM_MS): string | undefined {
  // A period stored before the minimum was raised runs at the minimum (keys/admin-inputs.ts).
  const period = record.rotationEvery === undefined ? undefined : effectiveRotationPeriodMs(record.rotationEvery, minimumMs);
  if (period === undefined) return undefined;
  const newestActive = record.versions.filter((v) => v.state === 'active').map((v) => Date.parse(v.createdAt)).sort((a, b) => b - a)[0];
  return newestActive === undefined ? undefined : new Date(newestActive + period).toISOString();
}
