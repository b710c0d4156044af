/**
 * `npm run bench`: how close the service's decrypt path comes to the token's own C_Decrypt rate, what the service
 * costs per request on top of its framework, and its memory under load (issues 5 and 19). Beside the raw token it
 * measures the decrypt floors (decrypt-floor.ts: bare node:http, the same decrypting on the service's decrypt
 * threads, and Express 5 + helmet, in front of the same token, with nothing of the service's own work), so that the
 * service's share, its threads' and the framework's are told apart, and the load generator's own CPU per request,
 * taken from the same cores. Prints tables and Markdown summaries, and writes the chart docs/bench-decrypt.svg; it is
 * a script, not a test: figures vary with the machine, so run it on a quiet one.
 *
 *   npm run bench                      full run (about 8 minutes on the 2-core development machine)
 *   npm run bench -- --seconds 3       shorter points
 *   npm run bench -- --rss-seconds 0   skip the 60 s memory run
 *   npm run bench -- --delay-ms 0      skip the simulated network-HSM run
 *   npm run bench -- --no-opencryptoki NSS softoken only
 *   npm run bench -- --no-postgres     no decrypt table with the PostgreSQL store
 *   npm run bench -- --quick           about 3.5 minutes: 16 in flight only, 3 s points, no memory, simulated-HSM,
 *                                      threads-off or PostgreSQL runs; still both tokens, the floors and the breakdown
 *
 * The breakdown (issue 30): what the service adds per decrypt to the Express 5 + helmet floor, by part (HTTP and
 * Express, token check, authorization and state, audit entry, log line, metrics, the threads), from a --cpu-prof
 * profile of each at 16 in flight and their CPU per decrypt without the profiler (cost-breakdown.ts). The targets
 * (decrypts and GET against the Express floor, p99/p50) are judged on rounds that alternate the service and the floor
 * (side-by-side.ts): single points minutes apart measured the machine's speed, which moves by up to a factor of two.
 * The service and every floor run with production's node flags (production-node-flags.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LIBUV_DEFAULT_THREADS } from '../../src/config/settings.js';
import { objectLabel } from '../../src/hsm/rsa-key-templates.js';
import { benchChartSvg, type ChartSeries } from './bench-chart.js';
import { breakdownTable, costSplit, partShares, type CostSplit } from './cost-breakdown.js';
import { decryptLoadRequest, KEY_NAME, prepareBench } from './bench-setup.js';
import { runLoadWithCpu, type CpuLoadResult } from './cpu-load.js';
import { startDecryptFloor, startExpressFloor, type DecryptFloorKind, type FloorProcess } from './floor-process.js';
import { failures, medianRate, medianRatio, medianTailRatio, roundRatios, sideBySide, type SideBySide } from './side-by-side.js';
import { runLoad, type LoadRequest, type LoadResult } from './http-load.js';
import { measureRawDecrypt, type RawResult, type RawTokenSettings } from './raw-decrypt.js';
import { prepareOpenCryptoki, type BenchToken } from './opencryptoki-token.js';
import { startBenchPostgres } from './postgres-store.js';
import { profileUnderLoad } from './profiled-run.js';
import { startServiceProcess } from './service-process.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'rss-seconds': { type: 'string' },
    'delay-ms': { type: 'string' },
    'no-opencryptoki': { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const LEVELS = quick ? [16] : [1, 4, 16, 64];
const POOL_SIZES = [1, 2, 4, 8, 16];
const GET_IN_FLIGHT = 32;
/** Seconds of load before each measured service or floor: JIT, the token verification cache, the key handle. */
const WARM_UP_SECONDS = 3;
/** The service's sessions when DKE_PKCS11_SESSIONS is unset (libuv's thread count); the decrypt floors get as many. */
const SERVICE_SESSIONS = Number(process.env.UV_THREADPOOL_SIZE ?? LIBUV_DEFAULT_THREADS);
const CHART = 'docs/bench-decrypt.svg';
/** The issue's targets compare the service with its Express floor in alternating rounds (side-by-side.ts). */
const ROUNDS = quick ? 3 : 5;
const ROUND_SECONDS = 3;
/** Unmeasured load before each round's run: the server sat idle through the other's. */
const ROUND_WARM_UP_SECONDS = 1;
const roundsNote = `${ROUNDS} alternating rounds of ${ROUND_SECONDS} s, each after ${ROUND_WARM_UP_SECONDS} s of warm-up`;

const seconds = Number(args.seconds ?? (quick ? 3 : 5));
const rssSeconds = Number(args['rss-seconds'] ?? (quick ? 0 : 60));
const delayMs = Number(args['delay-ms'] ?? (quick ? 0 : 3));
const skipPostgres = args['no-postgres'] || quick;

interface TokenSummary {
  readonly token: string;
  readonly raw: RawResult[];
  readonly served: CpuLoadResult[];
  /** GET /{keyName}: the service and the Express 5 + helmet floor, alternating rounds. */
  readonly get: SideBySide;
  /** Decrypts at 16 in flight: the service and the Express 5 + helmet decrypt floor, alternating rounds. */
  readonly decryptPair: SideBySide;
  /** The same decrypts at 16 in flight through the thinnest servers in front of the token (decrypt-floor.ts). */
  readonly decryptFloors: Readonly<Record<DecryptFloorKind, CpuLoadResult>>;
  readonly rss?: { readonly mb: number; readonly load: LoadResult };
  /** The same decrypts at 16 in flight with DKE_PKCS11_DECRYPT_THREADS=false (pkcs11js's async C_Decrypt). */
  readonly withoutThreads?: CpuLoadResult;
  /** The service's decrypts at each level with the PostgreSQL store (DKE_DATABASE_URL), NSS only. */
  readonly postgres?: CpuLoadResult[];
  /** CPU per decrypt by part, the service's and the Express floor's (cost-breakdown.ts). */
  readonly breakdown: { readonly service: CostSplit; readonly floor: CostSplit };
}

const bench = await prepareBench();
const suites: BenchToken[] = [bench.nss];
const ock = args['no-opencryptoki'] ? 'skipped (--no-opencryptoki)' : prepareOpenCryptoki();
if (typeof ock === 'string') console.log(`openCryptoki: ${ock}; measuring NSS softoken only.`);
else suites.push(ock);

const summaries: TokenSummary[] = [];
try {
  for (const [index, token] of suites.entries()) summaries.push(await benchToken(token, index));
} finally {
  await bench.close();
}
printSummary(summaries);
printPostgresRow(summaries);
printFloorRows(summaries);
printThreadsRow(summaries);
for (const t of summaries) console.log(breakdownTable(`${t.token}, 16 in flight`, t.breakdown.service, t.breakdown.floor));
writeFileSync(CHART, benchChartSvg(`npm run bench, ${new Date().toISOString().slice(0, 10)}: decrypts at 1 to 64 in flight, ${seconds} s per point`, chartSeries(summaries)));
console.log(`\nchart written: ${CHART}`);

async function benchToken(token: BenchToken, index: number): Promise<TokenSummary> {
  const env = bench.serviceEnv(token, index);
  const keyId = bench.createKey(env);
  const bearer = await bench.bearer();

  console.log(`\n== ${token.name} (${token.library}), ${seconds} s per point\n`);
  const raw = await measureRawDecrypt({ ...token, keyLabel: objectLabel({ name: KEY_NAME, keyId }) }, LEVELS, seconds);

  const service = await startServiceProcess(env);
  const decryptRequest = await decryptLoadRequest(service.url, keyId, bearer);
  await runLoad(decryptRequest, 16, WARM_UP_SECONDS);
  const served: CpuLoadResult[] = [];
  for (const level of LEVELS) served.push(await runLoadWithCpu(service, decryptRequest, level, seconds));
  // The floors open the same token (its database is safe for several processes) while the service waits, idle.
  const rawSettings = { ...token, keyLabel: objectLabel({ name: KEY_NAME, keyId }) };
  const onePoint = (floor: FloorProcess, floorRequest: LoadRequest): Promise<CpuLoadResult> => runLoadWithCpu(floor, floorRequest, 16, seconds);
  const bare = await withDecryptFloor(rawSettings, 'bare', decryptRequest, onePoint);
  const threads = await withDecryptFloor(rawSettings, 'threads', decryptRequest, onePoint);
  // The Express floor's process also serves the targets' figures: the service against it, side by side (the service
  // is warm from above).
  const { express, decryptPair } = await withDecryptFloor(rawSettings, 'express', decryptRequest, async (floor, floorRequest) => ({
    express: await onePoint(floor, floorRequest),
    decryptPair: await sideBySide(decryptRequest, floorRequest, 16, ROUNDS, ROUND_SECONDS, ROUND_WARM_UP_SECONDS),
  }));
  const decryptFloors = { bare, threads, express };
  const getRequest = { url: `${service.url}/${KEY_NAME}`, method: 'GET' as const };
  const floorProcess = await startExpressFloor(Buffer.from(await (await fetch(getRequest.url)).arrayBuffer()), bench.dir);
  const floorRequest = { url: `${floorProcess.url}/${KEY_NAME}`, method: 'GET' as const };
  await runLoad(getRequest, GET_IN_FLIGHT, WARM_UP_SECONDS);
  await runLoad(floorRequest, GET_IN_FLIGHT, WARM_UP_SECONDS);
  const get = await sideBySide(getRequest, floorRequest, GET_IN_FLIGHT, ROUNDS, ROUND_SECONDS, ROUND_WARM_UP_SECONDS);
  await floorProcess.stop();
  await service.stop();
  const breakdown = await costBreakdown(env, rawSettings, decryptRequest, served[LEVELS.indexOf(16)]!, decryptFloors.express);
  console.log(breakdownTable(`${token.name}, 16 in flight`, breakdown.service, breakdown.floor));
  let rss: TokenSummary['rss'];
  if (rssSeconds > 0 && index === 0) {
    // A service of its own, so that the figure is that of decrypt load alone (the GETs above leave a larger heap).
    const fresh = await startServiceProcess(env);
    const load = await runLoad(await decryptLoadRequest(fresh.url, keyId, bearer), 16, rssSeconds);
    rss = { mb: fresh.rssBytes() / 2 ** 20, load };
    await fresh.stop();
  }
  let withoutThreads: CpuLoadResult | undefined;
  if (index === 0 && !quick) {
    const asyncService = await startServiceProcess({ ...env, DKE_PKCS11_DECRYPT_THREADS: 'false' });
    const asyncRequest = await decryptLoadRequest(asyncService.url, keyId, bearer);
    await runLoad(asyncRequest, 16, WARM_UP_SECONDS);
    withoutThreads = await runLoadWithCpu(asyncService, asyncRequest, 16, seconds);
    await asyncService.stop();
  }

  console.log('in flight | raw C_Decrypt/s | raw p50/p99 ms | raw CPU ms/op | service decrypts/s | service p50/p99 ms | ratio | service CPU ms/decrypt (main thread) | errors');
  console.log('--------- | --------------- | -------------- | ------------- | ------------------ | ------------------ | ----- | ------------------------------------ | ------');
  LEVELS.forEach((level, i) => {
    const r = raw[i]!;
    const s = served[i]!;
    console.log(
      `${String(level).padStart(9)} | ${r.opsPerSecond.toFixed(0).padStart(15)} | ${`${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`.padStart(14)} | ${r.cpuMsPerOp.toFixed(2).padStart(13)} | ${s.requestsPerSecond.toFixed(0).padStart(18)} | ${`${s.p50}/${s.p99}`.padStart(18)} | ${(s.requestsPerSecond / r.opsPerSecond).toFixed(2).padStart(5)} | ${`${s.cpuMsPerRequest.toFixed(2)} (${s.mainThreadMsPerRequest.toFixed(2)})`.padStart(36)} | ${s.errors + s.non2xx + r.errors}`,
    );
  });
  console.log(`\nGET /{keyName} at ${GET_IN_FLIGHT} in flight, ${roundsNote}:\n${pairLines(get)}`);
  console.log(`decrypts at 16 in flight, the service and the Express 5 + helmet floor, ${roundsNote}:\n${pairLines(decryptPair)}`);
  console.log(floorLine(raw[LEVELS.indexOf(16)]!, served[LEVELS.indexOf(16)]!, decryptFloors));
  if (withoutThreads !== undefined) {
    const w = withoutThreads;
    console.log(`DKE_PKCS11_DECRYPT_THREADS=false (async C_Decrypt, C_DecryptInit on the event loop), 16 in flight: ${w.requestsPerSecond.toFixed(0)} decrypts/s (ratio ${(w.requestsPerSecond / raw[LEVELS.indexOf(16)]!.opsPerSecond).toFixed(2)}), p50/p99 ${w.p50}/${w.p99} ms, CPU ms/decrypt ${w.cpuMsPerRequest.toFixed(2)} (main thread ${w.mainThreadMsPerRequest.toFixed(2)}), errors ${w.errors + w.non2xx}`);
  }
  if (rss !== undefined) console.log(`RSS of a freshly started service after ${rssSeconds} s of decrypts at 16 in flight: ${rss.mb.toFixed(0)} MB (${rss.load.requestsPerSecond.toFixed(0)} decrypts/s, errors ${rss.load.errors + rss.load.non2xx})`);

  const at16 = LEVELS.indexOf(16);
  const ratio16 = medianRate(decryptPair.service) / raw[at16]!.opsPerSecond;
  const errors16 = failures(decryptPair.service) + served[at16]!.errors + served[at16]!.non2xx;
  const p99OverP50 = medianTailRatio(decryptPair.service);
  const getRatio = medianRatio(get);
  const floorRatio = medianRatio(decryptPair);
  console.log(`\ntargets (issue 30), medians of the ${ROUNDS} side-by-side rounds:`);
  console.log(`  decrypts >= 90% of the Express 5 + helmet floor at 16 in flight, zero errors: ${(floorRatio * 100).toFixed(0)}% (${(ratio16 * 100).toFixed(0)}% of raw), ${errors16} errors ${floorRatio >= 0.9 && errors16 === 0 ? 'met' : 'NOT met'}`);
  console.log(`  p99 <= 1.6 x p50 at 16 in flight: ${p99OverP50.toFixed(2)} ${p99OverP50 <= 1.6 ? 'met' : 'NOT met'}`);
  console.log(`  GET >= 90% of the Express + helmet floor at ${GET_IN_FLIGHT} in flight: ${(getRatio * 100).toFixed(0)}% ${getRatio >= 0.9 ? 'met' : 'NOT met'}`);
  if (rss !== undefined) console.log(`  RSS after ${rssSeconds} s of decrypt load <= 200 MB: ${rss.mb.toFixed(0)} MB ${rss.mb <= 200 ? 'met' : 'NOT met'}`);

  let postgres: CpuLoadResult[] | undefined;
  if (index === 0 && !skipPostgres) {
    postgres = await decryptsWithPostgres(token, raw);
  }

  if (delayMs > 0 && index === 0) {
    console.log(`\nsimulated network HSM: +${delayMs} ms per decrypt inside the adapter, 64 in flight`);
    console.log('pool sessions | decrypts/s | p50/p99 ms | errors');
    for (const sessions of POOL_SIZES) {
      const delayed = await startServiceProcess({
        ...env,
        DKE_PKCS11_SESSIONS: String(sessions),
        DKE_PKCS11_SIMULATED_DELAY_MS: String(delayMs),
        DKE_PKCS11_QUEUE_TIMEOUT_MS: '10000',
      });
      const result = await runLoad(await decryptLoadRequest(delayed.url, keyId, bearer), 64, seconds);
      await delayed.stop();
      console.log(`${String(sessions).padStart(13)} | ${result.requestsPerSecond.toFixed(0).padStart(10)} | ${`${result.p50}/${result.p99}`.padStart(10)} | ${result.errors + result.non2xx}`);
    }
  }
  return { token: token.name, raw, served, get, decryptPair, decryptFloors, ...(rss !== undefined ? { rss } : {}), ...(withoutThreads !== undefined ? { withoutThreads } : {}), ...(postgres !== undefined ? { postgres } : {}), breakdown };
}

/**
 * The service and the Express 5 + helmet floor again, each under `node --cpu-prof` at 16 in flight: the shares of
 * their main threads' samples by part, times their CPU per decrypt measured above without the profiler.
 */
async function costBreakdown(env: NodeJS.ProcessEnv, settings: RawTokenSettings, request: LoadRequest, service: CpuLoadResult, floor: CpuLoadResult): Promise<TokenSummary['breakdown']> {
  const path = new URL(request.url).pathname;
  const at = (url: string): LoadRequest => ({ ...request, url: `${url}${path}` });
  const serviceRun = await profileUnderLoad((nodeArgs) => startServiceProcess(env, { nodeArgs }), at, 16, seconds);
  const floorRun = await profileUnderLoad((nodeArgs) => startDecryptFloor(settings, SERVICE_SESSIONS, 'express', nodeArgs), at, 16, seconds);
  return {
    service: costSplit(partShares(serviceRun.profile, serviceRun.measuredFrom), service.cpuMsPerRequest, service.mainThreadMsPerRequest),
    floor: costSplit(partShares(floorRun.profile, floorRun.measuredFrom), floor.cpuMsPerRequest, floor.mainThreadMsPerRequest),
  };
}

/**
 * Starts decrypt-floor.ts (bare node:http, the same on the service's decrypt threads, or Express 5 + helmet) with the
 * service's number of sessions, warms it up with the decrypts of `request` at 16 in flight, and measures it with
 * `measure` (the same request, sent to the floor): what any HTTP service on these cores can reach, beside the
 * service's figure.
 */
async function withDecryptFloor<T>(settings: RawTokenSettings, kind: DecryptFloorKind, request: LoadRequest, measure: (floor: FloorProcess, floorRequest: LoadRequest) => Promise<T>): Promise<T> {
  const floor = await startDecryptFloor(settings, SERVICE_SESSIONS, kind);
  try {
    const floorRequest = { ...request, url: `${floor.url}${new URL(request.url).pathname}` };
    await runLoad(floorRequest, 16, WARM_UP_SECONDS);
    return await measure(floor, floorRequest);
  } finally {
    await floor.stop();
  }
}

/**
 * The decrypt table again with the PostgreSQL store: a throwaway server, the schema made by `dke db migrate`, a key of
 * its own in the same token. Any failure is printed and skips only this table.
 */
async function decryptsWithPostgres(token: BenchToken, raw: readonly RawResult[]): Promise<CpuLoadResult[] | undefined> {
  const pg = startBenchPostgres();
  if (typeof pg === 'string') {
    console.log(`\nPostgreSQL store: skipped (${pg}).`);
    return undefined;
  }
  try {
    const env = bench.serviceEnv(token, 9, { DKE_DATABASE_URL: pg.url });
    execFileSync(process.execPath, ['dist/cli.js', 'db', 'migrate'], { env, stdio: 'ignore' });
    const keyId = bench.createKey(env);
    const service = await startServiceProcess(env);
    const request = await decryptLoadRequest(service.url, keyId, await bench.bearer());
    await runLoad(request, 16, WARM_UP_SECONDS);
    const results: CpuLoadResult[] = [];
    for (const level of LEVELS) results.push(await runLoadWithCpu(service, request, level, seconds));
    await service.stop();
    console.log('\nthe same decrypts with the PostgreSQL store (DKE_DATABASE_URL, throwaway server, fsync on):');
    console.log('in flight | service decrypts/s | p50/p99 ms | ratio to raw | CPU ms/decrypt (main thread) | errors');
    LEVELS.forEach((level, i) => {
      const s = results[i]!;
      console.log(`${String(level).padStart(9)} | ${s.requestsPerSecond.toFixed(0).padStart(18)} | ${`${s.p50}/${s.p99}`.padStart(10)} | ${(s.requestsPerSecond / raw[i]!.opsPerSecond).toFixed(2).padStart(12)} | ${`${s.cpuMsPerRequest.toFixed(2)} (${s.mainThreadMsPerRequest.toFixed(2)})`.padStart(28)} | ${s.errors + s.non2xx}`);
    });
    return results;
  } catch (error) {
    console.log(`\nPostgreSQL store: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).`);
    return undefined;
  } finally {
    pg.stop();
  }
}

/** One Markdown row per token, the figures the Performance section of docs/benchmarks.md quotes (paste it there). */
function printSummary(all: readonly TokenSummary[]): void {
  const at16 = LEVELS.indexOf(16);
  console.log('\nSummary (Markdown, for docs/benchmarks.md; 16 decrypts and 32 GETs in flight):\n');
  console.log(`| token | raw C_Decrypt/s | service decrypts/s (ratio) | p50/p99 ms (p99/p50) | CPU ms per decrypt: service (main thread) / raw | GET/s vs Express + helmet floor (ratio) | RSS after ${rssSeconds} s | errors |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const t of all) {
    const r = t.raw[at16]!;
    const s = t.served[at16]!;
    const errors = s.errors + s.non2xx + r.errors + failures(t.get.service) + failures(t.decryptPair.service);
    console.log(
      `| ${t.token} | ${fmt(r.opsPerSecond)} | ${fmt(s.requestsPerSecond)} (${pct(s.requestsPerSecond / r.opsPerSecond)}) | ${s.p50}/${s.p99} (${(s.p99 / s.p50).toFixed(2)}) | ${s.cpuMsPerRequest.toFixed(2)} (${s.mainThreadMsPerRequest.toFixed(2)}) / ${r.cpuMsPerOp.toFixed(2)} | ${fmt(medianRate(t.get.service))} vs ${fmt(medianRate(t.get.floor))} (${pct(medianRatio(t.get))}) | ${t.rss === undefined ? 'not measured' : `${t.rss.mb.toFixed(0)} MB`} | ${errors} |`,
    );
  }
}

/** Where the service stands between the raw token and the thinnest HTTP servers in front of it (decrypt-floor.ts). */
function floorLine(raw: RawResult, service: CpuLoadResult, floors: TokenSummary['decryptFloors']): string {
  const row = (name: string, r: CpuLoadResult): string =>
    `  ${name}: ${fmt(r.requestsPerSecond)}/s (${pct(r.requestsPerSecond / raw.opsPerSecond)} of raw), p50/p99 ${r.p50}/${r.p99} ms, CPU ms per decrypt ${r.cpuMsPerRequest.toFixed(2)} (main thread ${r.mainThreadMsPerRequest.toFixed(2)}), load generator ${r.loadGeneratorMsPerRequest.toFixed(2)} ms per request, errors ${r.errors + r.non2xx}`;
  return [
    `\ndecrypts at 16 in flight, ${SERVICE_SESSIONS} sessions each, beside raw C_Decrypt (${fmt(raw.opsPerSecond)}/s, ${raw.cpuMsPerOp.toFixed(2)} ms CPU per decrypt):`,
    row('bare node:http in front of the token (no framework, no checks)', floors.bare),
    row('bare node:http, decrypting on the service\'s decrypt threads (no framework, no checks)', floors.threads),
    row('Express 5 + helmet in front of the token (no checks)', floors.express),
    row('the service', service),
  ].join('\n');
}

/** The floors as Markdown rows, for docs/benchmarks.md's "what limits the rest". */
function printFloorRows(all: readonly TokenSummary[]): void {
  const at16 = LEVELS.indexOf(16);
  console.log(`\n| token, 16 in flight, ${SERVICE_SESSIONS} sessions | raw C_Decrypt/s | bare node:http + token | bare node:http + decrypt threads + token | Express 5 + helmet + token | the service | CPU ms per decrypt: raw / bare / threads / Express / service | load generator CPU ms per request |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const t of all) {
    const r = t.raw[at16]!;
    const s = t.served[at16]!;
    const { bare, threads, express } = t.decryptFloors;
    const cell = (x: CpuLoadResult): string => `${fmt(x.requestsPerSecond)} (${pct(x.requestsPerSecond / r.opsPerSecond)}, ${(x.p99 / x.p50).toFixed(2)})`;
    const cpu = [r.cpuMsPerOp, bare.cpuMsPerRequest, threads.cpuMsPerRequest, express.cpuMsPerRequest, s.cpuMsPerRequest].map((ms) => ms.toFixed(2)).join(' / ');
    console.log(`| ${t.token} | ${fmt(r.opsPerSecond)} | ${cell(bare)} | ${cell(threads)} | ${cell(express)} | ${cell(s)} | ${cpu} | ${s.loadGeneratorMsPerRequest.toFixed(2)} |`);
  }
}

function printPostgresRow(all: readonly TokenSummary[]): void {
  const at16 = LEVELS.indexOf(16);
  for (const t of all) {
    if (t.postgres === undefined) continue;
    const p = t.postgres[at16]!;
    const r = t.raw[at16]!;
    console.log(
      `| ${t.token} + PostgreSQL store | ${fmt(r.opsPerSecond)} | ${fmt(p.requestsPerSecond)} (${pct(p.requestsPerSecond / r.opsPerSecond)}) | ${p.p50}/${p.p99} (${(p.p99 / p.p50).toFixed(2)}) | ${p.cpuMsPerRequest.toFixed(2)} (${p.mainThreadMsPerRequest.toFixed(2)}) / ${r.cpuMsPerOp.toFixed(2)} | (as above) | not measured | ${p.errors + p.non2xx} |`,
    );
  }
}

function printThreadsRow(all: readonly TokenSummary[]): void {
  const at16 = LEVELS.indexOf(16);
  for (const t of all) {
    if (t.withoutThreads === undefined) continue;
    const w = t.withoutThreads;
    const s = t.served[at16]!;
    console.log(
      `\n${t.token}, 16 in flight, decrypt threads (default) vs DKE_PKCS11_DECRYPT_THREADS=false: ${fmt(s.requestsPerSecond)} vs ${fmt(w.requestsPerSecond)} decrypts/s, CPU ms per decrypt ${s.cpuMsPerRequest.toFixed(2)} vs ${w.cpuMsPerRequest.toFixed(2)} (main thread ${s.mainThreadMsPerRequest.toFixed(2)} vs ${w.mainThreadMsPerRequest.toFixed(2)})`,
    );
  }
}

function chartSeries(all: readonly TokenSummary[]): ChartSeries[] {
  const colours = ['#d9480f', '#1c7ed6'];
  return all.flatMap((t, i) => [
    { label: `${t.token}: service`, colour: colours[i % 2]!, dashed: false, points: LEVELS.map((level, j) => ({ inFlight: level, perSecond: t.served[j]!.requestsPerSecond, p99Ms: t.served[j]!.p99 })) },
    { label: `${t.token}: raw token`, colour: colours[i % 2]!, dashed: true, points: LEVELS.map((level, j) => ({ inFlight: level, perSecond: t.raw[j]!.opsPerSecond, p99Ms: t.raw[j]!.p99 })) },
  ]);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

/** Each server's rate per round, the per-round ratios and their median (side-by-side.ts). */
function pairLines(pair: SideBySide): string {
  const rates = (results: readonly LoadResult[]): string => results.map((r) => fmt(r.requestsPerSecond)).join(', ');
  const tails = (results: readonly LoadResult[]): string => results.map((r) => `${r.p50}/${r.p99}`).join(', ');
  const ratios = roundRatios(pair).map(pct).join(', ');
  return [
    `  service/s: ${rates(pair.service)} (p50/p99 ms ${tails(pair.service)}; errors ${failures(pair.service)})`,
    `  floor/s:   ${rates(pair.floor)} (p50/p99 ms ${tails(pair.floor)}; errors ${failures(pair.floor)})`,
    `  ratio per round: ${ratios}; median ${pct(medianRatio(pair))}`,
  ].join('\n');
}
