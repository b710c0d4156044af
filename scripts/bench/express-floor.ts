/**
 * The framework floor of the GET benchmark: a minimal Express 5 app with helmet's default headers answering
 * GET /{keyName} with fixed bytes, as its own process. Nothing per request but what Express and helmet do, so the
 * service's GET rate divided by this one is what the service adds on top of its framework.
 *
 *   node express-floor.js BODY_FILE        prints {"port": N} once listening; stops on SIGTERM
 */
import express from 'express';
import helmet from 'helmet';
import { readFileSync } from 'node:fs';

const body = readFileSync(process.argv[2]!);
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(helmet());
app.get('/:keyName', (_req, res) => {
  res.type('application/json').send(body);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
