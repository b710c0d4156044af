/**
 * Issue 25, contract §2 (DKE_OUTAGE_MODE) and §5 ("The local journal of outage mode lives on a persistent volume;
 * `dke audit journal status|drain --data-dir DIR` shows and merges, exactly once, a journal left by an instance that
 * will not come back"): real `dke serve` processes on one real PostgreSQL, which is stopped while they answer
 * decrypts. One instance is stopped with SIGTERM and one killed with SIGKILL during the outage, each restarted on its
 * own folder once the database is back; a third is killed and its folder moved elsewhere, to be merged by the CLI; a
 * fourth runs with DKE_OUTAGE_MODE=refuse. Each decrypt carries its own user (a fresh oid), so every 200 the clients
 * saw is looked up in the trail: each must be there exactly once, and `dke audit verify` must pass.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import pg from 'pg';
import { decryptBody, decryptStatus, publishedKey, startCluster, type Cluster, type Instance } from '../support/cluster.js';
import { resumePostgres, suspendPostgres } from '../support/postgres.js';
import { TEST_AUDIENCE } from '../support/test-env.js';

const GROUP = '3c9d1e7a-52b4-4f0e-9a6d-8e1f2b3c4d5e';
/** Decrypts sent to each journaling instance while the database is down. */
const DURING_OUTAGE = 8;

describe('issue 25: the outage journal outlives the instance (SIGTERM, kill -9, a folder moved; DKE_OUTAGE_MODE)', function () {
  this.timeout(20_000);
  let cluster: Cluster;
  /** a: stopped with SIGTERM; b: killed; d: killed, its folder moved; refusing: DKE_OUTAGE_MODE=refuse. */
  let a: Instance;
  let b: Instance;
  let d: Instance;
  let refusing: Instance;
  let keyId: string;
  let body: string;
  /** The oids of every decrypt answered 200, by the instance that answered it. */
  const answered = new Map<string, string[]>();
  let databaseDown = false;

  before(async function () {
    this.timeout(60_000);
    cluster = await startCluster('journal');
    for (const args of [['db', 'migrate'], ['keys', 'create', 'journal', '--allow-group', GROUP]]) {
      const result = await cluster.cli(args);
      assert.equal(result.status, 0, result.stderr);
    }
    [a, b, d, refusing] = await Promise.all([cluster.start('a'), cluster.start('b'), cluster.start('d'), cluster.start('refusing', { DKE_OUTAGE_MODE: 'refuse' })]);
    const key = (await publishedKey(a, 'journal'))!;
    keyId = key.kid.split('/').at(-1)!;
    body = decryptBody(key);
  });
  after(async () => {
    if (databaseDown) await resumePostgres().catch(() => undefined);
    await cluster?.close();
  });

  /** One decrypt by a new user at `instance`; a 200 is remembered under `name`. */
  const decrypt = async (instance: Instance, name: string): Promise<number> => {
    const oid = randomUUID();
    const status = await decryptStatus(instance, 'journal', keyId, body, await cluster.issuer.issueToken({ audience: TEST_AUDIENCE, oid, groups: [GROUP] }));
    if (status === 200) answered.set(name, [...(answered.get(name) ?? []), oid]);
    return status;
  };

  /** How many allowed decrypt entries the trail holds for each oid. */
  const trailCounts = async (): Promise<Map<string, number>> => {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ oid: string }>("SELECT (entry::json)->'details'->>'oid' AS oid FROM audit WHERE (entry::json)->>'action' = 'decrypt' AND (entry::json)->>'outcome' = 'allowed'");
      const counts = new Map<string, number>();
      for (const { oid } of rows) counts.set(oid, (counts.get(oid) ?? 0) + 1);
      return counts;
    } finally {
      await client.end();
    }
  };

  /** Polls until every 200 of these instances is in the trail; fails naming those missing after `limitMs`. */
  const allInTrail = async (names: readonly string[], limitMs = 8_000): Promise<Map<string, number>> => {
    const wanted = names.flatMap((n) => answered.get(n) ?? []);
    for (const deadline = Date.now() + limitMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const counts = await trailCounts();
      const missing = wanted.filter((oid) => !counts.has(oid));
      if (missing.length === 0) return counts;
      if (Date.now() > deadline) assert.fail(`${missing.length} of ${wanted.length} answered decrypts of ${names.join(', ')} are not in the trail`);
    }
  };

  const logLines = (instance: Instance, level: string): { message: string; entries?: number; directory?: string }[] =>
    instance.process.lines.filter((l) => l.includes(`"level":"${level}"`)).map((l) => JSON.parse(l) as { message: string; entries?: number; directory?: string });

  it('a drain racing a live instance on its folder is refused by the lock (exit 2, the holder named)', async () => {
    const folder = join(cluster.dir, 'a');
    const raced = await cluster.cli(['audit', 'journal', 'drain', '--data-dir', folder]);
    assert.equal(raced.status, 2, raced.stdout + raced.stderr);
    const pid = a.process.child.pid!;
    assert.match(raced.stderr, new RegExp(`^dke: The audit journal in ${folder} is in use by process ${pid} \\(started [0-9T:.-]+Z\\) on ${hostname()}; process ${pid} is running, started [0-9T:.-]+Z;`));
    assert.equal(raced.stdout, '');
  });

  it('during the outage: the journaling instances answer every decrypt 200 and say so in readiness and /metrics; DKE_OUTAGE_MODE=refuse answers 503 and writes no journal', async () => {
    await suspendPostgres();
    databaseDown = true;
    for (const [name, instance] of [['a', a], ['b', b], ['d', d]] as const) {
      const statuses = [];
      for (let i = 0; i < DURING_OUTAGE; i += 1) statuses.push(await decrypt(instance, name));
      assert.deepEqual(statuses, Array(DURING_OUTAGE).fill(200), `${name} answers from its journal`);
    }
    // The refusing instance: 503 with Retry-After, never a 200, and no journal in its folder.
    for (let i = 0; i < 3; i += 1) assert.equal(await decrypt(refusing, 'refusing'), 503);
    const refused = await fetch(`${refusing.url}/journal/${keyId}/decrypt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await cluster.issuer.issueToken({ audience: TEST_AUDIENCE, oid: randomUUID(), groups: [GROUP] })}` },
      body,
    });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.deepEqual(await refused.json(), { error: 'store_unavailable', message: 'The key service cannot record this request right now; try again shortly.' });
    assert.equal((await fetch(`${refusing.url}/journal`)).status, 200, 'GET still answers from the key state it read (within the staleness limit)');
    const refusingReady = (await (await fetch(`${refusing.url}/health/ready`)).json()) as { checks: Record<string, { status: string; detail?: string }> };
    assert.equal(refusingReady.checks.store?.status, 'warn');
    assert.match(refusingReady.checks.store!.detail!, /; changes are refused; decrypts are refused \(DKE_OUTAGE_MODE=refuse\); GET answers from the key state read \d+ s ago/);
    assert.ok(!readdirSync(join(cluster.dir, 'refusing')).some((f) => f.startsWith('audit-journal.') && !f.endsWith('.lock')), 'no journal written');
    // The journaling instance names its journal: a readiness warning (still ready) and a gauge.
    const ready = await fetch(`${a.url}/health/ready`);
    const report = (await ready.json()) as { checks: Record<string, { status: string; detail?: string }> };
    assert.equal(ready.status, 200);
    assert.equal(report.checks.auditJournal?.status, 'warn');
    assert.match(report.checks.auditJournal!.detail!, new RegExp(`^\\d+ decrypt audit entr(y waits|ies wait) in the local journal in ${join(cluster.dir, 'a')} for the database`));
    const metrics = await (await fetch(new URL('/metrics', a.adminUrl))).text();
    assert.match(metrics, new RegExp(`^dke_audit_journal_entries ${DURING_OUTAGE}$`, 'm'));
  });

  it('SIGTERM keeps the entries and says how many (exit 0); kill -9 keeps them too', async () => {
    const exitCode = await a.process.stop();
    assert.equal(exitCode, 0);
    const kept = logLines(a, 'warn').find((l) => l.message.startsWith('stopping with'));
    assert.ok(kept, `a warning at the stop: ${a.process.lines.slice(-5).join('\n')}`);
    assert.equal(kept.entries, DURING_OUTAGE);
    assert.equal(kept.directory, join(cluster.dir, 'a'));
    assert.match(kept.message, new RegExp(`^stopping with ${DURING_OUTAGE} audit entries not yet in the trail: they are kept in the local journal in DKE_DATA_DIR;`));
    for (const killed of [b, d]) {
      const exited = new Promise((resolve) => killed.process.child.once('exit', resolve));
      killed.process.child.kill('SIGKILL');
      await exited;
    }
    assert.ok(existsSync(join(cluster.dir, 'a', 'audit-journal.jsonl')), 'the journal is never deleted at a stop');
    // d will not come back: its volume is mounted elsewhere.
    renameSync(join(cluster.dir, 'd'), join(cluster.dir, 'moved'));
  });

  it('each instance restarted on its folder drains what it kept into the trail once the database answers, each entry once', async () => {
    await resumePostgres();
    databaseDown = false;
    const [restartedA, restartedB] = await Promise.all([cluster.start('a'), cluster.start('b')]);
    const counts = await allInTrail(['a', 'b']);
    const twice = ['a', 'b'].flatMap((n) => answered.get(n)!).filter((oid) => counts.get(oid) !== 1);
    assert.deepEqual(twice, [], 'each entry once');
    assert.ok(logLines(restartedA, 'warn').some((l) => l.message.startsWith('the local audit journal holds entries an earlier process left') && l.entries === DURING_OUTAGE));
    assert.ok(logLines(restartedB, 'warn').some((l) => l.message.startsWith('took over a stale audit journal lock')), 'the killed instance\'s lock is taken over');
  });

  it('the folder of an instance that will not come back: status shows it, drain merges it once, a second drain merges nothing; the chain verifies', async () => {
    const moved = join(cluster.dir, 'moved');
    const status = await cluster.cli(['audit', 'journal', 'status', '--data-dir', moved, '--json']);
    assert.equal(status.status, 0, status.stderr);
    const shown = JSON.parse(status.stdout) as { directory: string; entries: number; oldestAt: string; newestAt: string; lock: { pid: number; state: string } };
    assert.equal(shown.directory, moved);
    assert.equal(shown.entries, DURING_OUTAGE);
    assert.ok(shown.oldestAt <= shown.newestAt);
    assert.equal(shown.lock.pid, d.process.child.pid);
    assert.equal(shown.lock.state, 'gone');

    const drained = await cluster.cli(['audit', 'journal', 'drain', '--data-dir', moved]);
    assert.equal(drained.status, 0, drained.stderr);
    assert.equal(drained.stdout, `Merged ${DURING_OUTAGE} audit entries (decided from ${shown.oldestAt} to ${shown.newestAt}) from the journal in ${moved} into the trail; the journal is empty now.\n`);
    const again = await cluster.cli(['audit', 'journal', 'drain', '--data-dir', moved]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, `Nothing was merged: the audit journal in ${moved} holds no entry that is not in the trail.\n`);

    const counts = await trailCounts();
    const all = ['a', 'b', 'd'].flatMap((n) => answered.get(n)!);
    assert.equal(all.length, 3 * DURING_OUTAGE);
    assert.deepEqual(all.filter((oid) => counts.get(oid) !== 1), [], 'every 200 in the trail exactly once');
    const verified = await cluster.cli(['audit', 'verify']);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    console.log(`      ${all.length} decrypts answered 200 during the outage (SIGTERM ${DURING_OUTAGE}, kill -9 ${DURING_OUTAGE}, moved folder ${DURING_OUTAGE}): ${all.length} in the trail, each once; the refusing instance answered 503`);
  });
});
