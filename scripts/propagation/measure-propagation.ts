/**
 * How long a change committed through one instance (its admin API) or the CLI takes to be enforced by another
 * instance (contract §5 promises 1 s). Each change is timed from the moment it is committed as the changer sees it
 * (the admin API's answer received, or the CLI's exit) to the first answer of instance B that follows it, polling B
 * every 5 ms; the poll itself (a GET or a decrypt at B) is part of the figure. Prints p50/p99 per kind and overall.
 */
import { percentiles } from '../bench/stats.js';
import { adminCall, decryptBody, decryptStatus, propagated, publishedKey, startCluster } from '../../test/support/cluster.js';
import { stopPostgres } from '../../test/support/postgres.js';

const changes = Number(process.argv[process.argv.indexOf('--changes') + 1] || 60);
const CLI_EVERY = 6;

async function main(): Promise<void> {
  const cluster = await startCluster('propagation_bench');
  try {
    for (const args of [['db', 'migrate'], ['keys', 'create', 'timed', '--allow-user', 'alice@contoso.dev', '--json']]) {
      const result = await cluster.cli(args);
      if (result.status !== 0) throw new Error(`dke ${args.join(' ')}: ${result.stderr}`);
    }
    const [a, b] = await Promise.all([cluster.start('a'), cluster.start('b')]);
    const key = (await publishedKey(b, 'timed'))!;
    const keyId = key.kid.slice(key.kid.lastIndexOf('/') + 1);
    const body = decryptBody(key);
    const alice = await cluster.userToken('alice@contoso.dev');
    const admin = await cluster.adminToken();
    const published = async () => (await publishedKey(b, 'timed')) !== undefined;
    const decrypts = async () => (await decryptStatus(b, 'timed', keyId, body, alice)) === 200;
    // Each kind: how to make it through A, through the CLI, and what B shows once it is enforced.
    const kinds = [
      { name: 'disable', api: ['POST', `/keys/timed/versions/${keyId}/disable`], cli: ['keys', 'disable', 'timed', keyId], seen: async () => !(await published()) },
      { name: 'enable', api: ['POST', `/keys/timed/versions/${keyId}/enable`], cli: ['keys', 'enable', 'timed', keyId], seen: published },
      { name: 'revoke', api: ['DELETE', '/keys/timed/grants', { user: 'alice@contoso.dev' }], cli: ['keys', 'revoke', 'timed', '--user', 'alice@contoso.dev'], seen: async () => !(await decrypts()) },
      { name: 'grant', api: ['PUT', '/keys/timed/grants', { user: 'alice@contoso.dev' }], cli: ['keys', 'grant', 'timed', '--user', 'alice@contoso.dev'], seen: decrypts },
    ] as const;
    const timings = new Map<string, number[]>([...kinds.map((k) => k.name), 'via instance A', 'via CLI', 'all'].map((label) => [label, []]));
    for (let i = 0; i < changes; i += 1) {
      const kind = kinds[i % kinds.length]!;
      const viaCli = Math.floor(i / kinds.length) % CLI_EVERY === CLI_EVERY - 1;
      let since: number;
      if (viaCli) {
        const result = await cluster.cli(kind.cli);
        if (result.status !== 0) throw new Error(`dke ${kind.cli.join(' ')}: ${result.stderr}`);
        since = performance.now();
      } else {
        const [method, path, payload] = kind.api;
        await adminCall(a, admin, method, path, payload);
        since = performance.now();
      }
      const ms = await propagated(kind.name, since, kind.seen);
      for (const label of [kind.name, viaCli ? 'via CLI' : 'via instance A', 'all']) timings.get(label)!.push(ms);
    }
    console.log(`propagation to instance B (${changes} changes; ms from commit to B's first answer that enforces it)`);
    for (const [label, values] of timings) {
      const { p50, p99 } = percentiles(values);
      console.log(`  ${label.padEnd(16)} n=${String(values.length).padStart(3)}  p50 ${p50.toFixed(1).padStart(6)}  p99 ${p99.toFixed(1).padStart(6)}  max ${Math.max(...values).toFixed(1).padStart(6)}`);
    }
  } finally {
    await cluster.close();
    await stopPostgres();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
