/**
 * docs/operations.md "Docker" (issue 27): the image's entry point, deploy/docker-entrypoint.sh, lets a container start
 * on a new, empty volume. No Docker engine here: the script runs with bash in the layout the image gives it
 * (`<app>/deploy/docker-entrypoint.sh` beside `<app>/dist/cli.js`), against a temporary data folder and the embedded
 * NSS token. It prepares the folder once (store and development token), then execs the command it was given (here a
 * harmless one that prints its process id), and leaves a used folder without a store alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { CLI_PATH, runCli } from '../support/run-cli.js';

interface Run {
  readonly status: number | null;
  readonly pid: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

describe('issue 27: docker-entrypoint.sh prepares a new volume once, then execs the command', function () {
  this.timeout(30_000);
  let dir: string;
  let script: string;
  /** The environment of a container with no DKE_ setting but the image's own. */
  const containerEnv = (dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_'))),
    DKE_DATA_DIR: dataDir,
    ...extra,
  });
  /** `bash deploy/docker-entrypoint.sh sh -c 'echo pid=$$'`: the pid printed is the exec'd command's. */
  const entrypoint = (env: NodeJS.ProcessEnv): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn('bash', [script, 'sh', '-c', 'echo "command pid=$$ args=$0"'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, pid: child.pid, stdout, stderr }));
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-entrypoint-'));
    // The image's layout: /app/deploy/docker-entrypoint.sh and /app/dist/cli.js (here the test build's).
    mkdirSync(join(dir, 'app', 'deploy'), { recursive: true });
    script = join(dir, 'app', 'deploy', 'docker-entrypoint.sh');
    copyFileSync('deploy/docker-entrypoint.sh', script);
    symlinkSync(dirname(CLI_PATH), join(dir, 'app', 'dist'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('on a new volume: creates the store and the development token, says so on stderr, then execs the command', async () => {
    const data = join(dir, 'new-volume');
    mkdirSync(data);
    const first = await entrypoint(containerEnv(data));
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `command pid=${first.pid} args=sh\n`, 'exec: the command runs as the entry point process itself');
    assert.equal(
      first.stderr,
      [
        `docker-entrypoint: ${data} is empty (a new volume) and DKE_PKCS11_LIBRARY is unset: creating the embedded DEVELOPMENT token (never for production).`,
        `Created the development token in ${join(data, 'dev-token')}.`,
        `docker-entrypoint: ${data} is empty (a new volume): creating the key store.`,
        `Created the store ${join(data, 'dke.sqlite')}.`,
        '',
      ].join('\n'),
    );
    assert.ok(existsSync(join(data, 'dev-token', 'pin.txt')));
    // The store is one the CLI uses (no key yet), on the token the entry point made.
    const list = runCli(['keys', 'list', '--json'], containerEnv(data));
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);

    const store = readFileSync(join(data, 'dke.sqlite'));
    const modified = statSync(join(data, 'dke.sqlite')).mtimeMs;
    const second = await entrypoint(containerEnv(data));
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stderr, '', 'the second start prepares nothing');
    assert.equal(second.stdout, `command pid=${second.pid} args=sh\n`);
    assert.equal(statSync(join(data, 'dke.sqlite')).mtimeMs, modified);
    assert.ok(readFileSync(join(data, 'dke.sqlite')).equals(store), 'the store is the same file, untouched');
  });

  it('a used folder without a store is left alone: no store appears, and the command runs (dke serve then refuses it)', async () => {
    const data = join(dir, 'used-volume');
    mkdirSync(data);
    writeFileSync(join(data, 'audit-journal.jsonl'), '');
    const run = await entrypoint(containerEnv(data));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, `command pid=${run.pid} args=sh\n`);
    assert.ok(!existsSync(join(data, 'dke.sqlite')));
    const serve = runCli(['keys', 'list'], containerEnv(data));
    assert.equal(serve.status, 2);
    assert.match(serve.stderr, new RegExp(`There is no store at ${join(data, 'dke.sqlite')}`));
  });

  it('with PostgreSQL and a real HSM configured: prepares nothing (the service migrates the database at start)', async () => {
    const data = join(dir, 'scratch');
    mkdirSync(data);
    const run = await entrypoint(containerEnv(data, { DKE_DATABASE_URL: 'postgres://dke@db.invalid/dke', DKE_PKCS11_LIBRARY: '/opt/hsm/lib/libvendor.so' }));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, `command pid=${run.pid} args=sh\n`);
    assert.deepEqual(existsSync(join(data, 'dke.sqlite')) || existsSync(join(data, 'dev-token')), false);
  });

  it('the Dockerfile runs the script under tini before its CMD, and ships it executable', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    assert.match(dockerfile, /^COPY deploy\/docker-entrypoint\.sh \.\/deploy\/docker-entrypoint\.sh$/m);
    assert.match(dockerfile, /^WORKDIR \/app$/m);
    assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/app\/deploy\/docker-entrypoint\.sh"\]$/m);
    assert.match(dockerfile, /^CMD \["node", "dist\/cli\.js", "serve"\]$/m);
    assert.equal(statSync('deploy/docker-entrypoint.sh').mode & 0o111, 0o111, 'executable by the image user');
  });
});
