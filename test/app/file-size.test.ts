/**
 * Issue 29: the application layer stays made of small modules with one job each. Key administration is split into
 * families (src/app/key-admin.ts is only their facade); this holds every file of src/app/ to a size a reader takes in
 * at once, so the next operation goes into its family instead of growing one file again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled test sits in <repo>/<build-test folder>/test/app/; the sources are in <repo>/src/app. */
const APP = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'app');

/** At most this many lines per file of src/app/ (as `wc -l` counts them: newline characters). */
export const MAX_APP_FILE_LINES = 300;

/** `wc -l`: the number of newline characters. */
export function lineCount(text: string): number {
  return text.split('\n').length - 1;
}

/** One sentence per file over the limit, naming the file and its length. */
export function oversizedFiles(dir: string, limit: number): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => ({ name, lines: lineCount(readFileSync(join(dir, name), 'utf8')) }))
    .filter(({ lines }) => lines > limit)
    .map(({ name, lines }) => `src/app/${name} has ${lines} lines (at most ${limit})`);
}

describe('issue 29: every file of src/app/ is at most 300 lines', () => {
  it('counts lines as wc -l does', () => {
    assert.equal(lineCount(''), 0);
    assert.equal(lineCount('one\n'), 1);
    assert.equal(lineCount('one\ntwo'), 1);
    assert.equal(lineCount('one\ntwo\n'), 2);
  });

  it('reads the files of src/app/', () => {
    assert.ok(readdirSync(APP).filter((name) => name.endsWith('.ts')).length > 10, `too few sources found in ${APP}`);
  });

  it('no file of src/app/ is over the limit', () => {
    assert.deepEqual(oversizedFiles(APP, MAX_APP_FILE_LINES), []);
  });
});
