/**
 * `dke --version` (src/cli/package-version.ts): an operator asks a host or an image which release it runs, and the
 * answer is the version of the project's package.json, found above the compiled CLI wherever it was built to.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { packageVersion } from '../../src/cli/package-version.js';
import { CLI_PATH, runCli } from '../support/run-cli.js';

const PROJECT_ROOT = join(CLI_PATH, '..', '..', '..');
const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('dke --version (cli/package-version)', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('dke --version and dke -V print the version of package.json alone, exit 0', () => {
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const result = runCli([flag], { ...process.env });
      assert.deepEqual({ status: result.status, stdout: result.stdout, stderr: result.stderr }, { status: 0, stdout: `${version}\n`, stderr: '' }, flag);
    }
  });

  it("another project's package.json on the way up is passed over; none of this project's gives undefined", () => {
    const root = mkdtempSync(join(tmpdir(), 'dke-version-'));
    dirs.push(root);
    const nested = join(root, 'dist', 'vendor');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'something-else', version: '9.9.9' }));
    writeFileSync(join(nested, 'package.json'), '{ not json');
    assert.equal(packageVersion(nested), undefined);
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'dke-service', version: '1.2.3' }));
    assert.equal(packageVersion(nested), '1.2.3');
  });
});
