/**
 * Contract §2 (configuration): every setting the code reads is declared once in src/config/settings.ts, and the
 * settings table of docs/configuration.md lists each of them (issue 12: DKE_ADMIN_ACTOR and DKE_DEV_ISSUER_PORT were
 * missing; issue 27 moved the full table out of the README, which keeps a summary).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { SETTING_NAMES } from '../../src/config/settings.js';

/** Other variables the configuration reads: set by hosting platforms (PORT) and by Node itself (UV_THREADPOOL_SIZE). */
const PLATFORM_VARIABLES = ['PORT', 'UV_THREADPOOL_SIZE'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('§2 every setting declared once and documented', () => {
  const declared = SETTING_NAMES;

  it('every DKE_ variable named in src/ is declared in config/settings.ts', () => {
    const named = new Set(sourceFiles('src').flatMap((file) => readFileSync(file, 'utf8').match(/\bDKE_[A-Z0-9_]*[A-Z0-9]\b/g) ?? []));
    assert.deepEqual([...named].filter((name) => !(declared as readonly string[]).includes(name)).sort(), []);
  });

  it('the settings table of docs/configuration.md has a row for every declared setting and platform variable', () => {
    const guide = readFileSync('docs/configuration.md', 'utf8');
    const start = guide.indexOf('\n## Settings\n');
    assert.ok(start >= 0, 'docs/configuration.md has its Settings section');
    const table = guide.slice(start, guide.indexOf('\n## ', start + 1));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const documented = (name: string) => rows.some((row) => row.split('|')[1]!.includes(`\`${name}\``));
    assert.deepEqual([...declared, ...PLATFORM_VARIABLES].filter((name) => !documented(name)), []);
  });
});
