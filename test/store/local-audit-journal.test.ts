/**
 * Contract §5 (database outage: "No audit entry is lost: decisions taken meanwhile reach the trail when the database
 * is back, and the chain still verifies"), src/store/local-audit-journal.ts: decrypt entries that cannot reach the
 * database wait in an fsync'd journal in DKE_DATA_DIR and are drained into the trail in the order they were taken,
 * each exactly once, across failed writes, appends made during a drain, and a crash between the trail's commit and
 * the journal's removal. Real files in a temporary directory; the trail is a list here (the PostgreSQL trail's own
 * tests and the multi-instance outage test drain into the real one).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'mocha';
import {
  journalEntryId,
  LocalAuditJournal,
  type DecisionEntry,
  type JournalDrainTarget,
  type JournaledEntry,
} from '../../src/store/local-audit-journal.js';
import { processStartTime } from '../../src/store/journal-lock.js';

/** Decision n: a decrypt by user n, at a time that orders them. */
function decision(n: number): DecisionEntry {
  return {
    at: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, n)).toISOString(),
    event: { actor: `user-${n}`, action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'allowed', details: { tenant: 't' } },
  };
}

/** The audit trail as a list of committed entries, with the faults a database can have. */
class ListTrail implements JournalDrainTarget {
  readonly committed: DecisionEntry[] = [];
  writes = 0;
  /** Called before each write: throw to refuse it (nothing committed). */
  beforeCommit: (write: number) => void | Promise<void> = () => undefined;
  /** Called after each commit: throw to model a crash after the commit, before the journal learns of it. */
  afterCommit: (write: number) => void = () => undefined;

  async written(entries: readonly JournaledEntry[]): Promise<ReadonlySet<string>> {
    const ids = new Set(this.committed.map((e) => journalEntryId(e.event)));
    return new Set(entries.filter((e) => ids.has(e.id)).map((e) => e.id));
  }

  async write(entries: readonly DecisionEntry[]): Promise<void> {
    const write = ++this.writes;
    await this.beforeCommit(write);
    this.committed.push(...entries);
    this.afterCommit(write);
  }

  get actors(): string[] {
    return this.committed.map((e) => e.event.actor);
  }
}

const users = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `user-${from + i}`);

describe('§5 the local audit journal (store/local-audit-journal)', () => {
  let dir: string;
  let journal: LocalAuditJournal;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-journal-'));
    journal = await LocalAuditJournal.open(join(dir, 'data'));
  });
  afterEach(async () => {
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an append is on disk when it resolves, one JSON line per entry with its own id, and survives a restart', async () => {
    await journal.append([decision(1), decision(2)]);
    await journal.append([decision(3)]);
    assert.equal(journal.pending, 3);
    const lines = readFileSync(journal.path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as JournaledEntry);
    assert.deepEqual(lines.map((l) => l.event.actor), users(1, 3));
    assert.equal(new Set(lines.map((l) => l.id)).size, 3);
    assert.deepEqual(lines[0]!.event, decision(1).event);
    assert.equal(lines[0]!.at, decision(1).at, 'the time of the decision, not of the drain');
    // Another process opening the directory now (a restart after a crash) finds all three.
    const reopened = await LocalAuditJournal.open(join(dir, 'data'));
    assert.equal(reopened.pending, 3);
    const trail = new ListTrail();
    assert.equal(await reopened.drain(trail), 3);
    assert.deepEqual(trail.actors, users(1, 3));
  });

  it('drains into the trail in order, with each entry\'s journal id and decision time, then is empty', async () => {
    for (let n = 1; n <= 1200; n += 100) await journal.append(Array.from({ length: 100 }, (_, i) => decision(n + i)));
    const trail = new ListTrail();
    assert.equal(await journal.drain(trail), 1200);
    assert.deepEqual(trail.actors, users(1, 1200));
    assert.equal(trail.writes, 3, 'batches of 500');
    assert.equal(trail.committed[5]!.at, decision(6).at);
    assert.match(String(trail.committed[5]!.event.details?.journalEntry), /^[0-9a-f-]{36}$/);
    assert.equal(trail.committed[5]!.event.details?.tenant, 't', 'the decision\'s own details are kept');
    assert.equal(journal.pending, 0);
    assert.deepEqual(readdirSync(join(dir, 'data')), ['audit-journal.lock']);
    assert.equal(await journal.drain(trail), 0);
    assert.equal(trail.committed.length, 1200);
  });

  it('a write the database refuses keeps the rest: the next drain goes on in order, nothing twice', async () => {
    await journal.append(Array.from({ length: 1200 }, (_, i) => decision(i + 1)));
    const trail = new ListTrail();
    trail.beforeCommit = (write) => {
      if (write === 2) throw new Error('connection refused');
    };
    await assert.rejects(journal.drain(trail), /connection refused/);
    assert.deepEqual(trail.actors, users(1, 500));
    assert.equal(journal.pending, 1200, 'pending until the whole drain has committed');
    await journal.append([decision(1201)]);
    trail.beforeCommit = () => undefined;
    assert.equal(await journal.drain(trail), 701);
    assert.deepEqual(trail.actors, users(1, 1201));
    assert.equal(journal.pending, 0);
  });

  it('a crash after the trail committed but before the journal was emptied: the restarted drain skips what is written', async () => {
    await journal.append(Array.from({ length: 700 }, (_, i) => decision(i + 1)));
    const trail = new ListTrail();
    trail.afterCommit = () => {
      throw new Error('killed');
    };
    await assert.rejects(journal.drain(trail), /killed/);
    assert.equal(trail.committed.length, 500);
    await journal.close();
    // The process is gone; a new one opens the same directory and drains into the same trail.
    journal = await LocalAuditJournal.open(join(dir, 'data'));
    assert.equal(journal.pending, 700);
    trail.afterCommit = () => undefined;
    assert.equal(await journal.drain(trail), 200);
    assert.deepEqual(trail.actors, users(1, 700));
    assert.equal(new Set(trail.committed.map((e) => e.event.details?.journalEntry)).size, 700);
  });

  it('entries appended while a drain writes land after the older ones, in the same drain, and appends never wait for it', async () => {
    await journal.append([decision(1), decision(2)]);
    const trail = new ListTrail();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    trail.beforeCommit = (write) => (write === 1 ? gate : undefined);
    const draining = journal.drain(trail);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await journal.append([decision(3)]); // resolves although the database write is still held
    await journal.append([decision(4)]);
    assert.equal(journal.pending, 4);
    assert.equal(journal.drain(trail), draining, 'a second drain joins the running one');
    release();
    assert.equal(await draining, 4);
    assert.deepEqual(trail.actors, users(1, 4));
    assert.equal(journal.pending, 0);
  });

  it('a torn last line (a crash inside an append that never resolved) is cut off; a damaged line elsewhere is refused by name', async () => {
    await journal.append([decision(1)]);
    await journal.close();
    appendFileSync(join(dir, 'data', 'audit-journal.jsonl'), '{"id":"torn","at":"2026-11-30T12:');
    journal = await LocalAuditJournal.open(join(dir, 'data'));
    assert.equal(journal.pending, 1);
    await journal.append([decision(2)]);
    const trail = new ListTrail();
    assert.equal(await journal.drain(trail), 2);
    assert.deepEqual(trail.actors, users(1, 2));

    await journal.close();
    writeFileSync(join(dir, 'data', 'audit-journal.jsonl'), `not json\n${JSON.stringify({ id: 'x', ...decision(3) })}\n`);
    await assert.rejects(LocalAuditJournal.open(join(dir, 'data')), {
      message: `the audit journal ${join(dir, 'data', 'audit-journal.jsonl')} is damaged at line 1`,
    });
    journal = await LocalAuditJournal.open(join(dir, 'other'));
  });

  it('one process per journal: a live other holder is refused with a sentence, a dead one\'s lock is taken over', async () => {
    await journal.append([decision(1)]);
    const lock = join(dir, 'data', 'audit-journal.lock');
    assert.deepEqual(JSON.parse(readFileSync(lock, 'utf8')), { pid: process.pid, startedAt: processStartTime(process.pid), host: hostname() });
    // alive: the process that started this test run, with the start time /proc gives it
    const parent = { pid: process.ppid, startedAt: processStartTime(process.ppid)!, host: hostname() };
    writeFileSync(lock, JSON.stringify(parent));
    const data = join(dir, 'data');
    await assert.rejects(LocalAuditJournal.open(data), {
      message:
        `the audit journal in ${data} is in use by process ${parent.pid} (started ${parent.startedAt}) on ${hostname()}; process ${parent.pid} is running, started ${parent.startedAt}; ` +
        `the lock may be stale if that is not a dke process using this folder. Give each instance a DKE_DATA_DIR of its own; if no dke process uses this folder, remove ${lock} and try again`,
    });
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lock, JSON.stringify({ ...parent, pid: gone }));
    const next = await LocalAuditJournal.open(data);
    assert.equal(next.pending, 1);
    assert.deepEqual(next.staleLock, { ...parent, pid: gone, state: 'gone' });
    assert.equal(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid);
    await next.close();
  });

  it('issue 25: a lock naming a reused pid (alive, started at another time) is stale and taken over; a lock without a start time is named as possibly stale', async () => {
    await journal.close();
    const data = join(dir, 'data');
    const lock = join(data, 'audit-journal.lock');
    const runningSince = processStartTime(process.ppid)!;
    // The pid of a process killed before the one that has it now started: a container's next process, for instance.
    const killedAt = new Date(Date.parse(runningSince) - 60_000).toISOString();
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, startedAt: killedAt, host: hostname() }));
    const next = await LocalAuditJournal.open(data);
    assert.deepEqual(next.staleLock, { pid: process.ppid, startedAt: killedAt, host: hostname(), state: 'gone', runningSince });
    await next.close();
    // A lock of an older version names the pid alone: it may be a reused one, and the sentence says so with its start time.
    writeFileSync(lock, String(process.ppid));
    await assert.rejects(LocalAuditJournal.open(data), {
      message:
        `the audit journal in ${data} is in use by process ${process.ppid}; process ${process.ppid} is running, started ${runningSince}; ` +
        `the lock records no start time, so a reused pid cannot be told apart and the lock may be stale. Give each instance a DKE_DATA_DIR of its own; if no dke process uses this folder, remove ${lock} and try again`,
    });
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, startedAt: runningSince, host: 'dke-service-2' }));
    await assert.rejects(LocalAuditJournal.open(data), { message: new RegExp(`locked by process ${process.ppid} \\(started ${runningSince.replace(/\./g, '\\.')}\\) on dke-service-2, another host, whose processes cannot be checked from here; the lock may be stale`) });
    const inspected = await LocalAuditJournal.inspect(data);
    assert.equal(inspected.lock?.state, 'unknown');
    journal = await LocalAuditJournal.open(join(dir, 'other'));
  });
});
