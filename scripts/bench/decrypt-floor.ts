/**
 * The floors of the decrypt benchmark: the thinnest decrypt server Node offers in front of the same token, as its
 * own process, bare (`node:http`) or through Express 5 + helmet. The body is parsed as JSON and its value decoded,
 * then C_DecryptInit + C_DecryptAsync run on a session of its own pool (as raw-decrypt.ts does) and `{"value":…}`
 * goes back. A third floor, bare `node:http` with `threads`, decrypts on the service's own DecryptThreadPool instead
 * (C_DecryptInit + C_Decrypt on worker threads, one session each, as the service does by default). No token check,
 * no key state, no audit entry, no log line, no metrics: nothing the service must do. The bare floor's rate over the
 * raw token's is the most any HTTP service on this machine can reach with the load generator on the same cores, the
 * threads floor's what the service's way of keeping C_DecryptInit off the event loop leaves, the Express floor's what
 * the framework leaves; the service is measured against all three.
 *
 *   node decrypt-floor.js SETTINGS_JSON        prints {"port": N} once listening; stops on SIGTERM
 */
import express from 'express';
import helmet from 'helmet';
import { createServer, type ServerResponse } from 'node:http';
import { DecryptThreadPool } from '../../src/hsm/decrypt-thread-pool.js';
import { openRawToken, type RawTokenSettings } from './raw-decrypt.js';

interface FloorSettings extends RawTokenSettings {
  readonly sessions: number;
  /** The same through Express 5 with helmet and express.json: the framework's share of the service's cost. */
  readonly express: boolean;
  /** Decrypts on the service's decrypt threads (one per session) instead of C_DecryptAsync. */
  readonly threads: boolean;
}

const settings = JSON.parse(process.argv[2]!) as FloorSettings;
const token = openRawToken(settings);
const idle = Array.from({ length: settings.sessions }, () => token.openSession());
const waiting: ((session: Buffer) => void)[] = [];
const threads = settings.threads
  ? await DecryptThreadPool.start({ library: settings.library, libraryParameters: settings.libraryParameters, simulatedDelayMs: 0 }, settings.sessions)
  : undefined;

async function decrypt(ciphertext: Buffer): Promise<Buffer> {
  const session = idle.pop() ?? (await new Promise<Buffer>((resolve) => waiting.push(resolve)));
  try {
    if (threads !== undefined) return await threads.decrypt(session, token.privateKey, ciphertext, ciphertext.length);
    return await token.decrypt(session, ciphertext);
  } finally {
    const next = waiting.shift();
    if (next !== undefined) next(session);
    else idle.push(session);
  }
}

function answer(res: ServerResponse, ciphertext: Buffer): void {
  decrypt(ciphertext).then(
    (plaintext) => {
      const body = JSON.stringify({ value: plaintext.toString('base64') });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
    },
    () => res.writeHead(400).end(),
  );
}

function expressApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.post('/:keyName/:keyId/decrypt', express.json(), (req, res) => answer(res, Buffer.from((req.body as { value: string }).value, 'base64')));
  return app;
}

const server = settings.express
  ? createServer(expressApp())
  : createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => answer(res, Buffer.from((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: string }).value, 'base64')));
    });
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
// No C_Finalize: with C_DecryptAsync calls possibly still on libuv's threads it can crash the process on its way out.
process.once('SIGTERM', () => server.close(() => process.exit(0)));
