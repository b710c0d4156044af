import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The flags production gives node before `dist/cli.js serve`, read from package.json's `start` script (the image and
 * the systemd unit set the same as NODE_OPTIONS; test/deploy/deployment-files.test.ts holds them together).
 * The bench runs the service and its floors with them, so it measures what is deployed and compares like with like.
 */
export function productionNodeFlags(root = process.cwd()): string[] {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  const entry = words.indexOf('dist/cli.js');
  if (words[0] !== 'node' || entry < 0) throw new Error(`package.json's start script is not "node [flags] dist/cli.js serve": ${start}`);
  return words.slice(1, entry);
}
