import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Logger } from '../keys/ports.js';
import { ConnectionDrain } from './connection-drain.js';

/** Where and how to listen (the service's Config has these names). */
export interface ListenSettings {
  readonly port: number | string;
  readonly host: string;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Node's default header limit (16 KiB) is kept; an Entra token is a few kB. */
const MAX_HEADER_BYTES = 16 * 1024;

export interface ListenOptions {
  /** Where answers given before Express (bad HTTP, headers too large, timeouts) are logged. */
  readonly logger?: Logger;
  /** The whole request (headers and body) must arrive within this (default 30 s), else 408. */
  readonly requestTimeoutMs?: number;
  /** The headers must arrive within this (default 20 s), else 408. */
  readonly headersTimeoutMs?: number;
  /** How often Node checks those timeouts (default 30 s as Node's; tests shorten it). */
  readonly timeoutCheckIntervalMs?: number;
}
/** Each listening server's drain and app, for `stopGracefully`. */
const listening = new WeakMap<Server, { readonly drain: ConnectionDrain; readonly app: Express }>();

/**
 * Listens on HTTP, or HTTPS (TLS 1.2 or newer) when DKE_TLS_CERT and DKE_TLS_KEY are set. Malformed requests that
 * never reach Express (headers too large, bad HTTP, too slow) still get the contract's JSON error body and an
 * `x-request-id`.
 */
export async function listen(app: Express, config: ListenSettings, listenOptions: ListenOptions = {}): Promise<Server> {
  const options = {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: listenOptions.requestTimeoutMs ?? 30_000,
    headersTimeout: listenOptions.headersTimeoutMs ?? 20_000,
    connectionsCheckingInterval: listenOptions.timeoutCheckIntervalMs ?? 30_000,
  };
  const server = config.tls
    ? createHttpsServer(
        { ...options, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' },
        app,
      )
    : createHttpServer(options, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, listenOptions.logger));
  listening.set(server, { drain: new ConnectionDrain(server), app });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof config.port === 'string') server.listen(config.port, () => resolve());
    else server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

/**
 * Stops a server made by `listen` without resetting any connection whose request has arrived (see ConnectionDrain):
 * requests in flight are answered, requests that arrive meanwhile get the app's 503 with `Connection: close`
 * (`app.locals.stopping`), idle connections are ended. Resolves once every connection has closed, or after
 * `timeoutMs`, when whatever is left is destroyed.
 */
export async function stopGracefully(server: Server, timeoutMs: number): Promise<void> {
  const entry = listening.get(server);
  if (entry === undefined) throw new TypeError('stopGracefully needs a server made by listen()');
  entry.app.locals.stopping = true;
  await entry.drain.stop(timeoutMs);
}

/**
 * Reads DKE_TLS_CERT and DKE_TLS_KEY again and serves them to new connections (SIGHUP after a certificate renewal);
 * open connections keep theirs. Throws, keeping the old certificate, when the new files do not load.
 */
export function reloadTls(server: Server, config: ListenSettings): void {
  if (!config.tls || !(server instanceof HttpsServer)) return;
  server.setSecureContext({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' });
}

/** Node's parser and timeout errors, as contract §1 answers: status line, error code and sentence. */
function clientErrorAnswer(code: string | undefined): { status: string; error: string; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: '431 Request Header Fields Too Large', error: 'headers_too_large', message: 'The request headers are too large.' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: '408 Request Timeout', error: 'request_timeout', message: 'The request did not arrive in time.' };
  return { status: '400 Bad Request', error: 'invalid_request', message: 'The request is not valid HTTP.' };
}

/**
 * Answers a request Node refused before Express saw it (issue 18): the JSON body, a fresh `x-request-id` (the caller's
 * cannot be trusted from a request that did not parse) and one JSON log line with the same id.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger | undefined): void {
  // A response already under way on this socket cannot be followed by another status line: just close. A response
  // that has finished is no obstacle: the bytes that failed to parse are the next request on a kept-alive connection
  // (for example the body of an OPTIONS answered 404 before it was read), and that request gets its 400 like any other
  // rather than a reset the client would take for a network failure.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean; writableFinished?: boolean } })._httpMessage;
  const responseUnderWay = inFlight?.headersSent === true && inFlight.writableFinished !== true;
  if (!socket.writable || error.code === 'ECONNRESET' || responseUnderWay) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error.code);
  const requestId = randomUUID();
  const body = JSON.stringify({ error: answer.error, message: answer.message });
  logger?.info('request refused before routing', { requestId, status: Number(answer.status.slice(0, 3)), reason: error.code ?? 'unknown' });
  socket.end(
    `HTTP/1.1 ${answer.status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
