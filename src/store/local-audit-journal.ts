import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '../keys/ports.js';
import { readJournalLock, takeJournalLock, type JournalLockHolder, type JournalLockState } from './journal-lock.js';

/** A journal folder as `dke audit journal status` shows it. */
export interface JournalInspection {
  readonly directory: string;
  /** Entries not yet in the trail. */
  readonly entries: number;
  readonly oldestAt?: string;
  readonly newestAt?: string;
  /** Who holds the journal (undefined: nobody; a stopped instance lets go of it). */
  readonly lock: JournalLockState | undefined;
}

/** A decrypt decision as the audit trail takes it: the time it was made and what was decided. */
export interface DecisionEntry {
  readonly at: string;
  readonly event: AuditEvent;
}

/** A journaled entry: its own id makes a drain that a crash cut short safe to repeat (no entry written twice). */
export interface JournaledEntry extends DecisionEntry {
  readonly id: string;
}

/** Where the journal drains to: the audit trail in the database. */
export interface JournalDrainTarget {
  /** The ids among these entries that the trail holds already (a drain cut short after its commit). */
  written(entries: readonly JournaledEntry[]): Promise<ReadonlySet<string>>;
  /** Writes the entries, in this order, chained, in one transaction; rejects when it cannot. */
  write(entries: readonly DecisionEntry[]): Promise<void>;
}

/** The detail that carries a journaled entry's id into the trail (and says that the entry waited in a journal). */
export const JOURNAL_ENTRY_DETAIL = 'journalEntry';

/** The journal id of an entry (or event) in the trail, if it reached the trail through a journal. */
export function journalEntryId(entry: Pick<AuditEvent, 'details'>): string | undefined {
  const id = entry.details?.[JOURNAL_ENTRY_DETAIL];
  return typeof id === 'string' ? id : undefined;
}

const FILE = 'audit-journal.jsonl';
/** The entries a drain is writing: renamed away from FILE so that appends never wait for the database. */
const DRAINING_FILE = 'audit-journal.draining.jsonl';
/** Holds the id of the process that owns the journal: a second process would drain entries the first still appends. */
const LOCK_FILE = 'audit-journal.lock';
const BATCH = 500;

/**
 * The local durable journal of decrypt audit entries that could not reach the database (contract §5: no audit entry
 * is lost during a database outage). Append-only JSON lines in DKE_DATA_DIR; an append resolves only once its lines
 * are fdatasync'ed, so a decrypt may be answered as soon as it resolves. `drain` writes the entries to the trail in
 * the order they were appended (the chain is computed as they are inserted, so it stays intact) and removes them
 * only after the trail has committed them. Each entry has an id, carried into the trail as a detail: a crash between
 * the trail's commit and the removal leaves entries the next drain finds already written and skips.
 *
 * A crash in the middle of an append can leave a torn last line; that append never resolved (its decrypt was never
 * answered), so opening the journal cuts it off. A damaged line anywhere else is refused with the file's name.
 */
export class LocalAuditJournal {
  readonly #dir: string;
  #handle: FileHandle | undefined;
  /** Appends and the rotation of the file, one at a time and in order. */
  #chain: Promise<unknown> = Promise.resolve();
  #pending: number;
  #draining: Promise<number> | undefined;

  private constructor(dir: string, pending: number) {
    this.#dir = dir;
    this.#pending = pending;
  }

  /**
   * Opens the journal in `dir` (creating the directory), cutting off a torn last line. Refuses, with a sentence, a
   * journal that another running process holds.
   */
  static async open(dir: string): Promise<LocalAuditJournal> {
    mkdirSync(dir, { recursive: true });
    const stale = await takeJournalLock(join(dir, LOCK_FILE));
    let pending = 0;
    for (const name of [DRAINING_FILE, FILE]) pending += (await readEntries(join(dir, name), { repair: true })).length;
    const journal = new LocalAuditJournal(dir, pending);
    journal.staleLock = stale;
    return journal;
  }

  /**
   * What a journal folder holds, read without taking it over or changing it (`dke audit journal status`): the entries
   * not yet in the trail, the oldest and newest of them, and the lock's holder. A torn last line is not counted.
   */
  static async inspect(dir: string): Promise<JournalInspection> {
    const entries = [...(await readEntries(join(dir, DRAINING_FILE), { repair: false })), ...(await readEntries(join(dir, FILE), { repair: false }))];
    const times = entries.map((e) => e.at).sort();
    return { directory: dir, entries: entries.length, ...(times.length > 0 ? { oldestAt: times[0]!, newestAt: times.at(-1)! } : {}), lock: await readJournalLock(join(dir, LOCK_FILE)) };
  }

  /** The lock of a process that is gone (or whose pid was reused), which this journal took over at open. */
  staleLock: JournalLockHolder | undefined;

  /** The folder of the journal (DKE_DATA_DIR). */
  get directory(): string {
    return this.#dir;
  }

  /** The path of the journal file (for sentences naming it). */
  get path(): string {
    return join(this.#dir, FILE);
  }

  /** Entries not yet in the trail. While it is above 0, new entries must go here too, or the trail's order breaks. */
  get pending(): number {
    return this.#pending;
  }

  /** Appends the entries, in order; resolves once they are durable on disk. */
  append(entries: readonly DecisionEntry[]): Promise<void> {
    const lines = entries.map((e) => `${JSON.stringify({ id: randomUUID(), at: e.at, event: e.event })}\n`).join('');
    return this.#serially(async () => {
      if (this.#handle === undefined) {
        const created = !(await exists(this.path));
        this.#handle = await open(this.path, 'a');
        if (created) await syncDirectory(this.#dir);
      }
      const handle = this.#handle;
      const size = (await handle.stat()).size;
      try {
        await handle.write(lines);
        await handle.datasync();
      } catch (error) {
        // A full disk can leave part of a line: cut it off, or the next append would glue a line onto it.
        await handle.truncate(size).catch(() => undefined);
        throw error;
      }
      this.#pending += entries.length;
    });
  }

  /**
   * Writes every pending entry to the trail, oldest first, including those appended while it runs; resolves with
   * how many it wrote. One drain at a time: a call while one runs joins it. Rejects, keeping what is left, when the
   * target does.
   */
  drain(target: JournalDrainTarget): Promise<number> {
    this.#draining ??= this.#drainAll(target).finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  /** Closes the file and lets go of it (entries stay for the next start). */
  async close(): Promise<void> {
    await this.#serially(async () => {
      await this.#handle?.close();
      this.#handle = undefined;
      await unlink(join(this.#dir, LOCK_FILE)).catch(() => undefined);
    });
  }

  async #drainAll(target: JournalDrainTarget): Promise<number> {
    const draining = join(this.#dir, DRAINING_FILE);
    let written = 0;
    for (;;) {
      // Entries a previous drain left (a crash, a failed write) go first: they are older than anything in FILE.
      if (!(await exists(draining)) && !(await this.#rotate(draining))) return written;
      const entries = await readEntries(draining, { repair: false });
      const already = entries.length === 0 ? new Set<string>() : await target.written(entries);
      const left = entries.filter((e) => !already.has(e.id));
      for (let i = 0; i < left.length; i += BATCH) {
        await target.write(left.slice(i, i + BATCH).map(toTrailEntry));
      }
      await unlink(draining);
      await syncDirectory(this.#dir);
      this.#pending -= entries.length;
      written += left.length;
    }
  }

  /** Moves FILE aside for draining, between two appends. False when there is nothing to drain. */
  #rotate(draining: string): Promise<boolean> {
    return this.#serially(async () => {
      if (!(await exists(this.path)) || (await stat(this.path)).size === 0) return false;
      await this.#handle?.close();
      this.#handle = undefined;
      await rename(this.path, draining);
      await syncDirectory(this.#dir);
      return true;
    });
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work, work);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

function toTrailEntry(entry: JournaledEntry): DecisionEntry {
  return { at: entry.at, event: { ...entry.event, details: { ...entry.event.details, [JOURNAL_ENTRY_DETAIL]: entry.id } } };
}

/** The entries of one journal file ([] when it does not exist). With `repair`, a torn last line is cut off the file. */
async function readEntries(file: string, { repair }: { repair: boolean }): Promise<JournaledEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length && repair) await truncate(file, Buffer.byteLength(text.slice(0, complete)));
  return text
    .slice(0, complete)
    .split('\n')
    .slice(0, -1)
    .map((line, index) => {
      try {
        const parsed = JSON.parse(line) as JournaledEntry;
        if (typeof parsed.id !== 'string' || typeof parsed.at !== 'string' || typeof parsed.event?.action !== 'string') throw new Error('fields missing');
        return parsed;
      } catch {
        throw new Error(`the audit journal ${file} is damaged at line ${index + 1}`);
      }
    });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes a created, renamed or removed file's directory entry durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
