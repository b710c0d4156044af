/**
 * Proves the import rules of the source tree (issue 12; README "Layout"): one composition root, ports in
 * `keys/ports.ts`, adapters that know only the domain, and no import cycles. It reads `src/` as text, so a breach
 * fails here before anyone reviews it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled test sits in <repo>/<build-test folder>/test/; the sources are in <repo>/src. */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

const ADAPTERS = ['hsm', 'store', 'auth', 'log', 'metrics'] as const;

/** `process.env`, `process['env']` and `{ env } = process`: any of them reads the environment. */
const READS_ENVIRONMENT = /\bprocess\s*(\?\.|\.)\s*env\b|\bprocess\s*\[\s*['"`]env['"`]\s*\]|\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/;

/**
 * Which folders each folder of src/ may import (its own files always). "entry" is a file directly in src/ (cli.ts,
 * healthcheck.ts). `config/` may name the settings types the adapters declare, with `import type` only.
 */
export const IMPORT_RULES: Readonly<Record<string, { readonly may: readonly string[]; readonly typesFrom?: readonly string[] }>> = {
  keys: { may: [] },
  app: { may: ['keys'] },
  http: { may: ['app', 'keys'] },
  ...Object.fromEntries(ADAPTERS.map((adapter) => [adapter, { may: ['keys'] }])),
  config: { may: ['keys'], typesFrom: ['hsm', 'auth'] },
  main: { may: ['keys', 'app', 'http', 'config', ...ADAPTERS] },
  cli: { may: ['app', 'main', 'doctor'] },
  // `dke doctor` is a client of a deployment: Entra's clouds (config/) and issuer forms (auth/), nothing of the service.
  doctor: { may: ['config', 'auth'] },
  dev: { may: ['app', 'main'] },
  entry: { may: ['cli', 'dev', 'main'] },
};

export interface SourceImport {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

/** Every relative import and re-export of every .ts file below `root`, as paths relative to `root`. */
export function readImports(root: string): SourceImport[] {
  return tsFiles(root).flatMap((file) => parseImports(file, readFileSync(join(root, file), 'utf8'), root));
}

/** The relative imports, re-exports and dynamic imports of one file's text (`file` relative to `root`). */
export function parseImports(file: string, text: string, root = SRC): SourceImport[] {
  const imports: SourceImport[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"`]([^'"`]+)['"`]\s*\)/gm;
  for (const match of text.matchAll(statement)) {
    const specifier = match[3] ?? match[4] ?? match[5]!;
    if (!specifier.startsWith('.')) continue;
    const to = relative(root, resolve(root, dirname(file), specifier)).replace(/\.js$/, '.ts');
    imports.push({ from: file, to, typeOnly: match[2] !== undefined });
  }
  return imports;
}

function tsFiles(root: string, dir = ''): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return tsFiles(root, path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length === 0 ? 'entry' : first!;
}

/** One sentence per import that breaks IMPORT_RULES. */
export function ruleBreaches(imports: readonly SourceImport[]): string[] {
  const breaches: string[] = [];
  for (const { from, to, typeOnly } of imports) {
    const [source, target] = [layerOf(from), layerOf(to)];
    if (source === target && source !== 'entry') continue;
    const rule = IMPORT_RULES[source];
    if (rule === undefined) {
      breaches.push(`${from}: the folder ${source}/ has no import rule`);
      continue;
    }
    const allowed = rule.may.includes(target) || (typeOnly && (rule.typesFrom ?? []).includes(target));
    if (!allowed) breaches.push(`${from} imports ${to}: ${source}/ may import only ${[...rule.may, ...(rule.typesFrom ?? []).map((t) => `${t} (types)`)].join(', ') || 'nothing outside itself'}`);
  }
  return breaches;
}

/** Every import cycle between files, each as the list of files around it. */
export function importCycles(imports: readonly SourceImport[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const { from, to } of imports) edges.set(from, [...(edges.get(from) ?? []), to]);
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (state.get(file) === undefined) visit(file);
  return cycles;
}

describe('source layout: one composition root and the import rules (issue 12)', () => {
  const imports = readImports(SRC);

  it('reads the imports of every source file', () => {
    assert.ok(imports.length > 100, `only ${imports.length} imports found in ${SRC}`);
    assert.ok(imports.some((i) => i.from === 'main/open-service.ts'), 'the composition root main/open-service.ts is missing');
  });

  it('every import follows the rules of its folder (no exceptions)', () => {
    assert.deepEqual(ruleBreaches(imports), []);
  });

  it('no file reaches itself through its imports', () => {
    assert.deepEqual(importCycles(imports).map((cycle) => cycle.join(' -> ')), []);
  });

  it('only config/ reads or writes process.env', () => {
    const readers = tsFiles(SRC).filter((file) => !file.startsWith('config/') && READS_ENVIRONMENT.test(readFileSync(join(SRC, file), 'utf8')));
    assert.deepEqual(readers, []);
    assert.deepEqual(
      ['process.env.X', "process['env']", 'const { env } = process;', 'process .env'].filter((text) => !READS_ENVIRONMENT.test(text)),
      [],
      'every way of reaching the environment is recognised',
    );
  });

  it('the checks catch a breach and a cycle (a check that cannot fail proves nothing)', () => {
    assert.equal(ruleBreaches([{ from: 'http/app.ts', to: 'hsm/pkcs11.ts', typeOnly: true }]).length, 1);
    assert.equal(ruleBreaches([{ from: 'keys/ports.ts', to: 'app/dke-protocol.ts', typeOnly: true }]).length, 1);
    assert.equal(ruleBreaches([{ from: 'config/config.ts', to: 'hsm/open-hsm.ts', typeOnly: false }]).length, 1);
    const parsed = parseImports('cli/x.ts', `import { a } from "../keys/errors.js";\nexport * from '../store/database.js';\nconst m = await import('../hsm/pkcs11.js');\nimport type {\n  B,\n} from '../app/key-admin.js';`);
    assert.deepEqual(parsed, [
      { from: 'cli/x.ts', to: 'keys/errors.ts', typeOnly: false },
      { from: 'cli/x.ts', to: 'store/database.ts', typeOnly: false },
      { from: 'cli/x.ts', to: 'hsm/pkcs11.ts', typeOnly: false },
      { from: 'cli/x.ts', to: 'app/key-admin.ts', typeOnly: true },
    ]);
    assert.deepEqual(importCycles([
      { from: 'cli/a.ts', to: 'cli/b.ts', typeOnly: false },
      { from: 'cli/b.ts', to: 'cli/a.ts', typeOnly: false },
    ]), [['cli/a.ts', 'cli/b.ts', 'cli/a.ts']]);
  });
});
