/**
 * Contract §1 (every response carries `x-request-id`; 408, 413, 431 as JSON) for what Node answers before Express
 * (src/http/server.ts, issue 18), with raw sockets.
 */
// Contract §1 "Every response carries a request id header", 413 "body over the limit", 431 "headers too large",
// and the README's Resilience → Input (issue 18): answers given by Node's HTTP layer itself, over raw sockets.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import { listen } from '../../src/http/server.js';
import { createLogger } from '../../src/log/logger.js';
import { rawExchange } from '../support/raw-http.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('http/server: answers before routing carry x-request-id; 408, early 413, JSON log lines (issue 18)', () => {
  let env: TestEnv;
  let server: Server;
  let port: number;
  let keyId: string;
  const serverLogs: string[] = [];
  /** A client that never finishes its headers: the listener answers 408 once headersTimeoutMs has passed. */
  const slowHeaders = () => rawExchange(port, 'GET /sockets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ', { keepWriting: true, waitMs: 3000 });

  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('sockets', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } })).keyId;
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => serverLogs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')));
    // Short timeouts so that a slow client is cut within the test; the production defaults are 20 s and 30 s.
    server = await listen(env.service.app, { ...env.config, port: 0, host: '127.0.0.1' }, {
      logger: createLogger('info', stream),
      headersTimeoutMs: 300,
      requestTimeoutMs: 400,
      timeoutCheckIntervalMs: 50,
    });
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await env?.close();
  });

  it('control characters in an incoming x-request-id: Node refuses the request as bad HTTP, a JSON 400 with a fresh x-request-id', async () => {
    for (const bad of ['a\x01b', 'x\x7f', 'line\rbreak']) {
      const answer = await rawExchange(port, `GET /sockets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: ${bad}\r\n\r\n`);
      assert.equal(answer.status, 400, JSON.stringify(bad));
      assert.match(answer.headers['x-request-id'] ?? '', UUID, JSON.stringify(bad));
      assert.deepEqual(JSON.parse(answer.body), { error: 'invalid_request', message: 'The request is not valid HTTP.' });
    }
  });

  it('a request id that is valid HTTP but not well-formed is replaced, and the request served', async () => {
    for (const odd of ['has spaces', 'a'.repeat(129), 'quote"and<angle>', 'caf\xe9']) {
      const answer = await rawExchange(port, `GET /sockets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: ${odd}\r\nConnection: close\r\n\r\n`);
      assert.equal(answer.status, 200, odd);
      assert.match(answer.headers['x-request-id'] ?? '', UUID, odd);
    }
    const kept = await rawExchange(port, 'GET /sockets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: office-1234:abc\r\nConnection: close\r\n\r\n');
    assert.equal(kept.headers['x-request-id'], 'office-1234:abc', 'a well-formed id is the caller\'s');
  });

  it('headers over 16 KiB: a JSON 431 with an x-request-id', async () => {
    const answer = await rawExchange(port, `GET /sockets HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(answer.status, 431);
    assert.match(answer.headers['x-request-id'] ?? '', UUID);
    assert.deepEqual(JSON.parse(answer.body), { error: 'headers_too_large', message: 'The request headers are too large.' });
  });

  it('a request that does not arrive in time gets a JSON 408 (headers never finished, or a body cut short)', async () => {
    const slow = await slowHeaders();
    assert.equal(slow.status, 408);
    assert.match(slow.headers['x-request-id'] ?? '', UUID);
    assert.deepEqual(JSON.parse(slow.body), { error: 'request_timeout', message: 'The request did not arrive in time.' });
    const slowBody = await rawExchange(
      port,
      `POST /sockets/${keyId}/decrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{"alg":`,
      { keepWriting: true, waitMs: 3000 },
    );
    assert.equal(slowBody.status, 408);
    assert.match(slowBody.headers['x-request-id'] ?? '', UUID);
    assert.ok(slowBody.closed, 'the connection is closed');
  });

  it('a declared Content-Length over 64 KiB is refused with 413 at once, before any of the body is sent, and the connection closed', async () => {
    for (const length of [65_537, 1_073_741_824]) {
      const answer = await rawExchange(
        port,
        `POST /sockets/${keyId}/decrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
        { keepWriting: true, waitMs: 3000 },
      );
      assert.equal(answer.status, 413, String(length));
      assert.deepEqual(JSON.parse(answer.body), { error: 'payload_too_large', message: 'The body is larger than the service accepts.' });
      assert.match(answer.headers['x-request-id'] ?? '', UUID);
      assert.ok(answer.closed, 'closed, not left waiting for a body that will not come');
      assert.ok(answer.elapsedMs < 250, `answered in ${answer.elapsedMs} ms, not at the request timeout`);
    }
  });

  it('every line the service and the listener logged is JSON, the refused requests included', async () => {
    // A refused request of its own, so that the test holds when run alone or in any order.
    assert.equal((await slowHeaders()).status, 408);
    assert.ok(serverLogs.some((l) => l.includes('request refused before routing') && l.includes('"status":408')));
    for (const line of [...env.logs, ...serverLogs]) assert.doesNotThrow(() => JSON.parse(line), line.slice(0, 200));
  });
});
