/**
 * Child process of the client-certificate check: one TLS handshake with OpenSSL's message trace on. The trace is the
 * only place Node shows a server's CertificateRequest (in TLS 1.3 it travels encrypted, so no outside parser sees
 * it), and OpenSSL writes it straight to file descriptor 2, which only a parent process can read.
 * Arguments: host port [servername].
 */
import { connect } from 'node:tls';

const [host = '', port = '443', servername] = process.argv.slice(2);
const socket = connect({ host, port: Number(port), ...(servername ? { servername } : {}), rejectUnauthorized: false });
socket.enableTrace();
socket.setTimeout(10_000, () => socket.destroy(new Error('the handshake timed out')));
socket.once('secureConnect', () => {
  // In TLS 1.3 the request comes before the server's Finished; in 1.2 before ServerHelloDone: both are traced by now.
  socket.end();
  process.exitCode = 0;
});
socket.once('error', (error: Error) => {
  process.stdout.write(`handshake failed: ${error.message}\n`);
  process.exitCode = 3;
});
