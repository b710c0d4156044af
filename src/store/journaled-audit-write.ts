import type { AuditEvent } from '../keys/ports.js';
import { journalEntryId, type DecisionEntry, type JournalDrainTarget, type LocalAuditJournal } from './local-audit-journal.js';

export interface JournaledAuditWriteOptions {
  /** Writes a batch to the trail in the database, chained, in one transaction; rejects when it cannot. */
  readonly trail: JournalDrainTarget;
  readonly journal: LocalAuditJournal;
  /** How long to wait before trying to drain again after the database refused (doubling up to `maxRetryMs`). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Told when entries start going to the journal (the database refused a write), and when the journal is drained. */
  readonly onJournaling?: (reason: string) => void;
  readonly onDrained?: (entries: number) => void;
  /**
   * DKE_OUTAGE_MODE=refuse: a batch the database refuses is refused (its decrypts get 503), never journaled; entries an
   * earlier process left in the journal still go to the trail first.
   */
  readonly refuse?: boolean;
}

/**
 * The audit group commit's batch write for a store in a database (contract §5: no audit entry is lost during an
 * outage). A batch goes to the trail while the database takes it; when the database refuses it, to the local journal,
 * which resolves only once the batch is on disk, so the decrypts it holds may still be answered. While the journal
 * holds entries, every new batch joins them there, so that the trail receives the decisions in the order they were
 * taken; the journal is drained in the background, and once it is empty batches go to the trail again. When the
 * journal cannot be written either, the batch write rejects and the group commit refuses the decrypts (503).
 */
export class JournaledAuditWrite {
  readonly #options: JournaledAuditWriteOptions;
  /** The first retry delay, and the one a successful drain returns to. */
  readonly #firstRetryMs: number;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #closed = false;
  /** Entries drained since the journal last began to fill (for onDrained). */
  #drained = 0;

  constructor(options: JournaledAuditWriteOptions) {
    this.#options = options;
    this.#firstRetryMs = options.retryMs ?? 250;
    this.#retryMs = this.#firstRetryMs;
    // Entries left by an earlier process (it stopped during an outage) go first.
    if (options.journal.pending > 0) this.#scheduleDrain(0);
  }

  /** The batch write the group commit calls (one batch at a time). */
  readonly write = async (entries: readonly DecisionEntry[]): Promise<void> => {
    if (this.#options.refuse === true) {
      if (this.#options.journal.pending > 0) await this.#options.journal.drain(this.#options.trail);
      await this.#options.trail.write(entries);
      return;
    }
    let refusedBecause: string | undefined;
    if (this.#options.journal.pending === 0) {
      try {
        await this.#options.trail.write(entries);
        return;
      } catch (error) {
        refusedBecause = error instanceof Error ? error.message : String(error);
      }
    }
    await this.#options.journal.append(entries);
    // Told once the entries are in the journal, so that whoever looks at it then (readiness) sees them.
    if (refusedBecause !== undefined) this.#options.onJournaling?.(refusedBecause);
    this.#scheduleDrain(this.#draining === undefined && this.#timer === undefined ? 0 : this.#retryMs);
  };

  /** Entries waiting in the journal for the database. */
  get pending(): number {
    return this.#options.journal.pending;
  }

  /** Stops draining (the journal keeps what it holds for the next start) and closes it. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#draining;
    await this.#options.journal.close();
  }

  #scheduleDrain(delayMs: number): void {
    if (this.#closed || this.#timer !== undefined || this.#draining !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#draining = this.#drain().finally(() => {
        this.#draining = undefined;
        if (this.#options.journal.pending > 0) this.#scheduleDrain(this.#retryMs);
      });
    }, delayMs);
  }

  async #drain(): Promise<void> {
    try {
      this.#drained += await this.#options.journal.drain(this.#options.trail);
      this.#retryMs = this.#firstRetryMs;
      if (this.#options.journal.pending === 0) {
        this.#options.onDrained?.(this.#drained);
        this.#drained = 0;
      }
    } catch {
      this.#retryMs = Math.min(this.#options.maxRetryMs ?? 5_000, this.#retryMs * 2);
    }
  }
}

/** The trail as a drain target: its batch write, and which journaled entries it holds already (listed by time). */
export function trailDrainTarget(trail: {
  writeEntries(entries: readonly DecisionEntry[]): Promise<void>;
  list(since?: Date): Promise<readonly Pick<AuditEvent, 'details'>[]>;
}): JournalDrainTarget {
  return {
    write: (entries) => trail.writeEntries(entries),
    async written(entries) {
      // Drained entries keep the time of their decision: none can sit in the trail before the oldest of them.
      const oldest = entries.reduce((min, e) => (e.at < min ? e.at : min), entries[0]!.at);
      const ids = new Set((await trail.list(new Date(oldest))).map(journalEntryId));
      return new Set(entries.filter((e) => ids.has(e.id)).map((e) => e.id));
    },
  };
}
