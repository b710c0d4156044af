/**
 * Contract §5 ("While the database is unreachable, decrypt and GET answer from the last state read, for up to
 * DKE_STATE_STALENESS_SECONDS, then 503 … No audit entry is lost: decisions taken meanwhile reach the trail when the
 * database is back, and the chain still verifies"): the real PostgreSQL is stopped and started again under decrypt
 * load at a `dke serve` process. Each request carries its own user (a fresh oid), so every 200 the clients saw is
 * looked up in the trail afterwards: none may be missing or written twice, and `dke audit verify` passes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import pg from 'pg';
import { TEST_AUDIENCE } from '../support/test-env.js';
import { decryptBody, publishedKey, startCluster, type Cluster, type Instance } from '../support/cluster.js';
import { resumePostgres, suspendPostgres } from '../support/postgres.js';

const GROUP = '7b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
const STALENESS_SECONDS = 3;
const WORKERS = 4;
/**
 * The longest a confirmation of the key state can be older than the moment the database stopped answering: the
 * change counter's poll interval (VERSION_POLL_MS in src/store/postgres-snapshots.ts, 0.4 s) plus the poll's own
 * query and the timers' lateness under load.
 */
const CONFIRMATION_GAP_MS = 400 + 200;

interface Answer {
  /** When the request was sent and when its answer came, in milliseconds since the database stopped answering. */
  readonly sent: number;
  readonly at: number;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly oid: string;
  /** The answer's body when it is not a 200. */
  readonly refusal?: string;
}

/**
 * A session of the test's own on the database, and when the server ended it (performance.now()): a fast shutdown
 * ends every session at once, so this is when the service's sessions ended too, the moment the database stopped
 * answering. The stop command itself returns only later (shell, pg_ctl, shutdown checkpoint: 0.3 s to over 1 s
 * under load), so its return says little about that moment.
 */
async function sessionEnd(url: string): Promise<{ readonly ended: Promise<number> }> {
  const client = new pg.Client({ connectionString: url });
  const ended = new Promise<number>((resolve) => {
    client.on('error', () => resolve(performance.now()));
    client.on('end', () => resolve(performance.now()));
  });
  await client.connect();
  return { ended };
}

describe('§5 the database stopped and started under decrypt load', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let instance: Instance;
  let body: string;

  before(async () => {
    cluster = await startCluster('outage');
    for (const args of [['db', 'migrate'], ['keys', 'create', 'outage', '--allow-group', GROUP]]) {
      const result = await cluster.cli(args);
      assert.equal(result.status, 0, result.stderr);
    }
    instance = await cluster.start('a', { DKE_STATE_STALENESS_SECONDS: String(STALENESS_SECONDS) });
    body = decryptBody((await publishedKey(instance, 'outage'))!);
  });
  after(async () => {
    await resumePostgres().catch(() => undefined);
    await cluster?.close();
  });

  const ready = async (): Promise<{ status: number; store: string }> => {
    const res = await fetch(`${instance.url}/health/ready`);
    const report = (await res.json()) as { checks: { store: { status: string } } };
    return { status: res.status, store: report.checks.store.status };
  };

  it('no failed decrypt within the staleness limit, 503 with Retry-After after it, every 200 in the trail once, the chain verifies', async () => {
    const answers: Answer[] = [];
    let downAt = Number.POSITIVE_INFINITY;
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        const oid = randomUUID();
        const sent = performance.now() - downAt;
        const token = await cluster.issuer.issueToken({ audience: TEST_AUDIENCE, oid, groups: [GROUP] });
        const res = await fetch(`${instance.url}/outage/${(await keyIdOf())}/decrypt`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        });
        const text = await res.text();
        answers.push({ sent, at: performance.now() - downAt, status: res.status, retryAfter: res.headers.get('retry-after'), oid, ...(res.status === 200 ? {} : { refusal: text }) });
        if (res.status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    let keyId: string | undefined;
    const keyIdOf = async (): Promise<string> => (keyId ??= (await publishedKey(instance, 'outage'))!.kid.split('/').at(-1)!);
    const workers = Array.from({ length: WORKERS }, worker);
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    const { ended } = await sessionEnd(cluster.databaseUrl);
    await sleep(500);
    await suspendPostgres();
    downAt = await ended;
    const stopReturned = performance.now() - downAt;
    // Within the limit: the store is a warning, decrypts go on.
    await sleep(Math.max(0, 1_000 - stopReturned));
    assert.deepEqual(await ready(), { status: 200, store: 'warn' });
    // Past it: 503 for decrypts, readiness fails.
    while (!answers.some((a) => a.status === 503)) {
      if (performance.now() - downAt > (STALENESS_SECONDS + 10) * 1000) assert.fail('no 503 after the staleness limit');
      await sleep(50);
    }
    await sleep(1_500);
    assert.deepEqual(await ready(), { status: 503, store: 'fail' });
    await resumePostgres();
    const upAt = performance.now() - downAt;
    while (!answers.some((a) => a.at > upAt && a.status === 200)) {
      if (performance.now() - downAt - upAt > 15_000) assert.fail('decrypts did not recover after the database came back');
      await sleep(50);
    }
    await sleep(500);
    running = false;
    await Promise.all(workers);

    // The limit runs from the last time the database confirmed the state (polled every 0.4 s), so it ends from 2.4 to
    // 3 s after the database stopped answering: before 2.4 s every decrypt must succeed, after 3.2 s every one must be
    // refused.
    const duringLimit = answers.filter((a) => a.sent >= 0 && a.at < STALENESS_SECONDS * 1000 - CONFIRMATION_GAP_MS);
    const pastLimit = answers.filter((a) => a.sent > STALENESS_SECONDS * 1000 + 200 && a.at < upAt);
    const answered = answers.filter((a) => a.status === 200);
    const statuses = (list: Answer[]) => [...new Set(list.map((a) => a.status))].sort();
    assert.ok(duringLimit.length >= 20, `load during the outage (${duringLimit.length})`);
    const refusedEarly = duringLimit.filter((a) => a.status !== 200).map((a) => `${Math.round(a.at)} ms: ${a.status} ${a.refusal}`);
    const serviceLog = () => instance.process.lines.filter((l) => /"level":"(warn|error)"|"status":503/.test(l)).slice(0, 12).join('\n');
    assert.deepEqual(refusedEarly, [], `no failed decrypt inside the staleness limit; the service's log:\n${serviceLog()}`);
    assert.ok(pastLimit.length >= 5, `load past the limit (${pastLimit.length})`);
    assert.deepEqual(statuses(pastLimit), [503], '503 past the limit');
    assert.ok(pastLimit.every((a) => a.retryAfter !== null && Number(a.retryAfter) > 0), 'with Retry-After');

    // The journal drains once the database is back: every 200 ends up in the trail, exactly once.
    let trail: string[] = [];
    for (const deadline = performance.now() + 15_000; performance.now() < deadline; await sleep(200)) {
      const listed = await cluster.cli(['audit', '--json']);
      assert.equal(listed.status, 0, listed.stderr);
      trail = (JSON.parse(listed.stdout) as { action: string; outcome: string; details?: { oid?: string } }[])
        .filter((e) => e.action === 'decrypt' && e.outcome === 'allowed')
        .map((e) => e.details?.oid ?? '');
      if (trail.length >= answered.length) break;
    }
    const inTrail = new Set(trail);
    const missing = answered.filter((a) => !inTrail.has(a.oid));
    const first503 = Math.min(...answers.filter((a) => a.status === 503).map((a) => a.at));
    console.log(
      `      outage (the stop returned after ${Math.round(stopReturned)} ms, the first 503 after ${Math.round(first503)} ms): ${answered.length} decrypts answered 200 (${answered.filter((a) => a.at >= 0 && a.at < upAt).length} while the database was down), ` +
        `${pastLimit.length} answered 503 past the limit; ${trail.length} allowed decrypt entries in the trail, ${missing.length} missing`,
    );
    assert.deepEqual(missing.map((a) => a.oid), [], 'every 200 has its audit entry');
    assert.equal(trail.length, inTrail.size, 'no entry written twice');
    assert.equal(trail.length, answered.length);
    const verified = await cluster.cli(['audit', 'verify']);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });
});
