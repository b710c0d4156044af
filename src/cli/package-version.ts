import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'dke-service';

/**
 * The version in the project's package.json, for `dke --version`: an operator checking which release a host or an image
 * runs. Found by walking up from this module, since the compiled CLI sits one folder below it in the image (dist/) and
 * two in a checkout's test build (build-test/src/); undefined when no package.json of this project is found there.
 */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
      } catch {
        // Another project's file, or an unreadable one: keep looking above it.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
