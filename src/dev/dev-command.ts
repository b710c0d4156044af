import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { encryptOaepSha256 } from '../app/software-rsa.js';
import { ensureDevToken } from '../main/dev-token.js';
import { withAdmin } from '../main/open-admin.js';
import { loadConfig, loadConfigWith, type Config, type RawSettings } from '../main/settings.js';
import { ensureDevCertificate, type DevCertificate } from './dev-certificate.js';
import { instructions, DEMO_KEY, DEMO_PLAINTEXT, DEMO_USER, type DevTokenFiles } from './dev-instructions.js';
import type { DevTokenIssuer } from './dev-token-issuer.js';

/** The console's client id under `dke dev`: the development issuer accepts any, as Entra accepts a registered one. */
const DEV_CONSOLE_CLIENT_ID = 'dke-dev-console';
/** The printed tokens last a working day; the issuer's signing key is new at every start, so they end with it too. */
const DEV_TOKEN_SECONDS = 12 * 3600;
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

interface DevOptions {
  readonly https?: boolean;
  readonly host?: string;
}

/**
 * `dke dev`: the README's quick start. Development token, demo key, a development token issuer on loopback and the
 * service with its admin listener, then ready-to-paste commands for both endpoints, `dke doctor` and the admin API,
 * and the console's URL, where the issuer's sign-in page offers the development users. With `--https`, a development
 * CA and a localhost certificate it issued (see dev-certificate.ts). Everything it makes is for development only.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description('start the service on the embedded development token with a development token issuer (never for production)')
    .option('--https', 'serve HTTPS with a development certificate from a development CA made in DKE_DATA_DIR/dev-tls')
    .option('--host <address>', 'listen address of the DKE port, e.g. 0.0.0.0 inside a container (default: DKE_HOST, else 127.0.0.1)')
    .action(async (options: DevOptions) => {
      // Loaded when used: every other `dke` command starts without the service's HTTP stack and the issuer.
      const { startService, stopOnSignals } = await import('../main/run-service.js');
      const { DEV_CONSOLE_USERS, DEV_TENANT_ID, DevTokenIssuer } = await import('./dev-token-issuer.js');
      const { DEV_PIPELINE_APP } = await import('./dev-device-flow.js');
      const base = loadConfig();
      if (base.pkcs11.embedded) ensureDevToken(base.dataDir);
      const certificate = options.https === true ? ensureDevCertificate(base.dataDir) : undefined;
      const issuer = new DevTokenIssuer(DEV_TENANT_ID);
      // `dke login` polls every second here (Entra asks for 5): a developer waits for nothing.
      issuer.deviceFlow.pollSeconds = 1;
      await issuer.start(base.devIssuerPort);
      const config = devConfig(base, options, certificate, issuer);
      const audience = config.auth.audiences[0]!;
      await ensureDemoKey(config);
      const running = await startService(config);
      const stopAll = { stop: async () => Promise.all([running.stop(), issuer.stop()]).then(() => undefined) };
      stopOnSignals(stopAll, running.logger);
      const token = await issuer.issueToken({ audience, upn: DEMO_USER, lifetimeSeconds: DEV_TOKEN_SECONDS });
      const admin = DEV_CONSOLE_USERS.find((user) => user.roles.includes('DKE.Admin'))!;
      const adminToken = await issuer.issueToken({ audience: config.adminAudiences[0]!, upn: admin.upn, roles: admin.roles, lifetimeSeconds: DEV_TOKEN_SECONDS });
      const tokenFiles = writeTokenFiles(config.dataDir, { user: token, admin: adminToken, pipeline: issuer.deviceFlow.pipelineSecret }, admin.upn, DEV_PIPELINE_APP.clientId);
      const publicKey = await running.service.protocol.publicKey(DEMO_KEY, audience);
      const consoleUrl = running.adminUrl === undefined ? undefined : `${running.adminUrl.replace(/\/api$/, '')}/`;
      process.stdout.write(
        instructions({
          baseUrl: audience,
          token,
          kid: publicKey.key.kid,
          ciphertext: demoCiphertext(publicKey.key.n),
          ...(consoleUrl !== undefined ? { consoleUrl, adminServer: running.adminUrl!.replace(/\/admin\/api$/, '') } : {}),
          users: DEV_CONSOLE_USERS,
          tokenFiles,
          ...(certificate !== undefined ? { caFile: certificate.caFile } : {}),
          tls: config.tls !== undefined,
        }),
      );
    });
}

/**
 * The service's configuration under `dke dev`: loopback unless told otherwise, the admin listener on DKE_PORT + 1,
 * the URL it prints as the public base URL (so `kid` never depends on the Host header), and authentication pointed
 * at the development issuer, whose authority is known only once it listens.
 */
function devConfig(base: Config, options: DevOptions, certificate: DevCertificate | undefined, issuer: DevTokenIssuer): Config {
  const port = typeof base.port === 'number' ? base.port : 8080;
  const scheme = certificate !== undefined || base.tls !== undefined ? 'https' : 'http';
  const audience = `${scheme}://localhost:${port}`;
  const overrides: RawSettings = {
    DKE_AUTH_METADATA_URL: issuer.metadataUrl,
    DKE_AUTH_TENANT_IDS: issuer.tenantId,
    DKE_AUTH_AUDIENCE: audience,
    DKE_ADMIN_AUDIENCE: DEV_ADMIN_AUDIENCE,
    ...(options.host !== undefined ? { DKE_HOST: options.host } : {}),
    ...(certificate !== undefined ? { DKE_TLS_CERT: certificate.certFile, DKE_TLS_KEY: certificate.keyFile } : {}),
  };
  const loaded = loadConfigWith({ DKE_HOST: '127.0.0.1', DKE_ADMIN_PORT: String(port + 1), DKE_PUBLIC_BASE_URL: audience }, overrides);
  return { ...loaded, consoleSignIn: { clientId: DEV_CONSOLE_CLIENT_ID, authority: issuer.authority } };
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

/**
 * The two tokens and the pipeline app's secret as owner-only files in DKE_DATA_DIR/dev-tokens, for `dke doctor
 * --token-file`, the admin API and `DKE_ADMIN_CLIENT_SECRET_FILE`.
 */
function writeTokenFiles(dataDir: string, secrets: { user: string; admin: string; pipeline: string }, adminUpn: string, pipelineClientId: string): DevTokenFiles {
  const dir = join(dataDir, 'dev-tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { user: join(dir, 'user.jwt'), admin: join(dir, 'admin.jwt'), pipelineSecret: join(dir, 'pipeline.secret'), adminUpn, pipelineClientId };
  for (const [file, token] of [[files.user, secrets.user], [files.admin, secrets.admin], [files.pipelineSecret, secrets.pipeline]] as const) {
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return files;
}

/** Encrypts the demo text exactly as an Office client does: RSA-OAEP with SHA-256 under the served public key. */
function demoCiphertext(modulusBase64: string): string {
  const publicKey = { modulus: Buffer.from(modulusBase64, 'base64'), publicExponent: Buffer.from([1, 0, 1]) };
  return encryptOaepSha256(publicKey, Buffer.from(DEMO_PLAINTEXT)).toString('base64');
}
