import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import supertest from 'supertest';
import { parseSettings, type Config } from '../../src/config/config.js';
import { findSoftokn, nssLibraryParameters, EMBEDDED_TOKEN_LABEL } from '../../src/config/embedded-token.js';
import { DevTokenIssuer, newSigningKeyPair, type DevTokenOptions, type SigningKeyPair } from '../../src/dev/dev-token-issuer.js';
import { createNssToken } from '../../src/hsm/nss-token-database.js';
import { createLogger } from '../../src/log/logger.js';
import { openService, type Service, type ServiceOptions } from '../../src/main/open-service.js';
import type { KeyAdmin } from '../../src/app/key-admin.js';
import { openStoreDatabase, storePath } from '../../src/store/sqlite/database.js';

/** The audience the test tokens carry, as a sensitivity label's DKE URL would be. */
export const TEST_AUDIENCE = 'https://dke.test.example';

/** The admin API's own audience (DKE_ADMIN_AUDIENCE): admin tokens carry it, never TEST_AUDIENCE (issue 26). */
export const TEST_ADMIN_AUDIENCE = 'api://dke-test-admin';

export const TEST_PIN = 'test-pin-0000';

export interface TestToken {
  readonly dir: string;
  /** The settings that point the service at this token, exactly as an operator would set them for an HSM. */
  readonly settings: Record<string, string>;
}

/**
 * A fresh NSS softoken database protected by TEST_PIN, reached as a configured PKCS#11 module (the production path).
 * The first of a process is made by createNssToken (certutil); later ones are copies of it, as a fresh database
 * holds nothing but its PIN: a copy costs no process start.
 */
export function makeTestToken(parentDir: string): TestToken {
  const dir = join(parentDir, 'token');
  copyToken((templateToken ??= emptyTokenTemplate()), dir);
  const pinFile = join(dir, 'pin.txt');
  return {
    dir,
    settings: {
      DKE_PKCS11_LIBRARY: findSoftokn(),
      DKE_PKCS11_LIBRARY_PARAMETERS: nssLibraryParameters(dir),
      DKE_PKCS11_TOKEN_LABEL: EMBEDDED_TOKEN_LABEL,
      DKE_PKCS11_PIN_FILE: pinFile,
    },
  };
}

/** The empty token the process's test tokens are copied from (removed when the process exits). */
let templateToken: string | undefined;

function emptyTokenTemplate(): string {
  const parent = mkdtempSync(join(tmpdir(), 'dke-token-template-'));
  process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'token');
  createNssToken(dir, TEST_PIN);
  return dir;
}

function copyToken(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(from)) {
    const content = readFileSync(join(from, name));
    // NSS's module list names its own folder (configdir='sql:…'): the copy names the copy.
    const text = name === 'pkcs11.txt' ? Buffer.from(content.toString('utf8').replaceAll(from, to)) : content;
    writeFileSync(join(to, name), text, { mode: 0o600 });
  }
}

/** One RS256 pair per test process for the issuers the helpers start; each issuer still has a `kid` of its own. */
let issuerKeyPair: Promise<SigningKeyPair> | undefined;

/** A development issuer whose first key is the process's shared pair (an RSA generation less per test service). */
export function testIssuer(tenantId?: string): DevTokenIssuer {
  issuerKeyPair ??= newSigningKeyPair();
  return new DevTokenIssuer(tenantId, issuerKeyPair);
}

export interface TestEnv {
  readonly dir: string;
  readonly config: Config;
  readonly issuer: DevTokenIssuer;
  readonly service: Service;
  readonly http: ReturnType<typeof supertest>;
  /** Every log line the service wrote, as text. */
  readonly logs: string[];
  readonly admin: KeyAdmin;
  /** The environment a `dke` CLI subprocess needs to reach the same token and store. */
  readonly cliEnv: NodeJS.ProcessEnv;
  token(options?: Partial<DevTokenOptions>): Promise<string>;
  close(): Promise<void>;
}

export interface TestEnvOptions {
  readonly settings?: Record<string, string>;
  /** Reuse an existing directory (token + store), e.g. to test a restart. */
  readonly dir?: string;
  readonly issuer?: DevTokenIssuer;
  readonly service?: ServiceOptions;
  /** Parts of the configuration no setting names, given as built (the console's authority: the test issuer). */
  readonly config?: (issuer: DevTokenIssuer) => Partial<Config>;
}

/**
 * A running service on a fresh NSS token and data dir, a loopback token issuer speaking Entra's wire format, and a
 * supertest client on the real app. Logs are captured for assertions.
 */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dke-test-'));
  const tokenSettings = options.dir ? existingTokenSettings(dir) : makeTestToken(dir).settings;
  const ownIssuer = options.issuer === undefined;
  const issuer = options.issuer ?? testIssuer();
  if (ownIssuer) await issuer.start();
  const settings: Record<string, string> = {
    ...tokenSettings,
    DKE_DATA_DIR: join(dir, 'data'),
    DKE_AUTH_METADATA_URL: issuer.metadataUrl,
    DKE_AUTH_TENANT_IDS: issuer.tenantId,
    DKE_AUTH_AUDIENCE: TEST_AUDIENCE,
    DKE_ADMIN_AUDIENCE: TEST_ADMIN_AUDIENCE,
    DKE_PUBLIC_KEY_CACHE_HOURS: '24',
    DKE_LOG_LEVEL: 'debug',
    // Tests of the deletion window set their own; elsewhere a delete destroys at once, as before the window existed.
    DKE_DELETION_WINDOW: '0',
    ...options.settings,
  };
  const config = { ...parseSettings(settings), ...options.config?.(issuer) };
  // As `dke store init` would, in a directory without a store: the service itself never creates one (a PostgreSQL
  // store is migrated by the service at start).
  if (config.databaseUrl === undefined && !existsSync(storePath(config.dataDir))) openStoreDatabase(config.dataDir, { role: 'admin', create: true }).close();
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')));
  const service = await openService(config, createLogger(config.logLevel, stream), options.service);
  const admin = service.admin('test');
  return {
    dir,
    config,
    issuer,
    service,
    http: supertest(service.app),
    logs,
    admin,
    cliEnv: { ...process.env, ...settings },
    token: (tokenOptions = {}) => issuer.issueToken({ audience: TEST_AUDIENCE, ...tokenOptions }),
    close: async () => {
      await service.close();
      if (ownIssuer) await issuer.stop();
      if (options.dir === undefined && !process.env.DKE_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function existingTokenSettings(dir: string): Record<string, string> {
  const tokenDir = join(dir, 'token');
  return {
    DKE_PKCS11_LIBRARY: findSoftokn(),
    DKE_PKCS11_LIBRARY_PARAMETERS: nssLibraryParameters(tokenDir),
    DKE_PKCS11_TOKEN_LABEL: EMBEDDED_TOKEN_LABEL,
    DKE_PKCS11_PIN_FILE: join(tokenDir, 'pin.txt'),
  };
}
