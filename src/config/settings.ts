/**
 * Every setting of the service, once (contract §2): its variable and, where it has one, its default. What each one
 * means is told once too, in the settings table of docs/configuration.md; test/config/settings.test.ts keeps the two
 * in step.
 * `config/*.json` files use the same names as keys; the environment wins over them.
 */

/** The settings that have a default, and that default. */
export const DEFAULTS = {
  DKE_PORT: '8080', // else PORT, as iisnode and App Service set it
  DKE_HOST: '0.0.0.0',
  DKE_BASE_PATH: '',
  DKE_TRUST_PROXY: 'false',
  DKE_PKCS11_QUEUE_TIMEOUT_MS: '2000',
  DKE_PKCS11_DECRYPT_THREADS: 'true',
  DKE_PKCS11_SIMULATED_DELAY_MS: '0',
  DKE_ALLOW_EXPORTABLE_KEYS: 'false',
  DKE_AUTH_REQUIRED_SCOPE: 'user_impersonation',
  DKE_AUTH_CLOCK_SKEW_SECONDS: '300',
  DKE_DATA_DIR: './data',
  DKE_STATE_STALENESS_SECONDS: '300',
  DKE_OUTAGE_MODE: 'journal',
  DKE_PUBLIC_KEY_CACHE_HOURS: '24',
  DKE_RATE_LIMIT_WINDOW_SECONDS: '60',
  DKE_RATE_LIMIT_MAX_FAILURES: '100',
  DKE_LOG_LEVEL: 'info',
  DKE_ADMIN_HOST: '127.0.0.1',
  DKE_METRICS_HOST: '127.0.0.1',
  DKE_APPROVALS_REQUIRED: '1',
  DKE_APPROVAL_TTL: '24h',
  DKE_DELETION_WINDOW: '7d',
  DKE_DEV_ISSUER_PORT: '0',
  DKE_DEBUG: 'false',
} as const satisfies Readonly<Record<string, string>>;

/** The settings without a default: unset, each one means what docs/configuration.md's table says (mostly: that feature is off). */
const WITHOUT_DEFAULT = [
  'DKE_TLS_CERT', 'DKE_TLS_KEY', 'DKE_PUBLIC_BASE_URL',
  'DKE_PKCS11_LIBRARY', 'DKE_PKCS11_LIBRARY_PARAMETERS', 'DKE_PKCS11_TOKEN_LABEL', 'DKE_PKCS11_SLOT', 'DKE_PKCS11_PIN', 'DKE_PKCS11_PIN_FILE',
  'DKE_PKCS11_SESSIONS', // unset: sized for the token (UV_THREADPOOL_SIZE, capped by the token)
  'DKE_VAULTS', // unset: the one vault `default` of the DKE_PKCS11_* settings (contract §9)
  'DKE_AUTH_AUDIENCE', 'DKE_AUTH_TENANT_IDS', 'DKE_AUTH_ISSUERS', 'DKE_AUTH_CLOUD', 'DKE_AUTH_METADATA_URL', 'DKE_AUTH_AUTHORIZATION_URL',
  'DKE_DATABASE_URL', 'DKE_ADMIN_PORT', 'DKE_ADMIN_AUDIENCE', 'DKE_ADMIN_CLIENT_ID', 'DKE_ADMIN_ACTOR', 'DKE_AUDIT_RETENTION',
  // The CLI's own, on an operator's machine (config/admin-client.ts): `dke --server`'s default and a pipeline's secret.
  'DKE_ADMIN_URL', 'DKE_ADMIN_CLIENT_SECRET_FILE',
  'DKE_METRICS_PORT', // unset: /metrics on the admin listener (when DKE_ADMIN_PORT is set), never on DKE_PORT
  // Outbound proxy for the OpenID metadata and signing keys, under the names every HTTP tool reads (lower case too).
  'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY',
] as const;

export type DefaultedSetting = keyof typeof DEFAULTS;

export type SettingName = DefaultedSetting | (typeof WITHOUT_DEFAULT)[number];

export const SETTING_NAMES: readonly SettingName[] = [...(Object.keys(DEFAULTS) as DefaultedSetting[]), ...WITHOUT_DEFAULT];

/** libuv's own default thread count, when UV_THREADPOOL_SIZE is unset (Node's documentation). */
export const LIBUV_DEFAULT_THREADS = '4';
