import { isAbsolute, relative } from 'node:path';

export const DEMO_KEY = 'demo-key';
export const DEMO_USER = 'alice@contoso.dev';
export const DEMO_PLAINTEXT = 'Hello from dke-service';

/** Where `dke dev` wrote this start's tokens (owner-only files; both end with the issuer's signing key). */
export interface DevTokenFiles {
  readonly user: string;
  readonly admin: string;
  readonly adminUpn: string;
  /** The client secret of the development pipeline app (dev-device-flow.ts DEV_PIPELINE_APP). */
  readonly pipelineSecret: string;
  readonly pipelineClientId: string;
}

export interface DevInstructions {
  /** scheme://localhost:port: the public base URL, the audience and the challenge's resource. */
  readonly baseUrl: string;
  readonly token: string;
  readonly kid: string;
  readonly ciphertext: string;
  readonly consoleUrl?: string;
  /** The admin listener's URL, for `dke --server` (with the console). */
  readonly adminServer?: string;
  readonly users: readonly { readonly upn: string; readonly roles: readonly string[] }[];
  readonly tokenFiles: DevTokenFiles;
  /** The development CA that issued the certificate, under `--https`. */
  readonly caFile?: string;
  readonly tls: boolean;
}

/** What `dke dev` prints: every command ready to paste, in the order a newcomer tries them. */
export function instructions(dev: DevInstructions): string {
  const curl = dev.caFile === undefined ? 'curl -s' : `curl -s --cacert ${dev.caFile}`;
  const dke = `node ${cliPath()}`;
  const keyUrl = `${dev.baseUrl}/${DEMO_KEY}`;
  const trust =
    dev.caFile === undefined
      ? ''
      : `
HTTPS with a development certificate for localhost, issued by a development CA made for this machine only.
Trust it where you call from: curl takes --cacert (as below); Node, and so dke doctor, reads
  export NODE_EXTRA_CA_CERTS=${dev.caFile}
`;
  const doctorEnv = dev.caFile === undefined ? '' : `NODE_EXTRA_CA_CERTS=${dev.caFile} `;
  const doctorNote = dev.tls ? 'every check passes' : 'every check passes but https: start with "npm run dev -- --https" for that one';
  const consoleLines =
    dev.consoleUrl === undefined
      ? ''
      : `
Console (sign in as ${dev.users.map((u) => `${u.upn} (${u.roles.join(', ')})`).join(', ')}):
  ${dev.consoleUrl}

Admin API, with a DKE.Admin token for ${dev.tokenFiles.adminUpn} from the development issuer (valid 12 hours):
  T=$(cat ${dev.tokenFiles.admin})
  ${curl} -H "Authorization: Bearer $T" ${dev.consoleUrl}api/keys
${dev.adminServer === undefined ? '' : cliSignInLines(dke, dev, doctorEnv, dev.adminServer)}`;
  return `
dke-service is running on the DEVELOPMENT token with a DEVELOPMENT token issuer (never use either in production).
${trust}
Public key (what Office fetches to protect a document):
  ${curl} ${keyUrl}

Decrypt (what Office calls to open one); the answer's value is base64 of "${DEMO_PLAINTEXT}":
  ${curl} -X POST ${dev.kid}/decrypt \\
    -H 'Content-Type: application/json' \\
    -H 'Authorization: Bearer ${dev.token}' \\
    -d '{"alg":"RSA-OAEP-256","value":"${dev.ciphertext}"}'

Check it as Office meets it (${doctorNote}):
  ${doctorEnv}${dke} doctor ${keyUrl} --token-file ${dev.tokenFiles.user}
${consoleLines}
The tokens above are for ${DEMO_USER} (also in ${dev.tokenFiles.user}) and ${dev.tokenFiles.adminUpn}, valid 12 hours; each start issues new ones. Stop with Ctrl+C.
`;
}

/** `dke --server`: the device code sign-in as each development user, and a pipeline's client credential. */
function cliSignInLines(dke: string, dev: DevInstructions, env: string, server: string): string {
  return `
The CLI through the admin API, as yourself: sign in with a device code, then open the page it prints, enter the code
and pick ${dev.users.map((u) => u.upn).join(', ')} (each a button):
  ${env}${dke} login --server ${server}
  ${env}${dke} --server ${server} keys list
  ${env}${dke} logout --server ${server}
As a pipeline (client credentials of the development app ${dev.tokenFiles.pipelineClientId}, DKE.Admin):
  ${env}DKE_ADMIN_CLIENT_ID=${dev.tokenFiles.pipelineClientId} DKE_ADMIN_CLIENT_SECRET_FILE=${dev.tokenFiles.pipelineSecret} ${dke} --server ${server} keys list
`;
}

/** The `dke` entry point this process runs, relative to the current folder when it lies inside it. */
function cliPath(): string {
  const script = process.argv[1] ?? 'dist/cli.js';
  const inside = relative(process.cwd(), script);
  return inside.startsWith('..') || isAbsolute(inside) ? script : inside;
}
