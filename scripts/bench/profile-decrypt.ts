/**
 * `npm run bench:profile`: where the service's CPU goes per decrypt. Runs the service under decrypt load at 16 in
 * flight, first plain (CPU per decrypt of the whole process and of its main thread, from /proc: figures that hold on
 * a busy machine, unlike rates), then under `node --cpu-prof`, and draws the main thread's profile as a flame graph.
 *
 *   npm run bench:profile -- --name after            writes docs/flame-decrypt-after.svg
 *   npm run bench:profile -- --seconds 20 --threads false
 *   npm run bench:profile -- --get --in-flight 32     GET /{keyName} instead: docs/flame-get-NAME.svg
 *   npm run bench:profile -- --checkout DIR --name before   profile the service built in another checkout
 *   npm run bench:profile -- --compare /path/to/other/checkout   CPU per request of that build's service and this
 *                                                    one's, rounds alternating (no flame graph)
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decryptLoadRequest, KEY_NAME, prepareBench } from './bench-setup.js';
import { runLoadWithCpu } from './cpu-load.js';
import { PARTS, partShares } from './cost-breakdown.js';
import { flameGraphSvg, selfTimeByOrigin, type CpuProfile } from './flame-graph.js';
import { runLoad, type LoadRequest } from './http-load.js';
import { startServiceProcess } from './service-process.js';
import { median } from './stats.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    name: { type: 'string', default: 'now' },
    threads: { type: 'string', default: 'true' },
    'in-flight': { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    get: { type: 'boolean', default: false },
    compare: { type: 'string' },
    checkout: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const inFlight = Number(args['in-flight']);

const bench = await prepareBench();
try {
  const env = bench.serviceEnv(bench.nss, 0, { DKE_PKCS11_DECRYPT_THREADS: args.threads });
  const keyId = bench.createKey(env);
  const bearer = await bench.bearer();

  const loadRequest = async (url: string): Promise<LoadRequest> =>
    args.get ? { url: `${url}/${KEY_NAME}`, method: 'GET' } : decryptLoadRequest(url, keyId, bearer);
  if (args.compare !== undefined) {
    await compare(args.compare);
    process.exit(0);
  }
  const own = args.checkout !== undefined ? { cwd: args.checkout } : {};
  const plain = await startServiceProcess(env, own);
  const request = await loadRequest(plain.url);
  await runLoad(request, inFlight, 2); // warm-up: JIT, caches, first verification of the token
  for (let round = 1; round <= Number(args.rounds); round += 1) {
    const r = await runLoadWithCpu(plain, request, inFlight, seconds);
    console.log(
      `round ${round}: ${r.requestsPerSecond.toFixed(0)} ${args.get ? 'GETs' : 'decrypts'}/s at ${inFlight} in flight (p50/p99 ${r.p50}/${r.p99} ms, errors ${r.errors + r.non2xx}); ` +
        `CPU per request ${r.cpuMsPerRequest.toFixed(3)} ms, of it main thread ${r.mainThreadMsPerRequest.toFixed(3)} ms; RSS ${(plain.rssBytes() / 2 ** 20).toFixed(0)} MB`,
    );
  }
  await plain.stop();

  const profileDir = mkdtempSync(join(tmpdir(), 'dke-profile-'));
  const profiled = await startServiceProcess(env, { ...own, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  const profiledRequest = await loadRequest(profiled.url);
  await runLoad(profiledRequest, inFlight, 2);
  const measuredFrom = Number(process.hrtime.bigint() / 1000n);
  const under = await runLoad(profiledRequest, inFlight, seconds);
  if (under.errors + under.non2xx > 0) throw new Error(`errors under the profiler: ${under.errors + under.non2xx}`);
  await profiled.stop();
  // One profile per thread; the main thread's is the largest (the decrypt threads mostly wait in native code).
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.map((f) => join(profileDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const profile = JSON.parse(readFileSync(main, 'utf8')) as CpuProfile;
  const what = args.get ? 'get' : 'decrypt';
  const out = `docs/flame-${what}-${args.name}.svg`;
  writeFileSync(out, flameGraphSvg(profile, `dke serve, main thread, ${args.get ? 'GET /{keyName}' : 'decrypts'} at ${inFlight} in flight (${args.name})`));
  console.log(`\nflame graph: ${out}\nmain thread self time by origin (busy samples):`);
  for (const { origin, share } of selfTimeByOrigin(profile).slice(0, 15)) console.log(`  ${(share * 100).toFixed(1).padStart(5)}%  ${origin}`);
  console.log('main thread busy samples under the measured load by part (cost-breakdown.ts, as npm run bench splits them):');
  const shares = partShares(profile, measuredFrom);
  for (const part of PARTS) console.log(`  ${((shares.get(part) ?? 0) * 100).toFixed(1).padStart(5)}%  ${part}`);

  /** Rounds alternate between the two builds, so a change of the machine's load hits both alike. */
  async function compare(other: string): Promise<void> {
    const totals = new Map<string, { cpu: number[]; main: number[] }>();
    for (let round = 1; round <= Number(args.rounds); round += 1) {
      for (const [label, cwd] of [['other', other], ['this', process.cwd()]] as const) {
        const service = await startServiceProcess(env, { cwd });
        const request = await loadRequest(service.url);
        await runLoad(request, inFlight, 2);
        const r = await runLoadWithCpu(service, request, inFlight, seconds);
        await service.stop();
        const entry = totals.get(label) ?? { cpu: [], main: [] };
        entry.cpu.push(r.cpuMsPerRequest);
        entry.main.push(r.mainThreadMsPerRequest);
        totals.set(label, entry);
        console.log(`round ${round} ${label.padEnd(5)}: ${r.requestsPerSecond.toFixed(0)}/s, errors ${r.errors + r.non2xx}, CPU per request ${r.cpuMsPerRequest.toFixed(3)} ms, main thread ${r.mainThreadMsPerRequest.toFixed(3)} ms`);
      }
    }
    for (const [label, { cpu, main }] of totals) console.log(`median ${label.padEnd(5)}: CPU per request ${median(cpu).toFixed(3)} ms, main thread ${median(main).toFixed(3)} ms`);
  }
} finally {
  await bench.close();
}
