import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * Who holds an audit journal (the lock file in its folder): the process id, when that process started and on which
 * host. The start time makes a reused pid recognisable: in a container the next process often gets the same small
 * pid as the one that was killed, or another live process gets it, and a lock naming only a pid would then look held.
 */
export interface JournalLockHolder {
  readonly pid: number;
  /** The holder's start time (ISO), from /proc; absent in a lock written by an older version or off Linux. */
  readonly startedAt?: string;
  readonly host?: string;
}

/** A holder as this host sees it now: `running` (that very process is alive), `gone`, or `unknown` (another host). */
export interface JournalLockState extends JournalLockHolder {
  readonly state: 'running' | 'gone' | 'unknown';
  /** When the process that has this pid now started, when it is alive here (a reused pid shows a different time). */
  readonly runningSince?: string;
}

/** The journal is locked by another process that may be running: the sentence names it and says how to judge it. */
export class JournalLocked extends Error {
  readonly holder: JournalLockState;

  constructor(lockFile: string, holder: JournalLockState) {
    super(lockedSentence(lockFile, holder));
    this.holder = holder;
  }
}

/**
 * Takes the lock for this process, unless another process that may still run holds it. A lock whose holder is gone,
 * or whose pid now belongs to a process started at another time (a reused pid), is stale and taken over; resolves
 * with that stale holder then, so the caller can say so.
 */
export async function takeJournalLock(lockFile: string): Promise<JournalLockHolder | undefined> {
  const mine = JSON.stringify(currentHolder());
  if (await writeFile(lockFile, mine, { flag: 'wx' }).then(() => true, () => false)) return undefined;
  const holder = await readJournalLock(lockFile);
  if (holder !== undefined && holder.pid !== process.pid && holder.state !== 'gone') throw new JournalLocked(lockFile, holder);
  await writeFile(lockFile, mine);
  return holder;
}

/** The holder named in a lock file, judged from here; undefined when there is no lock file (or it is unreadable). */
export async function readJournalLock(lockFile: string): Promise<JournalLockState | undefined> {
  const text = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const holder = parseHolder(text);
  return holder === undefined ? undefined : judge(holder);
}

function currentHolder(): JournalLockHolder {
  const startedAt = processStartTime(process.pid);
  return { pid: process.pid, ...(startedAt !== undefined ? { startedAt } : {}), host: hostname() };
}

/** A lock of this version (JSON) or of an older one (the pid alone). */
function parseHolder(text: string): JournalLockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<JournalLockHolder> | number;
    if (typeof parsed === 'number') return Number.isInteger(parsed) && parsed > 0 ? { pid: parsed } : undefined;
    if (!Number.isInteger(parsed.pid) || parsed.pid! <= 0) return undefined;
    return { pid: parsed.pid!, ...(typeof parsed.startedAt === 'string' ? { startedAt: parsed.startedAt } : {}), ...(typeof parsed.host === 'string' ? { host: parsed.host } : {}) };
  } catch {
    return undefined;
  }
}

function judge(holder: JournalLockHolder): JournalLockState {
  // Another host's process ids say nothing here (a volume moved to another node, a shared folder).
  if (holder.host !== undefined && holder.host !== hostname()) return { ...holder, state: 'unknown' };
  if (!isRunning(holder.pid)) return { ...holder, state: 'gone' };
  const runningSince = processStartTime(holder.pid);
  const reused = holder.startedAt !== undefined && runningSince !== undefined && runningSince !== holder.startedAt;
  return { ...holder, state: reused ? 'gone' : 'running', ...(runningSince !== undefined ? { runningSince } : {}) };
}

function lockedSentence(lockFile: string, holder: JournalLockState): string {
  const dir = dirname(lockFile);
  const recorded = `process ${holder.pid}${holder.startedAt !== undefined ? ` (started ${holder.startedAt})` : ''}${holder.host !== undefined ? ` on ${holder.host}` : ''}`;
  if (holder.state === 'unknown') {
    return `the audit journal in ${dir} is locked by ${recorded}, another host, whose processes cannot be checked from here; the lock may be stale: if that instance is gone for good, remove ${lockFile} and try again`;
  }
  const now = holder.runningSince !== undefined ? `process ${holder.pid} is running, started ${holder.runningSince}` : `process ${holder.pid} is running`;
  const stale = holder.startedAt === undefined ? 'the lock records no start time, so a reused pid cannot be told apart and the lock may be stale' : 'the lock may be stale if that is not a dke process using this folder';
  return `the audit journal in ${dir} is in use by ${recorded}; ${now}; ${stale}. Give each instance a DKE_DATA_DIR of its own; if no dke process uses this folder, remove ${lockFile} and try again`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/**
 * When a process started (ISO, to the hundredth of a second), from /proc/PID/stat's start time (ticks after boot) and
 * the boot time in /proc/stat; undefined where there is no /proc (the lock then relies on the pid alone).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(boot)) return undefined;
    return new Date(boot * 1000 + Math.round((ticks * 1000) / USER_HZ)).toISOString();
  } catch {
    return undefined;
  }
}
