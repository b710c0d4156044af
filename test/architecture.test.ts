/**
 * Proves the import rules of the source tree (issue 12; README "Layout"): one composition root, ports in
 * `keys/ports.ts`, adapters that know only the domain, and no import cycles. It reads `src/` as text, so a breach
 * fails here before anyone reviews it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

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

/** The longest function src/main/ may hold: the composition root reads as a table of contents, each step a screen. */
export const MAIN_FUNCTION_LINES = 60;

/** Every function, method, accessor and arrow of one file's text longer than `limit` lines (first line to closing brace). */
export function longFunctions(file: string, text: string, limit: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const long: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (last - first + 1 > limit) long.push(`${file}:${first + 1} ${functionName(node)} has ${last - first + 1} lines (at most ${limit})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return long;
}

function functionName(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText();
  const parent = node.parent;
  if (parent !== undefined && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) return parent.name.getText();
  return '(anonymous)';
}

/** The engine folders of the store and the one list that picks among them: only they may name an engine. */
const ENGINE_FOLDERS = ['store/sqlite/', 'store/postgres/'] as const;
const ENGINE_LIST = 'store/engines.ts';
/** Engine names as code uses them: a string compared or passed, a type or function named after one, a driver package. */
const ENGINE_WORDS = /^(sqlite|postgres|postgresql|pg)$/i;
const ENGINE_IDENTIFIER = /sqlite|postgres/i;
const ENGINE_PACKAGES = ['better-sqlite3', 'pg'];

/**
 * Where a file outside the engine folders names an engine: string literals such as 'sqlite' or 'postgres', identifiers
 * such as SqliteStoreConnection, imports of the drivers (better-sqlite3, pg) or of any file in an engine folder.
 * A third engine is then one new folder and one line in the list.
 */
export function engineNames(file: string, text: string): string[] {
  if (file === ENGINE_LIST || ENGINE_FOLDERS.some((folder) => file.startsWith(folder))) return [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string): void => {
    found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} ${what}`);
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const specifier = node.moduleSpecifier.text;
      const target = relative(SRC, resolve(SRC, dirname(file), specifier)).replace(/\\/g, '/');
      if (ENGINE_PACKAGES.includes(specifier)) at(node, `imports the driver ${specifier}`);
      else if (specifier.startsWith('.') && ENGINE_FOLDERS.some((folder) => `${target}/`.startsWith(folder) || target.startsWith(folder))) at(node, `imports ${target}`);
      return;
    }
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && ENGINE_WORDS.test(node.text)) at(node, `names the engine '${node.text}'`);
    if (ts.isIdentifier(node) && ENGINE_IDENTIFIER.test(node.text)) at(node, `names the engine in ${node.text}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
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

  it(`no function in src/main/ is longer than ${MAIN_FUNCTION_LINES} lines (the composition root reads as a table of contents)`, () => {
    const main = tsFiles(SRC).filter((file) => file.startsWith('main/'));
    assert.ok(main.includes('main/open-service.ts'));
    assert.deepEqual(main.flatMap((file) => longFunctions(file, readFileSync(join(SRC, file), 'utf8'), MAIN_FUNCTION_LINES)), []);
  });

  it('no file outside the engine folders (store/sqlite/, store/postgres/) and store/engines.ts names an engine', () => {
    assert.deepEqual(tsFiles(SRC).flatMap((file) => engineNames(file, readFileSync(join(SRC, file), 'utf8'))), []);
  });

  it('Kysely is imported only through store/kysely.ts, whose compiled file in this build is the one-file bundle', () => {
    const importers = tsFiles(SRC).filter((file) => /\bfrom\s+['"]kysely['"]/.test(readFileSync(join(SRC, file), 'utf8')));
    assert.deepEqual(importers, ['store/kysely.ts']);
    const compiled = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'store', 'kysely.js'), 'utf8');
    // Kysely's own doc comments quote `import { sql } from 'kysely'`: only a statement at the start of a line counts.
    assert.doesNotMatch(compiled, /^(import|export)\b[^\n]*\bfrom\s+['"]kysely['"]/m, 'scripts/bundle-libraries.mjs did not replace the re-export');
    assert.match(compiled, /\bvar Kysely = class\b/);
  });

  it('the compiled dke command (cli.js) is the program bundled: it loads its own chunks, not the separate modules', () => {
    const compiledSrc = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const compiled = readFileSync(join(compiledSrc, 'cli.js'), 'utf8');
    assert.ok(compiled.startsWith('#!/usr/bin/env node\n'), 'cli.js must stay executable as the package.json bin');
    assert.doesNotMatch(compiled, /from\s+['"]\.\/cli\/program\.js['"]/, 'scripts/bundle-libraries.mjs did not replace tsc\'s cli.js');
    assert.match(compiled, /from\s+"\.\/cli-chunk-[A-Z0-9]+\.js"/);
    // The modules that find files beside themselves keep their own location inside the bundle (keep-own-location).
    const chunks = readdirSync(compiledSrc).filter((file) => /^cli-chunk-.*\.js$/.test(file)).map((file) => readFileSync(join(compiledSrc, file), 'utf8'));
    assert.ok(chunks.some((chunk) => chunk.includes('new URL("./hsm/decrypt-thread-pool.js", import.meta.url).href')));
  });

  it('the length and engine checks catch a long function and every way of naming an engine', () => {
    const body = Array.from({ length: 59 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    assert.deepEqual(longFunctions('main/x.ts', `export function fits() {\n${body.split('\n').slice(1).join('\n')}\n}`, 60), []);
    assert.equal(longFunctions('main/x.ts', `export function tooLong() {\n${body}\n}`, 60).length, 1);
    assert.equal(longFunctions('main/x.ts', `const f = () => {\n${body}\n};`, 60)[0], 'main/x.ts:1 f has 61 lines (at most 60)');
    assert.equal(longFunctions('main/x.ts', `class C {\n  m() {\n${body}\n  }\n}`, 60).length, 1);
    const named = engineNames(
      'main/x.ts',
      [
        `import Database from 'better-sqlite3';`,
        `import pg from 'pg';`,
        `import { openSqliteStore } from '../store/sqlite/sqlite-store-connection.js';`,
        `import type { X } from '../store/postgres/postgres-engine.js';`,
        `if (connection.engine === 'sqlite') run();`,
        'const e = `postgres`;',
        `let c: SqliteStoreConnection;`,
      ].join('\n'),
    );
    assert.deepEqual(named.map((line) => line.split(' ')[0]), ['main/x.ts:1', 'main/x.ts:2', 'main/x.ts:3', 'main/x.ts:4', 'main/x.ts:5', 'main/x.ts:6', 'main/x.ts:7']);
    assert.deepEqual(engineNames('store/sqlite/x.ts', `if (engine === 'sqlite') run();`), []);
    assert.deepEqual(engineNames('store/engines.ts', `import { sqliteEngine } from './sqlite/sqlite-engine.js';`), []);
  });
});
