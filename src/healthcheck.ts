/**
 * The container HEALTHCHECK: exits 0 when /health/ready answers 200 on this instance, else 1. Finds the port, base
 * path and TLS as the service does (config/), and speaks HTTPS when DKE_TLS_CERT is set (certificate not verified:
 * it is the instance's own, reached on 127.0.0.1).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { probeTarget } from './main/settings.js';

let target: ReturnType<typeof probeTarget>;
try {
  target = probeTarget();
} catch {
  process.exit(1);
}
const request = target.tls ? httpsRequest : httpRequest;
const where = typeof target.port === 'string' ? { socketPath: target.port } : { host: '127.0.0.1', port: target.port };

const req = request({ ...where, path: target.path, timeout: 4000, ...(target.tls ? { rejectUnauthorized: false } : {}) }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy());
req.on('error', () => process.exit(1));
req.end();
