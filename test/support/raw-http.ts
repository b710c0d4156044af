import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { until } from './until.js';

export interface RawAnswer {
  /** 0 when nothing came back before the connection closed or the wait ended. */
  readonly status: number;
  /** Header names lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** From the write to the end of the answer (the connection closing, or the wait running out). */
  readonly elapsedMs: number;
  /** True when the server closed the connection within the wait. */
  readonly closed: boolean;
}

/**
 * Bytes written on a raw TCP socket, where an HTTP client would refuse to send them (control characters, partial
 * requests, lying Content-Length); the first answer is read back as text. `keepWriting` leaves the sending side open,
 * as a slow client does; the wait ends after `waitMs`.
 */
export function rawExchange(port: number, request: string | Buffer, options: { keepWriting?: boolean; waitMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let text = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseAnswer(text), elapsedMs: Date.now() - started, closed });
    };
    const timer = setTimeout(finish, options.waitMs ?? 3000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    if (options.keepWriting === true) socket.write(request);
    else socket.end(request);
  });
}

function parseAnswer(text: string): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: split === -1 ? '' : text.slice(split + 4) };
}

/** What one raw connection received until it closed, and how it closed. */
export interface Received {
  readonly text: string;
  /** The socket error (ECONNRESET for a reset), if any. */
  readonly error?: string;
}

/** A TCP connection that writes exactly the bytes a test gives, to see what a server does at each step. */
export class RawConnection {
  readonly socket: Socket;
  readonly connected: Promise<void>;
  readonly closed: Promise<Received>;
  #text = '';
  #error: string | undefined;

  /** With `tls`, the bytes travel inside TLS (any certificate accepted: the test made it). */
  constructor(port: number, options: { readonly tls?: boolean } = {}) {
    this.socket = options.tls === true ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    this.connected = new Promise((resolve, reject) => {
      this.socket.once(options.tls === true ? 'secureConnect' : 'connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.#text += chunk.toString('latin1');
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#error = error.code ?? error.message;
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => resolve({ text: this.#text, ...(this.#error !== undefined ? { error: this.#error } : {}) })),
    );
  }

  /** Resolves once `count` complete responses have arrived on this connection. */
  async responses(count: number): Promise<void> {
    await until(() => parseResponses(this.#text).length >= count, `${count} response(s)`);
  }
}

export interface ParsedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Complete HTTP/1.1 responses in `text` (each with its whole Content-Length body); a partial one is left out. */
export function parseResponses(text: string): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return responses;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + length) return responses;
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
}

/** A keep-alive GET request, byte for byte. */
export const keepAliveGet = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`;
