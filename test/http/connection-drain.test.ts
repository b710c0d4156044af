/**
 * Contract §1 ("never 500 for anything a caller sent"; load balancers) and the README's "Stopping": a graceful stop
 * never resets a connection whose request has arrived (issue 12, src/http/connection-drain.ts). Raw sockets decide
 * exactly what each connection has sent when the stop begins, so the outcome does not depend on the machine's load.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { stopGracefully, type ListenSettings } from '../../src/http/server.js';
import { versionJwk } from '../support/decrypt-client.js';
import { listenOnLoopback } from '../support/listening-server.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { keepAliveGet as get, parseResponses, RawConnection } from '../support/raw-http.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { makeCertificate } from '../support/tls-client.js';
import { until } from '../support/until.js';

const USER = 'alice@contoso.dev';

for (const tls of [false, true]) {
  describe(`§1 graceful stop over ${tls ? 'HTTPS' : 'HTTP'} (http/connection-drain): no connection whose request has arrived is reset`, () => {
    // One service per protocol: a stop marks its app as stopping for good, as it does in production.
    let env: TestEnv;
    let keyId: string;
    before(async () => {
      // The decrypt waits 1 s on its thread, as a slow network HSM: it is certainly in flight when the stop begins.
      env = await startTestEnv({ settings: { DKE_PKCS11_SIMULATED_DELAY_MS: '1000' } });
      keyId = (await env.admin.create('draining', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    });
    after(() => env?.close());

    it('answers in-flight and already-sent requests (whole or half), ends idle connections with a FIN, refuses new ones', async () => {
      const certificate = tls ? makeCertificate(env.dir, 'drain', 'dke-drain.test') : undefined;
      const settings: Partial<ListenSettings> = certificate ? { tls: { certFile: certificate.cert, keyFile: certificate.key } } : {};
      const { server, port } = await listenOnLoopback(env, settings);
      const connections: RawConnection[] = [];
      const open = (): RawConnection => {
        const connection = new RawConnection(port, { tls });
        connections.push(connection);
        return connection;
      };
      try {
        let accepted = 0;
        server.on('connection', () => {
          accepted += 1;
        });
        const jwk = await versionJwk(env, 'draining', keyId);
        const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from('in flight')) });
        const token = await env.token({ upn: USER });

        const keptAlive = open();
        keptAlive.socket.write(get('/health/live'));
        await keptAlive.responses(1);
        const decrypting = open();
        decrypting.socket.write(
          `POST /draining/${keyId}/decrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        const silent = open();
        // Two kept-alive connections, each reused for a second request, as clients and load balancers do.
        const whole = open();
        const half = open();
        for (const reused of [whole, half]) reused.socket.write(get('/health/live'));
        await Promise.all([whole.responses(1), half.responses(1), silent.connected]);
        await until(() => accepted === 5 && env.service.hsm.pool.inUse === 1, 'five accepted connections and the decrypt in the HSM');

        // In one synchronous step: the second requests reach the server's sockets, and the stop begins before the event
        // loop has read a byte of them. Closing such a socket as idle resets it (the stop before issue 12 did that).
        const halfRequest = get('/health/live');
        whole.socket.write(get('/health/live'));
        half.socket.write(halfRequest.slice(0, 20));
        const stopped = stopGracefully(server, 10_000);
        await new Promise((resolve) => setImmediate(resolve));
        half.socket.write(halfRequest.slice(20));

        const [kept, inFlight, idle, wholeAfter, halfAfter] = await Promise.all(
          [keptAlive, decrypting, silent, whole, half].map((c) => c.closed),
        );
        for (const [what, received] of Object.entries({ kept, inFlight, idle, wholeAfter, halfAfter })) {
          assert.equal(received.error, undefined, `${what}: closed without a reset or error`);
        }
        const [decrypted] = parseResponses(inFlight.text);
        assert.equal(decrypted?.status, 200, 'the decrypt in flight is answered');
        assert.deepEqual(JSON.parse(decrypted.body), { value: Buffer.from('in flight').toString('base64') });
        assert.equal(decrypted.headers.connection, 'close');
        for (const received of [wholeAfter, halfAfter]) {
          const [first, second, ...more] = parseResponses(received.text);
          assert.equal(first?.status, 200);
          assert.equal(more.length, 0);
          assert.equal(second?.status, 503, 'the request sent as the stop began gets a complete answer');
          assert.equal(second.headers.connection, 'close');
          assert.equal(second.headers['retry-after'], '1');
          assert.deepEqual(JSON.parse(second.body), { error: 'hsm_unavailable', message: 'The key store is temporarily unavailable; try again shortly.' });
        }
        assert.equal(parseResponses(kept.text).length, 1, 'the kept-alive connection got its one response, then a FIN');
        assert.equal(idle.text, '', 'the silent connection is ended without a word');
        const late = open();
        await assert.rejects(late.connected, /ECONNREFUSED/, 'a new connection is refused at accept');
        await stopped;
      } finally {
        // A failed assertion must not leave sockets that keep the test run alive.
        for (const connection of connections) connection.socket.destroy();
        server.closeAllConnections();
        if (server.listening) server.close();
      }
    });
  });
}
