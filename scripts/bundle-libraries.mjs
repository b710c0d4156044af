// Replaces the compiled store/kysely.js under the given folder of compiled sources (dist, build-test/src) with Kysely
// bundled into one file (see src/store/kysely.ts for why). Run by `npm run build` and `npm test` after tsc.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiled = process.argv[2] === undefined ? undefined : join(process.argv[2], 'store', 'kysely.js');
if (compiled === undefined || !existsSync(compiled)) {
  console.error('usage: node scripts/bundle-libraries.mjs COMPILED_SOURCES_DIR (holding store/kysely.js, compiled by tsc)');
  process.exit(2);
}
await build({
  entryPoints: [fileURLToPath(import.meta.resolve('kysely'))],
  outfile: compiled,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
