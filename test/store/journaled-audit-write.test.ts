/**
 * Contract §5 (database outage: decisions taken meanwhile reach the trail when the database is back, in order),
 * src/store/journaled-audit-write.ts: the group commit's batch write for a database store goes to the trail while the
 * database takes it, to the local journal (resolving once durable) while it does not, keeps going to the journal while
 * older entries wait there, and drains them in the background; when the journal fails too, the write rejects (the
 * decrypts get 503). Real journal files; the trail is a list whose database can be switched off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { JournaledAuditWrite } from '../../src/store/journaled-audit-write.js';
import { journalEntryId, LocalAuditJournal, type DecisionEntry, type JournalDrainTarget, type JournaledEntry } from '../../src/store/local-audit-journal.js';
import { until } from '../support/until.js';

const decision = (n: number): DecisionEntry => ({
  at: new Date(Date.UTC(2026, 10, 30, 12, 0, 0, n)).toISOString(),
  event: { actor: `user-${n}`, action: 'decrypt', keyName: 'finance', keyId: 'v1', outcome: 'allowed' },
});
const users = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `user-${from + i}`);

/** The trail in a database that can be stopped. */
class SwitchableTrail implements JournalDrainTarget {
  readonly committed: DecisionEntry[] = [];
  up = true;
  attempts = 0;
  async written(entries: readonly JournaledEntry[]): Promise<ReadonlySet<string>> {
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const ids = new Set(this.committed.map((e) => journalEntryId(e.event)));
    return new Set(entries.filter((e) => ids.has(e.id)).map((e) => e.id));
  }
  async write(entries: readonly DecisionEntry[]): Promise<void> {
    this.attempts += 1;
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    this.committed.push(...entries);
  }
  get actors(): string[] {
    return this.committed.map((e) => e.event.actor);
  }
}

describe('§5 audit batches during a database outage (store/journaled-audit-write)', () => {
  let dir: string;
  let trail: SwitchableTrail;
  let writer: JournaledAuditWrite;
  const events: string[] = [];
  const open = async () =>
    new JournaledAuditWrite({
      trail,
      journal: await LocalAuditJournal.open(join(dir, 'data')),
      retryMs: 10,
      onJournaling: (reason) => events.push(`journaling: ${reason}`),
      onDrained: (n) => events.push(`drained ${n}`),
    });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-journaled-'));
    trail = new SwitchableTrail();
    events.length = 0;
    writer = await open();
  });
  afterEach(async () => {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('database up: batches go to the trail, nothing to the journal', async () => {
    await writer.write([decision(1), decision(2)]);
    await writer.write([decision(3)]);
    assert.deepEqual(trail.actors, users(1, 3));
    assert.equal(writer.pending, 0);
    assert.deepEqual(events, []);
  });

  it('database down: batches resolve from the journal, later ones skip the database, and all reach the trail in order once it is back', async () => {
    await writer.write([decision(1)]);
    trail.up = false;
    await writer.write([decision(2), decision(3)]);
    const attempts = trail.attempts;
    await writer.write([decision(4)]);
    assert.equal(writer.pending, 3);
    assert.equal(trail.attempts, attempts, 'while the journal holds entries, a batch does not wait for the database');
    assert.deepEqual(events, ['journaling: connect ECONNREFUSED 127.0.0.1:5432']);
    trail.up = true;
    await writer.write([decision(5)]); // still behind the journaled ones
    // The journal counts its entries out before its drain has finished (it still looks for more): wait for the news too.
    await until(() => writer.pending === 0 && events.at(-1)?.startsWith('drained') === true, 'the journal drained, and said so');
    await writer.write([decision(6)]);
    assert.deepEqual(trail.actors, users(1, 6));
    assert.deepEqual(events.at(-1), 'drained 4');
  });

  it('entries a stopped process left in the journal are drained at the next start, before new ones', async () => {
    trail.up = false;
    await writer.write([decision(1), decision(2)]);
    await writer.close();
    trail.up = true;
    writer = await open();
    assert.equal(writer.pending, 2);
    await until(() => writer.pending === 0, 'the journal drained without a new batch to prompt it');
    await writer.write([decision(3)]);
    assert.deepEqual(trail.actors, users(1, 3));
  });

  it('database and journal both failing: the write rejects, so the decrypts are refused', async () => {
    trail.up = false;
    rmSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data'), 'not a directory');
    await assert.rejects(writer.write([decision(1)]), { code: 'ENOTDIR' });
    assert.equal(writer.pending, 0);
  });

  it('issue 25, DKE_OUTAGE_MODE=refuse: a batch the database refuses is refused, never journaled; entries an earlier run left go to the trail first', async () => {
    trail.up = false;
    await writer.write([decision(1), decision(2)]);
    await writer.close();
    const journal = await LocalAuditJournal.open(join(dir, 'data'));
    writer = new JournaledAuditWrite({ trail, journal, retryMs: 10, refuse: true, onJournaling: (reason) => events.push(`journaling: ${reason}`) });
    await assert.rejects(writer.write([decision(3)]), /ECONNREFUSED/);
    assert.equal(writer.pending, 2, 'the refused batch is not in the journal');
    trail.up = true;
    await writer.write([decision(4)]);
    assert.deepEqual(trail.actors, ['user-1', 'user-2', 'user-4']);
    assert.equal(writer.pending, 0);
    assert.deepEqual(events, ['journaling: connect ECONNREFUSED 127.0.0.1:5432'], 'told once, in journal mode only');
  });
});
