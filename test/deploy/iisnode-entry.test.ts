/**
 * Contract §2 `DKE_PORT` (else `PORT`, a pipe under iisnode) and `DKE_BASE_PATH` (server.cjs, issue 7): iisnode's
 * side replayed on Linux, through the real process, down to a graceful exit on SIGTERM.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { CLI_PATH } from '../support/run-cli.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';

/** GET over the pipe, as iisnode forwards a request. */
function getOverPipe(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path, headers: { host: 'dke.contoso.com' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/**
 * iisnode is Windows-only, so its contract with the service is replayed here: a site folder holding web.config,
 * server.cjs and the built dist/, the process started through server.cjs with require() semantics, PORT set to a
 * pipe (a Unix socket stands in for the Windows named pipe), and requests under a virtual directory.
 */
describe('issue 7: the iisnode entry (server.cjs) serves on the PORT pipe under DKE_BASE_PATH', () => {
  let env: TestEnv;
  let serve: ServeProcess;
  let pipe: string;
  let keyId: string;

  before(async function () {
    this.timeout(30_000);
    // The site's host name is the label's URL (an audience): without DKE_PUBLIC_BASE_URL other hosts get 421 (issue 18).
    env = await startTestEnv({ settings: { DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},https://dke.contoso.com` } });
    keyId = (await env.admin.create('iis-key')).keyId;
    const site = join(env.dir, 'site');
    mkdirSync(site);
    copyFileSync('server.cjs', join(site, 'server.cjs'));
    copyFileSync('web.config', join(site, 'web.config'));
    // `npm run build` puts src/cli.ts at dist/cli.js; the compiled tests hold the same tree under src/.
    symlinkSync(dirname(CLI_PATH), join(site, 'dist'));
    pipe = join(env.dir, 'iisnode.sock');
    const { DKE_PORT: _ignored, ...inherited } = env.cliEnv;
    serve = await startServeProcess(
      [join(site, 'server.cjs')],
      { ...inherited, PORT: pipe, DKE_BASE_PATH: '/dke', NODE_ENV: 'production', DKE_LOG_LEVEL: 'info' },
      site,
    );
  });
  after(async () => {
    await serve?.stop();
    await env?.close();
  });

  it('the build puts the entry where server.cjs imports it (tsconfig: src → dist)', () => {
    const tsconfig = JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    assert.deepEqual([tsconfig.compilerOptions.rootDir, tsconfig.compilerOptions.outDir], ['src', 'dist']);
    assert.match(readFileSync('src/cli.ts', 'utf8'), /runProgram\(process\.argv/);
  });

  it('answers probes and the public key on the pipe, under the virtual directory only, with kid including it', async () => {
    assert.equal(JSON.parse(serve.lines.find((l) => l.includes('"listening"'))!).url.endsWith('/dke'), true);
    assert.equal((await getOverPipe(pipe, '/dke/health/live')).status, 200);
    assert.equal((await getOverPipe(pipe, '/dke/health/ready')).status, 200);
    assert.equal((await getOverPipe(pipe, '/health/live')).status, 404, 'nothing outside DKE_BASE_PATH');
    const key = await getOverPipe(pipe, '/dke/iis-key');
    assert.equal(key.status, 200);
    assert.equal((JSON.parse(key.body) as { key: { kid: string } }).key.kid, `http://dke.contoso.com/dke/iis-key/${keyId}`);
  });

  it('exits 0 on SIGTERM through the shim: signals reach dke serve\'s graceful stop', async () => {
    assert.equal(await serve.stop(), 0);
  });
});
