/**
 * Issue 30 (scripts/bench/cost-breakdown.ts): how `npm run bench` charges a profile's samples to the parts of a
 * decrypt. The figures themselves come from the benchmark (a script, never a timed test); this holds only the rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { breakdownTable, costSplit, partShares, type Part } from '../../scripts/bench/cost-breakdown.js';
import type { CpuProfile } from '../../scripts/bench/flame-graph.js';

const DIST = 'file:///srv/dke/dist';
const MODULES = 'file:///srv/dke/node_modules';

/** A profile from stacks (outermost frame first) and the microseconds at which each was sampled. */
function profileOf(samples: readonly { stack: readonly [string, string][]; at: number }[]): CpuProfile {
  const nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children: number[] }[] = [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: 0 }, hitCount: 0, children: [] },
  ];
  const ids: number[] = [];
  for (const { stack } of samples) {
    let parent = nodes[0]!;
    for (const [functionName, url] of stack) {
      let child = parent.children.map((id) => nodes[id - 1]!).find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (child === undefined) {
        child = { id: nodes.length + 1, callFrame: { functionName, url, lineNumber: 0 }, hitCount: 0, children: [] };
        nodes.push(child);
        parent.children.push(child.id);
      }
      parent = child;
    }
    parent.hitCount += 1;
    ids.push(parent.id);
  }
  const times = samples.map((s) => s.at);
  return { nodes, startTime: 0, endTime: times.at(-1)!, samples: ids, timeDeltas: times.map((t, i) => t - (times[i - 1] ?? 0)) };
}

const express: [string, string] = ['handle', `${MODULES}/express/lib/application.js`];
const STACKS: Readonly<Record<string, readonly [string, string][]>> = {
  jwt: [express, ['(anonymous)', `${DIST}/http/bearer-auth.js`], ['verify', `${MODULES}/jose/dist/webapi/jwt/verify.js`], ['Hash', 'node:internal/crypto/hash']],
  commitAfterAwait: [['(anonymous)', `${DIST}/store/kysely.js`], ['commitTransaction', `${DIST}/store/kysely.js`], ['executeQuery', `${DIST}/store/kysely.js`], ['run', `${MODULES}/better-sqlite3/lib/methods/wrappers.js`]],
  auditStatement: [['writeEntries', `${DIST}/store/audit-trail.js`], ['executeQuery', `${DIST}/store/kysely.js`], ['prepare', `${MODULES}/better-sqlite3/lib/methods/wrappers.js`]],
  keyState: [express, ['decrypt', `${DIST}/app/dke-protocol.js`], ['lookup', `${DIST}/store/key-store.js`], ['current', `${DIST}/store/sqlite/sqlite-store-connection.js`]],
  logLine: [['emit', 'node:events'], ['(anonymous)', `${DIST}/http/app.js`], ['info', `${DIST}/log/logger.js`], ['write', `${MODULES}/pino/lib/proto.js`], ['stringify', '']],
  metrics: [['(anonymous)', `${DIST}/http/app.js`], ['httpRequest', `${DIST}/metrics/service-metrics.js`], ['observe', `${MODULES}/prom-client/lib/histogram.js`]],
  handOff: [['decrypt', `${DIST}/hsm/decrypt-thread-pool.js`], ['postMessage', 'node:internal/worker'], ['postMessage', '']],
  floorInit: [['answer', 'file:///srv/dke/build-bench/scripts/bench/decrypt-floor.js'], ['C_DecryptInit', '']],
  socketWrite: [['end', 'node:_http_outgoing'], ['writev', '']],
  gc: [['(garbage collector)', '']],
  startUp: [['compileSourceTextModule', 'node:internal/modules/esm/utils']],
};

const EXPECTED: Readonly<Record<string, Part>> = {
  jwt: 'token check (JWT verify)',
  commitAfterAwait: 'audit entry and its commit',
  auditStatement: 'audit entry and its commit',
  keyState: 'authorization and state',
  logLine: 'log line',
  metrics: 'metrics',
  handOff: 'thread hand-off (main thread side)',
  floorInit: 'token calls on the main thread',
  socketWrite: 'HTTP and Express',
  gc: 'garbage collection (main thread)',
};

describe('issue 30: npm run bench charges each profile sample to one part of a decrypt (scripts/bench/cost-breakdown)', () => {
  for (const [name, part] of Object.entries(EXPECTED)) {
    it(`a ${name} sample is "${part}"`, () => {
      const shares = partShares(profileOf([{ stack: STACKS[name]!, at: 1000 }]));
      assert.equal(shares.get(part), 1);
    });
  }

  it('leaves out the samples taken before the measured load (start-up, warm-up)', () => {
    const profile = profileOf([
      { stack: STACKS.startUp!, at: 1_000 },
      { stack: STACKS.startUp!, at: 2_000 },
      { stack: STACKS.jwt!, at: 5_000 },
      { stack: STACKS.logLine!, at: 6_000 },
    ]);
    assert.equal(partShares(profile).get('other (runtime, timers)'), 0.5, 'all samples counted without a start');
    const measured = partShares(profile, 5_000);
    assert.equal(measured.get('other (runtime, timers)'), 0);
    assert.equal(measured.get('token check (JWT verify)'), 0.5);
    assert.equal(measured.get('log line'), 0.5);
  });

  it('prints each part of service and floor and their difference, the threads and the token in one row', () => {
    const service = costSplit(partShares(profileOf([{ stack: STACKS.jwt!, at: 1 }, { stack: STACKS.handOff!, at: 2 }])), 3, 1);
    const floor = costSplit(partShares(profileOf([{ stack: STACKS.floorInit!, at: 1 }])), 2.5, 0.5);
    const table = breakdownTable('NSS', service, floor);
    assert.match(table, /\| token check \(JWT verify\) \| 0\.500 \| 0\.000 \| \+0\.500 \|/);
    // Service: 0.5 hand-off + 2 off the main thread; floor: 0.5 C_DecryptInit on its main thread + 2 elsewhere.
    assert.match(table, /\| token calls \+ thread hand-off \+ other threads \(audit writer, GC helpers\) \| 2\.500 \| 2\.500 \| \+0\.000 \|/);
    assert.match(table, /\| total \| 3\.000 \| 2\.500 \| \+0\.500 \|/);
  });
});
