import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_TOKEN_LABEL, findSoftokn, nssLibraryParameters } from '../../src/config/embedded-token.js';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { createNssToken } from '../../src/hsm/nss-token-database.js';
import { encryptLikeOffice } from '../../test/support/office-client.js';
import type { LoadRequest } from './http-load.js';
import type { BenchToken } from './opencryptoki-token.js';

const AUDIENCE = 'https://dke.bench.example';
const USER = 'bench@contoso.dev';
const PIN = 'bench-pin';
export const KEY_NAME = 'bench';

/** What every bench script starts from: a fresh NSS token, a loopback token issuer and a scratch directory. */
export interface BenchSetup {
  /** Scratch directory, removed by close. */
  readonly dir: string;
  readonly nss: BenchToken;
  /** The service's environment on `token`, with its own store in `data-<n>`. */
  serviceEnv(token: BenchToken, n: number, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Creates the key `bench` (allowed to the bench user) in that store and token; its key id. */
  createKey(env: NodeJS.ProcessEnv): string;
  /** A bearer token for the bench user, valid for an hour. */
  bearer(): Promise<string>;
  close(): Promise<void>;
}

export async function prepareBench(): Promise<BenchSetup> {
  process.env.NSS_MAX_MP_PBE_ITERATION_COUNT = '1';
  const dir = mkdtempSync(join(tmpdir(), 'dke-bench-'));
  const tokenDir = join(dir, 'token');
  createNssToken(tokenDir, PIN);
  const issuer = new DevTokenIssuer();
  await issuer.start();
  return {
    dir,
    nss: { name: 'NSS softoken', library: findSoftokn(), libraryParameters: nssLibraryParameters(tokenDir), tokenLabel: EMBEDDED_TOKEN_LABEL, pin: PIN },
    serviceEnv: (token, n, extra = {}) => ({
      ...process.env,
      DKE_PKCS11_LIBRARY: token.library,
      DKE_PKCS11_LIBRARY_PARAMETERS: token.libraryParameters ?? '',
      DKE_PKCS11_TOKEN_LABEL: token.tokenLabel,
      DKE_PKCS11_PIN: token.pin,
      DKE_DATA_DIR: join(dir, `data-${n}`),
      DKE_AUTH_METADATA_URL: issuer.metadataUrl,
      DKE_AUTH_TENANT_IDS: issuer.tenantId,
      DKE_AUTH_AUDIENCE: AUDIENCE,
      DKE_LOG_LEVEL: 'info',
      ...extra,
    }),
    createKey: (env) =>
      (
        JSON.parse(
          execFileSync(process.execPath, ['dist/cli.js', 'keys', 'create', KEY_NAME, '--allow-user', USER, '--json'], { env, encoding: 'utf8' }),
        ) as { keyId: string }
      ).keyId,
    bearer: () => issuer.issueToken({ audience: AUDIENCE, upn: USER, lifetimeSeconds: 3600 }),
    close: async () => {
      await issuer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An Office-shaped decrypt request for the key `bench`, encrypted under the public key the service publishes. */
export async function decryptLoadRequest(url: string, keyId: string, bearer: string): Promise<LoadRequest> {
  const jwk = ((await (await fetch(`${url}/${KEY_NAME}`)).json()) as { key: { n: string; e: number } }).key;
  return {
    url: `${url}/${KEY_NAME}/${keyId}/decrypt`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.alloc(32, 1)) }),
  };
}
