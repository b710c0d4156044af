import { Command } from 'commander';
import { encryptOaepSha256 } from '../app/software-rsa.js';
import { ensureDevToken } from '../main/dev-token.js';
import { withAdmin } from '../main/open-admin.js';
import { loadConfig, loadConfigWith, type Config } from '../main/settings.js';
import type { DEV_CONSOLE_USERS } from './dev-token-issuer.js';

const DEMO_KEY = 'demo-key';
const DEMO_USER = 'alice@contoso.dev';
const DEMO_PLAINTEXT = 'Hello from dke-service';
/** The console's client id under `dke dev`: the development issuer accepts any, as Entra accepts a registered one. */
const DEV_CONSOLE_CLIENT_ID = 'dke-dev-console';
/** The admin API's own audience under `dke dev`: never the DKE URL (issue 26: decrypt tokens are no admin credential). */
const DEV_ADMIN_AUDIENCE = 'api://dke-dev-admin';

export function devTokenCommand(): Command {
  const command = new Command('dev-token').description('the embedded NSS development token (never for production)');
  command
    .command('init')
    .description('create the embedded development token in DKE_DATA_DIR/dev-token if it does not exist')
    .action(() => {
      const { made, tokenDir } = ensureDevToken(loadConfig().dataDir);
      process.stdout.write(`${made ? 'Created' : 'Kept'} the development token in ${tokenDir}.\n`);
    });
  return command;
}

/**
 * `dke dev`: the README's quick start. Development token, demo key, a development token issuer on loopback and the
 * service with its admin listener, then a ready-to-paste curl for both endpoints and the console's URL, where the
 * issuer's sign-in page offers the development users. Everything it makes is for development only.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description('start the service on the embedded development token with a development token issuer (never for production)')
    .action(async () => {
      // Loaded when used: every other `dke` command starts without the service's HTTP stack and the issuer.
      const { startService, stopOnSignals } = await import('../main/run-service.js');
      const { DEV_CONSOLE_USERS, DEV_TENANT_ID, DevTokenIssuer } = await import('./dev-token-issuer.js');
      const base = loadConfig();
      if (base.pkcs11.embedded) ensureDevToken(base.dataDir);
      const issuer = new DevTokenIssuer(DEV_TENANT_ID);
      await issuer.start(base.devIssuerPort);
      const port = typeof base.port === 'number' ? base.port : 8080;
      const audience = `http://localhost:${port}`;
      const loaded = loadConfigWith(
        { DKE_HOST: '127.0.0.1', DKE_ADMIN_PORT: String(port + 1) },
        { DKE_AUTH_METADATA_URL: issuer.metadataUrl, DKE_AUTH_TENANT_IDS: DEV_TENANT_ID, DKE_AUTH_AUDIENCE: audience, DKE_ADMIN_AUDIENCE: DEV_ADMIN_AUDIENCE },
      );
      // The console signs in at the development issuer, whose authority is known only once it listens.
      const config: Config = { ...loaded, consoleSignIn: { clientId: DEV_CONSOLE_CLIENT_ID, authority: issuer.authority } };
      await ensureDemoKey(config);
      const running = await startService(config);
      const stopAll = { stop: async () => Promise.all([running.stop(), issuer.stop()]).then(() => undefined) };
      stopOnSignals(stopAll, running.logger);
      const token = await issuer.issueToken({ audience, upn: DEMO_USER, lifetimeSeconds: 12 * 3600 });
      const publicKey = await running.service.protocol.publicKey(DEMO_KEY, audience);
      const consoleUrl = running.adminUrl === undefined ? undefined : `${running.adminUrl.replace(/\/api$/, '')}/`;
      process.stdout.write(instructions(audience, token, publicKey.key.kid, demoCiphertext(publicKey.key.n), consoleUrl, DEV_CONSOLE_USERS));
    });
}

async function ensureDemoKey(config: Config): Promise<void> {
  await withAdmin(
    true,
    async ({ admin }) => {
      if ((await admin.list()).some((key) => key.name === DEMO_KEY)) return;
      await admin.create(DEMO_KEY, { allow: { users: [DEMO_USER], groups: [], roles: [] } });
    },
    config,
    { createStore: true },
  );
}

/** Encrypts the demo text exactly as an Office client does: RSA-OAEP with SHA-256 under the served public key. */
function demoCiphertext(modulusBase64: string): string {
  const publicKey = { modulus: Buffer.from(modulusBase64, 'base64'), publicExponent: Buffer.from([1, 0, 1]) };
  return encryptOaepSha256(publicKey, Buffer.from(DEMO_PLAINTEXT)).toString('base64');
}

function instructions(baseUrl: string, token: string, kid: string, ciphertext: string, consoleUrl: string | undefined, users: typeof DEV_CONSOLE_USERS): string {
  const consoleLines = consoleUrl === undefined ? '' : `
Console (sign in as ${users.map((u) => `${u.upn} (${u.roles.join(', ')})`).join(', ')}):
  ${consoleUrl}
`;
  return `
dke-service is running on the DEVELOPMENT token with a DEVELOPMENT token issuer (never use either in production).

Public key (what Office fetches to protect a document):
  curl -s ${baseUrl}/${DEMO_KEY}

Decrypt (what Office calls to open one); the answer's value is base64 of "${DEMO_PLAINTEXT}":
  curl -s -X POST ${kid}/decrypt \\
    -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer ${token}' \\
    -d '{"alg":"RSA-OAEP-256","value":"${ciphertext}"}'
${consoleLines}
The token above is for ${DEMO_USER}, valid 12 hours. Stop with Ctrl+C.
`;
}
