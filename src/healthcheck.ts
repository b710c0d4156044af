/**
 * The container HEALTHCHECK: exits 0 when /health/ready answers 200 on this instance, else 1. Speaks HTTPS when
 * DKE_TLS_CERT is set (certificate not verified: it is the instance's own, reached on 127.0.0.1).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const port = Number(process.env.DKE_PORT ?? process.env.PORT ?? 8080);
const path = `${process.env.DKE_BASE_PATH ?? ''}/health/ready`;
const tls = (process.env.DKE_TLS_CERT ?? '') !== '';
const request = tls ? httpsRequest : httpRequest;

const req = request({ host: '127.0.0.1', port, path, timeout: 4000, ...(tls ? { rejectUnauthorized: false } : {}) }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy());
req.on('error', () => process.exit(1));
req.end();
