import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRACE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'handshake-trace.js');

export type ClientCertificateAnswer =
  | { readonly requested: boolean }
  | { readonly error: string };

/**
 * Whether a TLS server sends a CertificateRequest (asks the client for a certificate) during the handshake. Office
 * builds that use MSIPC fail that handshake even when the certificate is optional.
 */
export function probeClientCertificateRequest(host: string, port: number, servername?: string): Promise<ClientCertificateAnswer> {
  return new Promise((resolve) => {
    const args = [TRACE_SCRIPT, host, String(port), ...(servername ? [servername] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => resolve({ error: error.message }));
    child.once('close', (code) => {
      if (/\bCertificateRequest\b/.test(output)) resolve({ requested: true });
      else if (code === 0) resolve({ requested: false });
      else resolve({ error: /handshake failed: (.*)/.exec(output)?.[1] ?? `the probe exited with ${code}` });
    });
  });
}
