import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/** Where and how to listen (the service's Config has these names). */
export interface ListenSettings {
  readonly port: number | string;
  readonly host: string;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Node's default header limit (16 KiB) is kept; an Entra token is a few kB. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Listens on HTTP, or HTTPS (TLS 1.2 or newer) when DKE_TLS_CERT and DKE_TLS_KEY are set. Malformed requests that
 * never reach Express (headers too large, bad HTTP) still get the contract's JSON error body.
 */
export async function listen(app: Express, config: ListenSettings): Promise<Server> {
  const options = { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 30_000, headersTimeout: 20_000 };
  const server = config.tls
    ? createHttpsServer(
        { ...options, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' },
        app,
      )
    : createHttpServer(options, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof config.port === 'string') server.listen(config.port, () => resolve());
    else server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

/**
 * Reads DKE_TLS_CERT and DKE_TLS_KEY again and serves them to new connections (SIGHUP after a certificate renewal);
 * open connections keep theirs. Throws, keeping the old certificate, when the new files do not load.
 */
export function reloadTls(server: Server, config: ListenSettings): void {
  if (!config.tls || !(server instanceof HttpsServer)) return;
  server.setSecureContext({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' });
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify(
    tooLarge
      ? { error: 'headers_too_large', message: 'The request headers are too large.' }
      : { error: 'invalid_request', message: 'The request is not valid HTTP.' },
  );
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
