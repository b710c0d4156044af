/**
 * Contract §1 (`GET /metrics`: on the admin listener or DKE_METRICS_PORT, never on the DKE port, 404 there) and §2
 * (DKE_METRICS_PORT), issue 26: metrics named every key, blocked and unpublished ones too, to anyone who reached the
 * port Office reaches. Also issue 26's two Host headers: 400 on every listener. Real listeners of `dke serve`'s
 * composition root, plain fetch and raw sockets.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import { ConfigError, parseSettings, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startService, type RunningService } from '../../src/main/run-service.js';
import { rawExchange } from '../support/raw-http.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const NOT_FOUND = { error: 'not_found', message: 'No such route.' };

describe('issue 26: /metrics off the DKE port, two Host headers refused (real listeners)', () => {
  let env: TestEnv;
  /** DKE port and admin listener: metrics on the admin listener. */
  let withAdmin: RunningService;
  /** DKE port, admin listener and DKE_METRICS_PORT: metrics on their own listener only. */
  let withMetricsPort: RunningService;

  const start = (extra: RawSettings) =>
    startService(parseSettings({ ...(env.cliEnv as RawSettings), DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_ADMIN_PORT: '0', ...extra }), createLogger('error', new PassThrough()));

  before(async function () {
    this.timeout(20_000);
    env = await startTestEnv();
    await env.admin.create('unpublished-name', { state: 'pre-active' });
    withAdmin = await start({});
    withMetricsPort = await start({ DKE_METRICS_PORT: '0' });
  });
  after(async () => {
    await withAdmin?.stop();
    await withMetricsPort?.stop();
    await env?.close();
  });

  const portOf = (url: string): number => Number(new URL(url).port);

  it('an anonymous GET /metrics on the DKE port is the JSON 404 of any unknown route, whatever the Host', async () => {
    for (const running of [withAdmin, withMetricsPort]) {
      const res = await fetch(`${running.url}/metrics`);
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), NOT_FOUND);
      for (const host of ['evil.example', 'localhost', '127.0.0.1']) {
        const answer = await rawExchange(portOf(running.url), `GET /metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        assert.equal(answer.status, 404, host);
        assert.deepEqual(JSON.parse(answer.body), NOT_FOUND);
      }
    }
  });

  it('without DKE_METRICS_PORT, the admin listener serves /metrics (no token: bind or firewall it)', async () => {
    assert.equal(withAdmin.metricsUrl, undefined);
    const res = await fetch(new URL('/metrics', withAdmin.adminUrl!));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await res.text(), /^dke_hsm_sessions \d+$/m);
  });

  it('DKE_METRICS_PORT: /metrics on its own listener at 127.0.0.1 and nothing else there; the admin listener no longer has it', async () => {
    assert.ok(withMetricsPort.metricsServer && withMetricsPort.metricsUrl);
    const address = withMetricsPort.metricsServer.address();
    assert.equal(typeof address === 'object' && address !== null ? address.address : '', '127.0.0.1');
    const res = await fetch(withMetricsPort.metricsUrl);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /dke_http_request_duration_seconds/);
    for (const path of ['/health/live', '/unpublished-name', '/admin/api/keys']) {
      const other = await fetch(new URL(path, withMetricsPort.metricsUrl));
      assert.equal(other.status, 404, path);
      assert.deepEqual(await other.json(), NOT_FOUND);
    }
    const onAdmin = await fetch(new URL('/metrics', withMetricsPort.adminUrl!));
    assert.equal(onAdmin.status, 404);
    await onAdmin.arrayBuffer();
  });

  it('DKE_METRICS_PORT may not be DKE_PORT nor DKE_ADMIN_PORT (a sentence naming them)', () => {
    const settings = env.cliEnv as RawSettings;
    assert.throws(() => parseSettings({ ...settings, DKE_PORT: '8443', DKE_METRICS_PORT: '8443' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'DKE_METRICS_PORT must differ from DKE_PORT: /metrics is never served on the port Office reaches.');
      return true;
    });
    assert.throws(() => parseSettings({ ...settings, DKE_ADMIN_PORT: '9000', DKE_METRICS_PORT: '9000' }), /DKE_METRICS_PORT is DKE_ADMIN_PORT: leave DKE_METRICS_PORT unset/);
  });

  it('a request with two Host headers is 400 with the JSON body on the DKE port, the admin listener and the metrics listener', async () => {
    const urls = [withMetricsPort.url, withMetricsPort.adminUrl!, withMetricsPort.metricsUrl!];
    const paths = ['/unpublished-name', '/admin/api/keys', '/metrics'];
    for (const [i, url] of urls.entries()) {
      const request = `GET ${paths[i]} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`;
      const answer = await rawExchange(portOf(url), request);
      assert.equal(answer.status, 400, url);
      assert.deepEqual(JSON.parse(answer.body), { error: 'invalid_request', message: 'The request has more than one Host header.' });
      // One Host is fine on the same listener.
      const single = await rawExchange(portOf(url), request.replace('Host: evil.example\r\n', ''));
      assert.notEqual(single.status, 400, url);
    }
    // The admin API's refusal is no more cacheable than its answers.
    const admin = await rawExchange(portOf(withMetricsPort.adminUrl!), 'GET /admin/api/keys HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');
    assert.equal(admin.headers['cache-control'], 'no-store');
  });
});
