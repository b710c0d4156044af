/**
 * `npm run bench`: how close the service's decrypt path comes to the token's own C_Decrypt rate (issue 5).
 * Prints a table; it is a script, not a test: figures vary with the machine.
 *
 *   npm run bench                      full run (about 2 minutes)
 *   npm run bench -- --seconds 3       shorter points
 *   npm run bench -- --delay-ms 0      skip the simulated network-HSM run
 *   npm run bench -- --no-opencryptoki NSS softoken only
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EMBEDDED_TOKEN_LABEL, findSoftokn, nssLibraryParameters } from '../../src/config/embedded-token.js';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { createNssToken } from '../../src/hsm/nss-token-database.js';
import { objectLabel } from '../../src/hsm/rsa-key-templates.js';
import { encryptLikeOffice } from '../../test/support/office-client.js';
import { runLoad, type LoadResult } from './http-load.js';
import { measureRawDecrypt } from './raw-decrypt.js';
import { prepareOpenCryptoki, type BenchToken } from './opencryptoki-token.js';
import { startServiceProcess } from './service-process.js';

const LEVELS = [1, 4, 16, 64];
const POOL_SIZES = [1, 2, 4, 8, 16];
const AUDIENCE = 'https://dke.bench.example';
const USER = 'bench@contoso.dev';
const PIN = 'bench-pin';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'delay-ms': { type: 'string', default: '3' },
    'no-opencryptoki': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const delayMs = Number(args['delay-ms']);

process.env.NSS_MAX_MP_PBE_ITERATION_COUNT = '1';
const dir = mkdtempSync(join(tmpdir(), 'dke-bench-'));
const tokenDir = join(dir, 'token');
createNssToken(tokenDir, PIN);
const issuer = new DevTokenIssuer();
await issuer.start();

const suites: BenchToken[] = [
  { name: 'NSS softoken', library: findSoftokn(), libraryParameters: nssLibraryParameters(tokenDir), tokenLabel: EMBEDDED_TOKEN_LABEL, pin: PIN },
];
const ock = args['no-opencryptoki'] ? 'skipped (--no-opencryptoki)' : prepareOpenCryptoki();
if (typeof ock === 'string') console.log(`openCryptoki: ${ock}; measuring NSS softoken only.`);
else suites.push(ock);

try {
  for (const token of suites) await benchToken(token);
} finally {
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function benchToken(token: BenchToken): Promise<void> {
  const serviceEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DKE_PKCS11_LIBRARY: token.library,
    DKE_PKCS11_LIBRARY_PARAMETERS: token.libraryParameters ?? '',
    DKE_PKCS11_TOKEN_LABEL: token.tokenLabel,
    DKE_PKCS11_PIN: token.pin,
    DKE_DATA_DIR: join(dir, `data-${suites.indexOf(token)}`),
    DKE_AUTH_METADATA_URL: issuer.metadataUrl,
    DKE_AUTH_TENANT_IDS: issuer.tenantId,
    DKE_AUTH_AUDIENCE: AUDIENCE,
    DKE_LOG_LEVEL: 'info',
  };
  const created = JSON.parse(
    execFileSync(process.execPath, ['dist/cli.js', 'keys', 'create', 'bench', '--allow-user', USER, '--json'], { env: serviceEnv, encoding: 'utf8' }),
  ) as { keyId: string };
  const jwt = await issuer.issueToken({ audience: AUDIENCE, upn: USER, lifetimeSeconds: 3600 });

  console.log(`\n== ${token.name} (${token.library}), ${seconds} s per point\n`);
  const raw = await measureRawDecrypt(
    { ...token, keyLabel: objectLabel({ name: 'bench', keyId: created.keyId }) },
    LEVELS,
    seconds,
  );

  const service = await startServiceProcess(serviceEnv);
  const decryptRequest = await decryptLoadRequest(service.url, created.keyId, jwt);
  const served: LoadResult[] = [];
  for (const level of LEVELS) served.push(await runLoad(decryptRequest, level, seconds));
  const publicKey = await runLoad({ url: `${service.url}/bench`, method: 'GET' }, 32, seconds);
  await service.stop();

  console.log('in flight | raw C_Decrypt/s | raw p50/p99 ms | service decrypts/s | service p50/p99 ms | ratio | errors');
  console.log('--------- | --------------- | ------------- | ------------------ | ------------------ | ----- | ------');
  LEVELS.forEach((level, i) => {
    const r = raw[i]!;
    const s = served[i]!;
    console.log(
      `${String(level).padStart(9)} | ${r.opsPerSecond.toFixed(0).padStart(15)} | ${`${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`.padStart(13)} | ${s.requestsPerSecond.toFixed(0).padStart(18)} | ${`${s.p50}/${s.p99}`.padStart(18)} | ${(s.requestsPerSecond / r.opsPerSecond).toFixed(2).padStart(5)} | ${s.errors + s.non2xx + r.errors}`,
    );
  });
  console.log(`\nGET /{keyName} at 32 in flight: ${publicKey.requestsPerSecond.toFixed(0)} requests/s, p50/p99 ${publicKey.p50}/${publicKey.p99} ms, errors ${publicKey.errors + publicKey.non2xx}`);

  const at16 = LEVELS.indexOf(16);
  const ratio16 = served[at16]!.requestsPerSecond / raw[at16]!.opsPerSecond;
  const wanted = token === suites[0] ? 0.9 : 0.8;
  console.log('\ntargets (issue 5):');
  console.log(`  service >= ${wanted * 100}% of raw at 16 in flight: ${(ratio16 * 100).toFixed(0)}% ${ratio16 >= wanted ? 'met' : 'NOT met'}`);
  const p99Gap = served[at16]!.p99 - raw[at16]!.p99;
  console.log(`  p99 at 16 <= token p99 + 5 ms: ${served[at16]!.p99} vs ${raw[at16]!.p99.toFixed(1)} + 5 ${p99Gap <= 5 ? 'met' : 'NOT met'}`);
  console.log(`  GET >= 8,000 requests/s at 32: ${publicKey.requestsPerSecond.toFixed(0)} ${publicKey.requestsPerSecond >= 8000 ? 'met' : 'NOT met'}`);

  if (delayMs > 0 && token === suites[0]) {
    console.log(`\nsimulated network HSM: +${delayMs} ms per decrypt inside the adapter, 64 in flight`);
    console.log('pool sessions | decrypts/s | p50/p99 ms | errors');
    for (const sessions of POOL_SIZES) {
      const delayed = await startServiceProcess({
        ...serviceEnv,
        DKE_PKCS11_SESSIONS: String(sessions),
        DKE_PKCS11_SIMULATED_DELAY_MS: String(delayMs),
        DKE_PKCS11_QUEUE_TIMEOUT_MS: '10000',
      });
      const result = await runLoad(await decryptLoadRequest(delayed.url, created.keyId, jwt), 64, seconds);
      await delayed.stop();
      console.log(`${String(sessions).padStart(13)} | ${result.requestsPerSecond.toFixed(0).padStart(10)} | ${`${result.p50}/${result.p99}`.padStart(10)} | ${result.errors + result.non2xx}`);
    }
  }
}

async function decryptLoadRequest(url: string, keyId: string, token: string) {
  const jwk = ((await (await fetch(`${url}/bench`)).json()) as { key: { n: string; e: number } }).key;
  return {
    url: `${url}/bench/${keyId}/decrypt`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.alloc(32, 1)) }),
  };
}
