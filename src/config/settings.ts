/**
 * Every setting of the service, once: its variable (contract §2), what it means and its default.
 * `config/*.json` files use the same names as keys; the environment wins over them.
 */
export interface SettingSpec {
  readonly name: string;
  readonly doc: string;
  readonly defaultValue?: string;
}

export const SETTINGS = [
  { name: 'DKE_PORT', doc: 'listen port or pipe (falls back to PORT, as iisnode and App Service set it)', defaultValue: '8080' },
  { name: 'DKE_HOST', doc: 'listen address', defaultValue: '0.0.0.0' },
  { name: 'DKE_TLS_CERT', doc: 'PEM certificate chain; with DKE_TLS_KEY the service speaks HTTPS' },
  { name: 'DKE_TLS_KEY', doc: 'PEM private key of DKE_TLS_CERT' },
  { name: 'DKE_PUBLIC_BASE_URL', doc: 'scheme://host used to build kid values (else taken from the request)' },
  { name: 'DKE_BASE_PATH', doc: 'path prefix under which every route is mounted', defaultValue: '' },
  { name: 'DKE_TRUST_PROXY', doc: 'honour X-Forwarded-* from proxies: a hop count or a list of trusted proxy addresses and CIDR ranges (true is refused)', defaultValue: 'false' },
  { name: 'DKE_PKCS11_LIBRARY', doc: 'path of the PKCS#11 module (unset: the embedded NSS development token)' },
  { name: 'DKE_PKCS11_LIBRARY_PARAMETERS', doc: 'string passed to C_Initialize (NSS softoken needs it)' },
  { name: 'DKE_PKCS11_TOKEN_LABEL', doc: 'label of the token that holds the keys' },
  { name: 'DKE_PKCS11_SLOT', doc: 'slot index in the token list (instead of the label)' },
  { name: 'DKE_PKCS11_PIN', doc: 'user PIN (never logged, never retried after CKR_PIN_INCORRECT)' },
  { name: 'DKE_PKCS11_PIN_FILE', doc: 'file holding the user PIN' },
  { name: 'DKE_PKCS11_SESSIONS', doc: 'sessions in the pool, i.e. decrypts in flight (unset: sized for the token)' },
  { name: 'DKE_PKCS11_QUEUE_TIMEOUT_MS', doc: 'longest wait for a free session before answering 503', defaultValue: '2000' },
  { name: 'DKE_PKCS11_DECRYPT_THREADS', doc: 'decrypt on worker threads (true) or with pkcs11js async calls on the event loop (false)', defaultValue: 'true' },
  { name: 'DKE_PKCS11_SIMULATED_DELAY_MS', doc: 'benchmarks only: extra ms per decrypt, simulating a network HSM', defaultValue: '0' },
  { name: 'DKE_ALLOW_EXPORTABLE_KEYS', doc: 'serve key versions whose token evidence says they could have left the HSM', defaultValue: 'false' },
  { name: 'DKE_AUTH_AUDIENCE', doc: 'accepted aud values, comma-separated (the service URL in the sensitivity label)' },
  { name: 'DKE_AUTH_TENANT_IDS', doc: 'allowed Entra tenant ids, comma-separated' },
  { name: 'DKE_AUTH_ISSUERS', doc: 'further exact issuers, comma-separated' },
  { name: 'DKE_AUTH_CLOUD', doc: 'Entra cloud: public, usgov or china (issuers, metadata URL, challenge authorization URL); unset: the cloud of DKE_AUTH_METADATA_URL, else public' },
  { name: 'DKE_AUTH_METADATA_URL', doc: 'OpenID metadata naming the JWKS (unset: the multi-tenant metadata of DKE_AUTH_CLOUD)' },
  { name: 'DKE_AUTH_REQUIRED_SCOPE', doc: 'scope that must appear in scp', defaultValue: 'user_impersonation' },
  { name: 'DKE_AUTH_CLOCK_SKEW_SECONDS', doc: 'tolerance on exp and nbf', defaultValue: '300' },
  { name: 'DKE_AUTH_AUTHORIZATION_URL', doc: 'authorization URL sent in the 401 challenge (unset: that of DKE_AUTH_CLOUD)' },
  { name: 'DKE_DATA_DIR', doc: 'embedded key-state store and audit trail', defaultValue: './data' },
  { name: 'DKE_PUBLIC_KEY_CACHE_HOURS', doc: 'cache.exp = now + this many hours (0 leaves cache out)', defaultValue: '24' },
  { name: 'DKE_RATE_LIMIT_WINDOW_SECONDS', doc: 'window of the failed-authentication limiter', defaultValue: '60' },
  { name: 'DKE_RATE_LIMIT_MAX_FAILURES', doc: 'failed authentications per client address and window before 429', defaultValue: '100' },
  { name: 'DKE_LOG_LEVEL', doc: 'winston level', defaultValue: 'info' },
  { name: 'DKE_ADMIN_PORT', doc: 'port of the admin API (contract §6); unset: no admin listener (the CLI still works)' },
  { name: 'DKE_ADMIN_HOST', doc: 'listen address of the admin API', defaultValue: '127.0.0.1' },
  { name: 'DKE_ADMIN_AUDIENCE', doc: 'accepted aud values of admin API tokens, comma-separated (unset: the DKE_AUTH_AUDIENCE values)' },
  // Outbound proxy for the OpenID metadata and signing keys, under the names every HTTP tool reads (lower case too).
  { name: 'HTTPS_PROXY', doc: 'proxy for https:// metadata and key fetches' },
  { name: 'HTTP_PROXY', doc: 'proxy for http:// fetches, and for https:// ones when HTTPS_PROXY is unset' },
  { name: 'NO_PROXY', doc: 'hosts reached directly, comma-separated (* for all)' },
  { name: 'DKE_APPROVALS_REQUIRED', doc: '1, or 2: irreversible changes and lifting the emergency block wait for a second, different admin', defaultValue: '1' },
  { name: 'DKE_APPROVAL_TTL', doc: 'how long a proposal waits for its approval (30s, 12h, 7d)', defaultValue: '24h' },
  { name: 'DKE_DELETION_WINDOW', doc: 'wait between delete and the destruction of the HSM objects (30s, 12h, 7d; 0 destroys at once)', defaultValue: '7d' },
  { name: 'DKE_ADMIN_ACTOR', doc: 'who runs admin commands, as the audit trail names them (unset: os:<user>)' },
  { name: 'DKE_DEV_ISSUER_PORT', doc: '`dke dev` only: port of the development token issuer (0: any free port)', defaultValue: '0' },
  { name: 'DKE_AUDIT_RETENTION', doc: 'audit entries older than this (90d, 12h, 30m, 45s) are archived into DKE_DATA_DIR/audit-archive/ (unset: keep everything)' },
  { name: 'DKE_FAULT_KILL_AFTER', doc: 'tests only: an admin command kills itself (SIGKILL) right after this step, e.g. create:intent, delete:token' },
  { name: 'DKE_DEBUG', doc: 'the CLI prints the stack trace of an unexpected failure', defaultValue: 'false' },
] as const satisfies readonly SettingSpec[];

export type SettingName = (typeof SETTINGS)[number]['name'];

/** The settings that have a default, and that default: written once, above. */
export type DefaultedSetting = Extract<(typeof SETTINGS)[number], { defaultValue: string }>['name'];

export const DEFAULTS = Object.fromEntries(
  SETTINGS.flatMap((spec) => ('defaultValue' in spec ? [[spec.name, spec.defaultValue]] : [])),
) as Readonly<Record<DefaultedSetting, string>>;

/** libuv's own default thread count, when UV_THREADPOOL_SIZE is unset (Node's documentation). */
export const LIBUV_DEFAULT_THREADS = '4';
