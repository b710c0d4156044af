import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { Server as NetServer, type Socket } from 'node:net';

interface ConnectionState {
  /** Responses not finished yet (more than one only when a client pipelines). */
  readonly responses: Set<ServerResponse>;
  /** `socket.bytesRead` when the connection last had no response pending: more bytes since then are a request. */
  bytesAtRest: number;
}

/**
 * Graceful stop that never resets a connection whose request has arrived (issue 12).
 *
 * Node's `server.close()` and `closeIdleConnections()` destroy every connection whose parser has not begun a request,
 * including one whose request already sits unread in the socket; closing a socket with unread data makes the kernel
 * send a reset, which a load balancer sees at every rolling update. Here, once stopping:
 * - the listener stops accepting (connections not yet accepted are refused by the kernel);
 * - every response not started yet carries `Connection: close`, so a busy connection ends after its response;
 * - a connection is ended (FIN, never a reset) only when nothing of a request has arrived on it since its last
 *   response, judged after the event loop has read what the sockets hold; one with a request, whole or in part,
 *   gets its answer first (the app's 503 for late requests) and then ends by `Connection: close`.
 * After `timeoutMs` whatever is left is destroyed, so a stalled client cannot hold the stop for ever.
 */
export class ConnectionDrain {
  readonly #server: Server;
  readonly #connections = new Map<Socket, ConnectionState>();
  #stopping = false;

  constructor(server: Server) {
    this.#server = server;
    // HTTPS requests arrive on the TLS socket, which exists from the end of the handshake.
    server.on(server instanceof HttpsServer ? 'secureConnection' : 'connection', (socket: Socket) => this.#track(socket));
    // First among the request listeners, so the header is set before the app can answer.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /** Stops accepting, answers what has arrived, and resolves once every connection has closed. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#stopping) throw new Error('the server is already stopping');
    this.#stopping = true;
    // net's close, not http's: http.Server#close would first destroy every connection it deems idle (see above).
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(this.#server, () => resolve()));
    for (const { responses } of this.#connections.values()) {
      for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
    }
    const deadline = setTimeout(() => this.#destroyAll(), timeoutMs);
    try {
      await afterTwoLoopTurns();
      for (const socket of this.#connections.keys()) this.#endIfIdle(socket);
      await closed;
    } finally {
      clearTimeout(deadline);
    }
  }

  #track(socket: Socket): void {
    this.#connections.set(socket, { responses: new Set(), bytesAtRest: 0 });
    socket.once('close', () => this.#connections.delete(socket));
    if (this.#stopping) this.#endIfIdleSoon(socket);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const state = this.#connections.get(socket);
    if (state === undefined) return;
    state.responses.add(res);
    if (this.#stopping) res.setHeader('Connection', 'close');
    res.once('close', () => {
      state.responses.delete(res);
      if (state.responses.size > 0) return;
      state.bytesAtRest = socket.bytesRead;
      // A response sent before the stop began may have promised keep-alive: end the connection now it is idle.
      if (this.#stopping) this.#endIfIdleSoon(socket);
    });
  }

  #endIfIdleSoon(socket: Socket): void {
    void afterTwoLoopTurns().then(() => this.#endIfIdle(socket));
  }

  #endIfIdle(socket: Socket): void {
    const state = this.#connections.get(socket);
    if (state === undefined || state.responses.size > 0 || socket.bytesRead !== state.bytesAtRest) return;
    socket.end();
  }

  #destroyAll(): void {
    this.#server.closeAllConnections();
    for (const socket of this.#connections.keys()) socket.destroy();
  }
}

/**
 * Resolves after the event loop has polled for I/O at least once more: bytes a client sent before this call have
 * then been read and counted in `socket.bytesRead`. One setImmediate can run right after the current poll phase;
 * the second runs after the next one.
 */
async function afterTwoLoopTurns(): Promise<void> {
  for (let turn = 0; turn < 2; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
