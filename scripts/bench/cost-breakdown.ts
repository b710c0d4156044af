/**
 * What the service adds to a decrypt, split by where it goes (issue 30). A `node --cpu-prof` profile of a process's
 * main thread under load gives the shares of its busy samples; each sample is charged to the part of the work its
 * stack is in (the innermost frame that belongs to a part: pino called from the request's log line is the log line,
 * better-sqlite3 called from the audit batch is the audit entry). The shares times the main thread's CPU per decrypt,
 * measured without the profiler from /proc, give milliseconds per decrypt; the CPU of the process's other threads
 * (the token's work on the decrypt threads or libuv's, the hand-off to them, V8's collector threads) is one more row.
 * The same for the Express 5 + helmet floor on the same token, so that each row's difference is what the service adds.
 */
import { origin, type CpuProfile } from './flame-graph.js';

/** The parts of a decrypt's CPU, in the order the table prints them. */
export const PARTS = [
  'HTTP and Express',
  'token check (JWT verify)',
  'authorization and state',
  'audit entry and its commit',
  'log line',
  'metrics',
  'HSM adapter (sessions, key handles)',
  'thread hand-off (main thread side)',
  'token calls on the main thread',
  'garbage collection (main thread)',
  'other (runtime, timers)',
] as const;
export type Part = (typeof PARTS)[number];

interface ProfileFrame {
  readonly functionName: string;
  readonly url: string;
}

/**
 * The service's own modules by part. The store's query layer (Kysely, bundled into store/kysely.js, and the engines'
 * connections) only works for its caller and is left to the frames above it; a commit whose stack starts at an
 * await (so without its caller) is the audit batch's, the one write of the decrypt path.
 */
const STORE_PLUMBING = /^service store\/(kysely|sqlite\/|postgres\/|store-transaction|store-connection)/;
const OWN_PARTS: readonly [RegExp, Part][] = [
  [/^service (auth\/|http\/bearer-auth)/, 'token check (JWT verify)'],
  [/^service (store\/(audit-|journaled-audit|local-audit)|app\/decrypt-activity)/, 'audit entry and its commit'],
  [/^service log\//, 'log line'],
  [/^service metrics\//, 'metrics'],
  [/^service hsm\/decrypt-thread-pool/, 'thread hand-off (main thread side)'],
  [/^service hsm\//, 'HSM adapter (sessions, key handles)'],
  [/^service (keys|app|store)\//, 'authorization and state'],
  [/^service http\//, 'HTTP and Express'],
];
const PACKAGE_PARTS: Readonly<Record<string, Part>> = {
  jose: 'token check (JWT verify)',
  pino: 'log line',
  'sonic-boom': 'log line',
  'thread-stream': 'log line',
  'prom-client': 'metrics',
  express: 'HTTP and Express',
  router: 'HTTP and Express',
  'body-parser': 'HTTP and Express',
  'raw-body': 'HTTP and Express',
  finalhandler: 'HTTP and Express',
  helmet: 'HTTP and Express',
  pkcs11js: 'token calls on the main thread',
};
/** Node's own modules that are the HTTP server's work when nothing above them is charged. */
const NODE_HTTP = /^node:(_http|net|internal\/(stream_base_commons|streams|http))/;
const NODE_WORKER = /^node:internal\/(worker|per_context\/messageport)/;
/** The token's calls (pkcs11js's native functions). */
const PKCS11_CALL = /^C_[A-Z]/;
const IDLE = '(idle)';
const STORE_TRANSACTION = /^(begin|commit|rollback)Transaction$/;

/** The part one frame belongs to, or undefined when it only works for its caller (a library, Node, a builtin). */
function framePart(frame: ProfileFrame): Part | undefined {
  if (frame.url === '' && PKCS11_CALL.test(frame.functionName)) return 'token calls on the main thread';
  if (NODE_WORKER.test(frame.url)) return 'thread hand-off (main thread side)';
  const where = origin({ ...frame, lineNumber: 0 });
  if (STORE_PLUMBING.test(where)) return undefined;
  if (where.startsWith('service ')) return OWN_PARTS.find(([pattern]) => pattern.test(where))?.[1];
  return PACKAGE_PARTS[where];
}

/** The part of a sample whose stack is `stack` (innermost frame first). */

function samplePart(stack: readonly ProfileFrame[]): Part {
  for (const frame of stack) {
    const part = framePart(frame);
    if (part !== undefined) return part;
  }
  if (stack.some((frame) => NODE_HTTP.test(frame.url))) return 'HTTP and Express';
  if (stack.some((frame) => STORE_TRANSACTION.test(frame.functionName) && STORE_PLUMBING.test(origin({ ...frame, lineNumber: 0 })))) {
    return 'audit entry and its commit';
  }
  if (stack[0]?.functionName === '(garbage collector)') return 'garbage collection (main thread)';
  return 'other (runtime, timers)';
}

/**
 * Hits per node of the samples taken at or after `fromMicros` (V8's clock, CLOCK_MONOTONIC as process.hrtime), so
 * that start-up (module loading, compilation) and warm-up stay out; every sample when the profile has no times.
 */
function hitsSince(profile: CpuProfile, fromMicros: number): Map<number, number> {
  const hits = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  if (samples === undefined || timeDeltas === undefined) {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
    return hits;
  }
  let at = profile.startTime;
  samples.forEach((id, i) => {
    at += timeDeltas[i] ?? 0;
    if (at >= fromMicros) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

/** Shares of the profile's busy samples from `fromMicros` on, by part (they add up to 1). */
export function partShares(profile: CpuProfile, fromMicros = 0): Map<Part, number> {
  const counted = hitsSince(profile, fromMicros);
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<Part, number>(PARTS.map((p) => [p, 0]));
  let busy = 0;
  for (const node of profile.nodes) {
    const count = counted.get(node.id) ?? 0;
    if (count === 0 || node.callFrame.functionName === IDLE) continue;
    const stack: ProfileFrame[] = [];
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) stack.push(byId.get(id)!.callFrame);
    const part = samplePart(stack);
    hits.set(part, hits.get(part)! + count);
    busy += count;
  }
  return new Map(PARTS.map((p) => [p, hits.get(p)! / Math.max(1, busy)]));
}

/** A process's CPU per decrypt by part: its main thread split by the profile's shares, its other threads as one. */
export interface CostSplit {
  readonly mainThread: ReadonlyMap<Part, number>;
  /**
   * CPU ms per decrypt of every other thread (the token's crypto there, decrypt threads, the audit writer thread,
   * libuv, V8's helpers).
   */
  readonly otherThreads: number;
  readonly total: number;
}

export function costSplit(shares: ReadonlyMap<Part, number>, cpuMsPerRequest: number, mainThreadMsPerRequest: number): CostSplit {
  return {
    mainThread: new Map(PARTS.map((p) => [p, (shares.get(p) ?? 0) * mainThreadMsPerRequest])),
    otherThreads: cpuMsPerRequest - mainThreadMsPerRequest,
    total: cpuMsPerRequest,
  };
}

/**
 * The table: each part of the main thread, then "the token and its threads" (the token calls wherever they run, the
 * hand-off to the decrypt threads, the other threads: with the embedded store, the audit writer thread's SQL and commit
 * are there too), service beside floor and the difference.
 */
export function breakdownTable(title: string, service: CostSplit, floor: CostSplit): string {
  const ms = (n: number): string => n.toFixed(3);
  const rows: [string, number, number][] = [];
  for (const part of PARTS) {
    if (part === 'thread hand-off (main thread side)' || part === 'token calls on the main thread') continue;
    rows.push([part, service.mainThread.get(part)!, floor.mainThread.get(part)!]);
  }
  const offLoop = (split: CostSplit): number =>
    split.mainThread.get('thread hand-off (main thread side)')! + split.mainThread.get('token calls on the main thread')! + split.otherThreads;
  rows.push(['token calls + thread hand-off + other threads (audit writer, GC helpers)', offLoop(service), offLoop(floor)]);
  rows.push(['total', service.total, floor.total]);
  return [
    `\n${title}: CPU ms per decrypt by part (main thread split by its --cpu-prof profile, other threads from /proc)`,
    '| part | service | Express 5 + helmet floor | added by the service |',
    '|---|---|---|---|',
    ...rows.map(([name, s, f]) => `| ${name} | ${ms(s)} | ${ms(f)} | ${(s - f >= 0 ? '+' : '') + ms(s - f)} |`),
  ].join('\n');
}
