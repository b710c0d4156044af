/**
 * Contract §2 `DKE_TLS_CERT`, `DKE_TLS_KEY` and README "Deployment" (issue 7): `dke serve` over HTTPS as a real
 * process reloads its certificate on SIGHUP, and the container's HEALTHCHECK script passes against it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { CLI_PATH } from '../support/run-cli.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { until } from '../support/until.js';
import { handshake, makeCertificate } from '../support/tls-client.js';

/** The container HEALTHCHECK's script, compiled beside the CLI. */
const HEALTHCHECK_PATH = join(dirname(CLI_PATH), 'healthcheck.js');

describe('issue 7: `dke serve` over HTTPS as a real process (SIGHUP reload, container HEALTHCHECK)', () => {
  let env: TestEnv;
  let serve: ServeProcess;
  let port: number;
  let live: { cert: string; key: string };
  let second: { cert: string; key: string };

  before(async function () {
    this.timeout(30_000);
    env = await startTestEnv();
    const first = makeCertificate(env.dir, 'first', 'dke-first.test');
    second = makeCertificate(env.dir, 'second', 'dke-second.test');
    live = { cert: join(env.dir, 'live-cert.pem'), key: join(env.dir, 'live-key.pem') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    serve = await startServeProcess([CLI_PATH, 'serve'], {
      ...env.cliEnv,
      DKE_PORT: '0',
      DKE_HOST: '127.0.0.1',
      DKE_TLS_CERT: live.cert,
      DKE_TLS_KEY: live.key,
      DKE_LOG_LEVEL: 'info',
    });
    port = Number(new URL(serve.url).port);
  });
  after(async () => {
    await serve?.stop();
    await env?.close();
  });

  it('the HEALTHCHECK script exits 0 on the ready instance over HTTPS, 1 when it cannot get a 200', () => {
    assert.match(serve.url, /^https:/);
    const check = (extra: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, [HEALTHCHECK_PATH], { env: { PATH: process.env.PATH, ...extra }, timeout: 10_000 }).status;
    assert.equal(check({ DKE_PORT: String(port), DKE_TLS_CERT: live.cert }), 0);
    assert.equal(check({ DKE_PORT: String(port) }), 1, 'plain HTTP to the TLS port is no 200');
    assert.equal(check({ DKE_PORT: String(port), DKE_TLS_CERT: live.cert, DKE_BASE_PATH: '/elsewhere' }), 1, 'a 404 is no 200');
  });

  it('SIGHUP serves the renewed certificate to new connections; a broken file keeps the current one', async () => {
    assert.deepEqual(await handshake(port), { protocol: 'TLSv1.3', subject: 'CN=dke-first.test' });
    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    serve.child.kill('SIGHUP');
    await until(() => serve.lines.some((l) => l.includes('TLS certificate reloaded')), 'the reload');
    assert.deepEqual(await handshake(port), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' });

    writeFileSync(live.cert, 'not a certificate\n');
    serve.child.kill('SIGHUP');
    await until(() => serve.lines.some((l) => l.includes('TLS certificate reload failed')), 'the failed reload');
    assert.deepEqual(await handshake(port), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' });
    assert.equal(serve.child.exitCode, null, 'still serving');
    for (const line of serve.lines) JSON.parse(line);
  });
});
