import { connect } from 'node:net';

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
