import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { encryptLikeOffice } from './office-client.js';
import { freshPostgresDatabase } from './postgres.js';
import { CLI_PATH, runCliAsync, type CliResult } from './run-cli.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';
import { makeTestToken, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, testIssuer } from './test-env.js';

/** One `dke serve` process of a cluster, with its admin listener. */
export interface Instance {
  readonly process: ServeProcess;
  /** http://127.0.0.1:PORT (the DKE port). */
  readonly url: string;
  /** http://127.0.0.1:PORT/admin/api. */
  readonly adminUrl: string;
}

/**
 * Several `dke serve` processes and the `dke` CLI on one NSS token directory (NSS's sql: database is safe for
 * several processes) and one PostgreSQL database (contract §5), as a deployment runs them; each instance has a data
 * directory of its own (its audit journal). Tokens come from one loopback issuer.
 */
export interface Cluster {
  readonly dir: string;
  readonly databaseUrl: string;
  readonly issuer: DevTokenIssuer;
  /** The settings every instance and CLI shares (token, auth, database). */
  readonly env: NodeJS.ProcessEnv;
  /** `entry`: the program to run (CLI_WITH_FAULTS_PATH for an instance with the test seams); production's by default. */
  start(name: string, settings?: Record<string, string>, entry?: string): Promise<Instance>;
  cli(args: readonly string[], settings?: Record<string, string>, entry?: string): Promise<CliResult>;
  /** A user's token for decrypt. */
  userToken(upn: string): Promise<string>;
  /** A DKE.Admin token for the admin API. */
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startCluster(label: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dke-cluster-'));
  const issuer = testIssuer();
  await issuer.start();
  const databaseUrl = await freshPostgresDatabase(label);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...makeTestToken(dir).settings,
    DKE_DATABASE_URL: databaseUrl,
    DKE_AUTH_METADATA_URL: issuer.metadataUrl,
    DKE_AUTH_TENANT_IDS: issuer.tenantId,
    DKE_AUTH_AUDIENCE: TEST_AUDIENCE,
    DKE_ADMIN_AUDIENCE: TEST_ADMIN_AUDIENCE,
    DKE_DELETION_WINDOW: '0',
    DKE_LOG_LEVEL: 'info',
  };
  const instances: Instance[] = [];
  return {
    dir,
    databaseUrl,
    issuer,
    env,
    async start(name, settings = {}, entry = CLI_PATH) {
      const serve = await startServeProcess([entry, 'serve'], {
        ...env,
        DKE_DATA_DIR: join(dir, name),
        DKE_PORT: '0',
        DKE_HOST: '127.0.0.1',
        DKE_ADMIN_PORT: '0',
        ...settings,
      });
      const listening = JSON.parse(serve.lines.find((l) => l.includes('"listening"'))!) as { adminUrl: string };
      const instance = { process: serve, url: serve.url.replace('localhost', '127.0.0.1'), adminUrl: listening.adminUrl };
      instances.push(instance);
      return instance;
    },
    cli: (args, settings = {}, entry = CLI_PATH) => runCliAsync(args, { ...env, DKE_DATA_DIR: join(dir, 'cli'), ...settings }, entry),
    userToken: (upn) => issuer.issueToken({ audience: TEST_AUDIENCE, upn }),
    adminToken: () => issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', roles: ['DKE.Admin'] }),
    async close() {
      await Promise.all(instances.map((i) => i.process.stop()));
      await issuer.stop();
      if (!process.env.DKE_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET /{name} at an instance: the published public key, or undefined on 404. */
export async function publishedKey(instance: Instance, name: string): Promise<{ n: string; e: number; kid: string } | undefined> {
  const res = await fetch(`${instance.url}/${name}`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET /${name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: { n: string; e: number; kid: string } }).key;
}

/** An Office-shaped decrypt at an instance; resolves with the status. */
export async function decryptStatus(instance: Instance, name: string, keyId: string, body: string, token: string): Promise<number> {
  const res = await fetch(`${instance.url}/${name}/${keyId}/decrypt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** The decrypt body Office would send for `plaintext` under this public key. */
export function decryptBody(jwk: { n: string; e: number }, plaintext = 'several instances'): string {
  return JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from(plaintext)) });
}

/** An admin API call at an instance; rejects unless it answers 2xx. */
export async function adminCall(instance: Instance, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${instance.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Polls `observe` (every 5 ms) until it returns true; resolves with the milliseconds since `since`. Rejects once
 * `limitMs` have passed, naming `what`.
 */
export async function propagated(what: string, since: number, observe: () => Promise<boolean>, limitMs = 5_000): Promise<number> {
  for (;;) {
    if (await observe()) return performance.now() - since;
    if (performance.now() - since > limitMs) throw new Error(`${what}: not seen within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
