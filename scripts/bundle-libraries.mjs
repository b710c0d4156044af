// Bundles what every `dke` command loads, under the given folder of compiled sources (dist, build-test/src), after
// tsc: (1) Kysely into the compiled store/kysely.js (see src/store/kysely.ts for why); (2) the `dke` program
// (compiled cli.js and the modules it imports) into cli.js and a few cli-chunk-*.js beside it, replacing tsc's
// cli.js, which is kept as cli.unbundled.js: the entry of the next bundling when an incremental tsc run
// (DKE_TEST_KEEP=1) leaves cli.js as it was. Node's ES module loader spends about 0.15 s of CPU resolving and linking 126 separate files; an operator's
// every command and every service start paid it. npm packages stay outside the bundle (native modules, pino's
// workers), and so do the files that run apart: worker threads and child scripts load from the compiled tree.
// Run by `npm run build` and `npm test`; the unbundled tree stays beside it (tests import it directly).
import { build } from 'esbuild';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.argv[2] === undefined ? undefined : resolve(process.argv[2]);
if (root === undefined || !existsSync(join(root, 'store', 'kysely.js')) || !existsSync(join(root, 'cli.js'))) {
  console.error('usage: node scripts/bundle-libraries.mjs COMPILED_SOURCES_DIR (holding store/kysely.js and cli.js, compiled by tsc)');
  process.exit(2);
}

await build({
  entryPoints: [fileURLToPath(import.meta.resolve('kysely'))],
  outfile: join(root, 'store', 'kysely.js'),
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});

// A module that finds files beside itself (import.meta.url: the console's assets, the config folder, the decrypt
// thread's script) must keep finding them from inside the bundle: its import.meta.url becomes its own compiled
// file's URL, reckoned from the bundle's (every output file lies directly in `root`).
const keepOwnLocation = {
  name: 'keep-own-location',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const own = `new URL(${JSON.stringify(`./${relative(root, args.path)}`)}, import.meta.url).href`;
      return { contents: source.replaceAll('import.meta.url', own), loader: 'js' };
    });
  },
};

// tsc's map of its own cli.js would describe a file that is no longer there.
const BUNDLED = '// The dke program, bundled by scripts/bundle-libraries.mjs';
const entry = join(root, 'cli.js');
const unbundledEntry = join(root, 'cli.unbundled.js');
if (!readFileSync(entry, 'utf8').includes(BUNDLED)) copyFileSync(entry, unbundledEntry);
for (const file of readdirSync(root)) if (/^cli-chunk-.*\.js$/.test(file) || file === 'cli.js.map') rmSync(join(root, file));
await build({
  entryPoints: { cli: unbundledEntry },
  outdir: root,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: 'cli-chunk-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  banner: { js: BUNDLED }, // after the entry's own #! line, which esbuild keeps first
  plugins: [keepOwnLocation],
  logLevel: 'warning',
});
