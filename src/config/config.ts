import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthConfig, EntraCloud, OutboundProxyConfig } from '../auth/auth-settings.js';
import type { Pkcs11Config } from '../hsm/pkcs11-settings.js';
import { spanMs } from '../keys/durations.js';
import { Secret } from '../keys/secret.js';
import { ConfigError, readPinFile } from './config-error.js';
import { readVaultsFile, type VaultsConfig } from './vaults-file.js';
import { DEFAULTS, LIBUV_DEFAULT_THREADS, SETTING_NAMES, type DefaultedSetting, type SettingName } from './settings.js';
import { embeddedTokenSettings } from './embedded-token.js';
import { CLOUD_NAMES, cloudNamed, cloudOfUrl, PUBLIC_CLOUD } from './entra-clouds.js';

export type { AuthConfig, OutboundProxyConfig, Pkcs11Config };

export interface Config {
  readonly port: number | string;
  readonly host: string;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly publicBaseUrl?: string;
  readonly basePath: string;
  /** Express's `trust proxy`: false, a hop count, or trusted proxy addresses and CIDR ranges (never `true`). */
  readonly trustProxy: false | number | readonly string[];
  readonly pkcs11: Pkcs11Config & {
    /** True when no module was configured and the embedded NSS development token is used. */
    readonly embedded: boolean;
  };
  readonly auth: AuthConfig;
  readonly outboundProxy: OutboundProxyConfig;
  readonly dataDir: string;
  /** DKE_DATABASE_URL: the shared PostgreSQL store (contract §5); unset: the embedded store in dataDir. Holds a password: never logged. */
  readonly databaseUrl?: string;
  /** DKE_STATE_STALENESS_SECONDS in ms: how long lookups answer from a key state the database could not confirm. */
  readonly stateStalenessMs: number;
  /**
   * DKE_OUTAGE_MODE: while the database is unreachable, `journal` answers decrypts and keeps their entries in the
   * local journal in dataDir (a persistent volume); `refuse` answers them 503 (contract §2).
   */
  readonly outageMode: 'journal' | 'refuse';
  readonly publicKeyCacheHours: number;
  /** Opt-in to serve versions the token says are or were extractable (issue 4); off by default. */
  readonly allowExportableKeys: boolean;
  readonly rateLimit: { readonly windowSeconds: number; readonly maxFailures: number };
  readonly logLevel: string;
  /** The admin API listener (contract §6), when DKE_ADMIN_PORT is set; same TLS settings as the service. */
  readonly admin?: { readonly port: number; readonly host: string };
  /**
   * Accepted `aud` of admin API tokens (DKE_ADMIN_AUDIENCE); empty when unset, and then the admin API accepts no token.
   * Never one of the DKE_AUTH_AUDIENCE values (issue 26: a decrypt token must never be an admin credential).
   */
  readonly adminAudiences: readonly string[];
  /** DKE_METRICS_PORT: /metrics on a listener of its own (DKE_METRICS_HOST); unset: on the admin listener, if any. */
  readonly metrics?: { readonly port: number; readonly host: string };
  /** How the console (contract §7) signs in: its app registration and the tenant's authority in the configured cloud. */
  readonly consoleSignIn: ConsoleSignIn;
  /** DKE_DELETION_WINDOW in ms: how long a deleted version waits before its HSM objects are destroyed (0: at once). */
  readonly deletionWindowMs: number;
  /** DKE_APPROVALS_REQUIRED (1 or 2) and DKE_APPROVAL_TTL in ms: the two-person rule (contract §6). */
  readonly approvalsRequired: 1 | 2;
  readonly approvalTtlMs: number;
  /** Who runs admin commands, for the audit trail (DKE_ADMIN_ACTOR); unset: the OS user. */
  readonly adminActor?: string;
  /** Audit entries older than this many ms are archived by the service (issue 17); unset: kept in the store. */
  readonly auditRetentionMs?: number;
  /** Port of `dke dev`'s development token issuer (0: any free port). */
  readonly devIssuerPort: number;
  /** DKE_VAULTS (contract §9): the vaults of its file; unset: the one vault `default` of `pkcs11` (see vaultsOf). */
  readonly vaults?: VaultsConfig;
}

/**
 * The console's sign-in (authorization code + PKCE): DKE_ADMIN_CLIENT_ID, and the authority of the first allowed
 * tenant in the cloud of DKE_AUTH_CLOUD (`organizations` when only issuers are configured). The page appends
 * `/oauth2/v2.0/authorize` and `/oauth2/v2.0/token`, as Entra names them.
 */
export interface ConsoleSignIn {
  readonly clientId?: string;
  readonly authority: string;
}

export { ConfigError };

/** Settings by variable name; PORT and UV_THREADPOOL_SIZE are read too (set by hosting platforms and Node itself). */
export type RawSettings = Partial<Record<SettingName | 'UV_THREADPOOL_SIZE', string>>;

/** The folder `config/` of the package, found from this file's place in `src/` or `dist/`. */
export const CONFIG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config');

/**
 * Reads `config/default.json`, then `config/local.json` (git-ignored), then the environment, and returns a frozen,
 * checked configuration. Throws ConfigError with a sentence naming the setting when a value is malformed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, configDir = CONFIG_DIR): Config {
  return Object.freeze(parseSettings(rawSettings(env, configDir)));
}

/**
 * Where the container HEALTHCHECK finds this instance's readiness probe: port (or pipe), base path and whether it
 * speaks TLS, read from the same sources as loadConfig, and nothing else, so a probe never fails on another setting.
 */
export function probeTarget(env: NodeJS.ProcessEnv = process.env, configDir = CONFIG_DIR): { port: number | string; path: string; tls: boolean } {
  const raw = rawSettings(env, configDir);
  return {
    port: parsePort(raw.DKE_PORT ?? DEFAULTS.DKE_PORT),
    path: `${parseBasePath(raw.DKE_BASE_PATH ?? DEFAULTS.DKE_BASE_PATH)}/health/ready`,
    tls: nonEmpty(raw.DKE_TLS_CERT) !== undefined,
  };
}

/** Defaults, then `config/default.json`, `config/local.json`, then the environment. */
function rawSettings(env: NodeJS.ProcessEnv, configDir: string): RawSettings {
  const raw: RawSettings = { ...DEFAULTS };
  for (const file of ['default.json', 'local.json']) Object.assign(raw, readSettingsFile(join(configDir, file)));
  if (env.PORT !== undefined && env.DKE_PORT === undefined) raw.DKE_PORT = env.PORT;
  if (env.UV_THREADPOOL_SIZE !== undefined) raw.UV_THREADPOOL_SIZE = env.UV_THREADPOOL_SIZE;
  // curl and most tools read the lower-case proxy variables first; so does undici.
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] as const) {
    const lower = env[name.toLowerCase()];
    if (lower !== undefined) raw[name] = lower;
  }
  for (const name of SETTING_NAMES) {
    const value = env[name];
    if (value !== undefined) raw[name] = value;
  }
  return raw;
}

/**
 * The configuration with settings that hold unless the environment names them (`defaults`), and settings that win
 * over everything (`overrides`): `dke dev` binds to loopback and points authentication at its own issuer.
 */
export function loadConfigWith(defaults: RawSettings, overrides: RawSettings): Config {
  return loadConfig({ ...defaults, ...process.env, ...overrides });
}

/** DKE_DEBUG: the CLI prints stack traces of unexpected failures. Read apart from loadConfig, whose failure it may report. */
export function debugOutputWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return boolean('DKE_DEBUG', env.DKE_DEBUG ?? DEFAULTS.DKE_DEBUG, false);
}

function readSettingsFile(path: string): RawSettings {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`${path} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${path} must hold one JSON object of DKE_ settings.`);
  }
  const known = new Set<string>(SETTING_NAMES);
  const out: RawSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key.startsWith('//')) continue;
    if (!known.has(key)) throw new ConfigError(`${path}: unknown setting ${key}.`);
    if (value === null) continue;
    out[key as SettingName] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

export function parseSettings(raw: RawSettings): Config {
  const setting = (name: DefaultedSetting): string => raw[name] ?? DEFAULTS[name];
  const dataDir = resolve(setting('DKE_DATA_DIR'));
  const tlsCert = nonEmpty(raw.DKE_TLS_CERT);
  const tlsKey = nonEmpty(raw.DKE_TLS_KEY);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError('DKE_TLS_CERT and DKE_TLS_KEY must be set together.');
  }
  const publicBaseUrl = nonEmpty(raw.DKE_PUBLIC_BASE_URL);
  if (publicBaseUrl !== undefined) assertHttpUrl('DKE_PUBLIC_BASE_URL', publicBaseUrl);
  const cloud = parseCloud(raw);
  const metadataUrl = nonEmpty(raw.DKE_AUTH_METADATA_URL) ?? cloud.metadataUrl;
  assertHttpUrl('DKE_AUTH_METADATA_URL', metadataUrl);
  const databaseUrl = nonEmpty(raw.DKE_DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DKE_DATABASE_URL must be a postgres:// (or postgresql://) URL.');
  }
  const pkcs11 = parsePkcs11(raw, dataDir, setting);
  const vaultsFile = nonEmpty(raw.DKE_VAULTS);

  return {
    port: parsePort(setting('DKE_PORT')),
    host: setting('DKE_HOST'),
    ...(tlsCert && tlsKey ? { tls: { certFile: resolve(tlsCert), keyFile: resolve(tlsKey) } } : {}),
    ...(publicBaseUrl ? { publicBaseUrl: publicBaseUrl.replace(/\/+$/, '') } : {}),
    basePath: parseBasePath(setting('DKE_BASE_PATH')),
    trustProxy: parseTrustProxy(setting('DKE_TRUST_PROXY')),
    pkcs11,
    ...(vaultsFile !== undefined ? { vaults: readVaultsFile(resolve(vaultsFile), pkcs11) } : {}),
    auth: {
      audiences: list(raw.DKE_AUTH_AUDIENCE),
      tenantIds: list(raw.DKE_AUTH_TENANT_IDS).map((t) => t.toLowerCase()),
      issuers: list(raw.DKE_AUTH_ISSUERS),
      metadataUrl,
      requiredScope: setting('DKE_AUTH_REQUIRED_SCOPE'),
      clockSkewSeconds: integer('DKE_AUTH_CLOCK_SKEW_SECONDS', setting('DKE_AUTH_CLOCK_SKEW_SECONDS'), 0, 3600),
      authorizationUrl: nonEmpty(raw.DKE_AUTH_AUTHORIZATION_URL) ?? cloud.authorizationUrl,
      cloud,
    },
    outboundProxy: {
      ...(nonEmpty(raw.HTTPS_PROXY) ? { httpsProxy: nonEmpty(raw.HTTPS_PROXY) } : {}),
      ...(nonEmpty(raw.HTTP_PROXY) ? { httpProxy: nonEmpty(raw.HTTP_PROXY) } : {}),
      ...(nonEmpty(raw.NO_PROXY) ? { noProxy: nonEmpty(raw.NO_PROXY) } : {}),
    },
    dataDir,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    stateStalenessMs: integer('DKE_STATE_STALENESS_SECONDS', setting('DKE_STATE_STALENESS_SECONDS'), 1, 86_400) * 1000,
    outageMode: oneOf('DKE_OUTAGE_MODE', setting('DKE_OUTAGE_MODE'), ['journal', 'refuse'] as const),
    publicKeyCacheHours: integer('DKE_PUBLIC_KEY_CACHE_HOURS', setting('DKE_PUBLIC_KEY_CACHE_HOURS'), 0, 24 * 365),
    allowExportableKeys: boolean('DKE_ALLOW_EXPORTABLE_KEYS', setting('DKE_ALLOW_EXPORTABLE_KEYS')),
    rateLimit: {
      windowSeconds: integer('DKE_RATE_LIMIT_WINDOW_SECONDS', setting('DKE_RATE_LIMIT_WINDOW_SECONDS'), 1, 86400),
      maxFailures: integer('DKE_RATE_LIMIT_MAX_FAILURES', setting('DKE_RATE_LIMIT_MAX_FAILURES'), 1, 1_000_000),
    },
    logLevel: setting('DKE_LOG_LEVEL'),
    ...(nonEmpty(raw.DKE_ADMIN_PORT) !== undefined
      ? { admin: { port: integer('DKE_ADMIN_PORT', nonEmpty(raw.DKE_ADMIN_PORT)!, 0, 65535), host: setting('DKE_ADMIN_HOST') } }
      : {}),
    deletionWindowMs: duration('DKE_DELETION_WINDOW', setting('DKE_DELETION_WINDOW')),
    approvalsRequired: integer('DKE_APPROVALS_REQUIRED', setting('DKE_APPROVALS_REQUIRED'), 1, 2) as 1 | 2,
    approvalTtlMs: duration('DKE_APPROVAL_TTL', setting('DKE_APPROVAL_TTL')),
    adminAudiences: list(raw.DKE_ADMIN_AUDIENCE),
    ...parseMetricsListener(raw, setting),
    consoleSignIn: {
      ...(nonEmpty(raw.DKE_ADMIN_CLIENT_ID) !== undefined ? { clientId: nonEmpty(raw.DKE_ADMIN_CLIENT_ID)! } : {}),
      // The sign-in host of the cloud (that of its metadata document: login.microsoftonline.com, .us, chinacloudapi.cn).
      authority: `${new URL(cloud.metadataUrl).origin}/${list(raw.DKE_AUTH_TENANT_IDS)[0]?.toLowerCase() ?? 'organizations'}`,
    },
    ...(nonEmpty(raw.DKE_ADMIN_ACTOR) !== undefined ? { adminActor: nonEmpty(raw.DKE_ADMIN_ACTOR)!.slice(0, 200) } : {}),
    devIssuerPort: integer('DKE_DEV_ISSUER_PORT', setting('DKE_DEV_ISSUER_PORT'), 0, 65535),
    ...(nonEmpty(raw.DKE_AUDIT_RETENTION) !== undefined ? { auditRetentionMs: span('DKE_AUDIT_RETENTION', nonEmpty(raw.DKE_AUDIT_RETENTION)!) } : {}),
  };
}

/**
 * The service refuses to start when no token could ever be accepted: it would report ready and answer every decrypt
 * 401 (with `resource=""` when the audience is missing) while a load balancer keeps it in rotation. The CLI's key
 * commands authenticate nobody and do not call this.
 */
export function assertCanAuthenticate(auth: AuthConfig): void {
  if (auth.audiences.length === 0) {
    throw new ConfigError(
      'DKE_AUTH_AUDIENCE is not set, so no token can be accepted and every decrypt would fail: set it to the service URL of the sensitivity label (the Application ID URI), e.g. https://dke.contoso.com.',
    );
  }
  if (auth.tenantIds.length === 0 && auth.issuers.length === 0) {
    throw new ConfigError(
      'Neither DKE_AUTH_TENANT_IDS nor DKE_AUTH_ISSUERS is set, so no token issuer is trusted and every decrypt would fail: set DKE_AUTH_TENANT_IDS to your Entra tenant id.',
    );
  }
}

/**
 * Issue 26: an admin token and a decrypt token are never the same credential. A decrypt token travels with every
 * document Office opens (every proxy on that path sees it), so with the admin listener on, the admin API needs an
 * audience of its own, and none of its values may be a DKE_AUTH_AUDIENCE value (compared as the verifiers compare
 * them: a URL with or without its trailing slash).
 */
export function assertSeparateAdminAudience(config: Pick<Config, 'admin' | 'adminAudiences' | 'auth'>): void {
  if (config.admin !== undefined && config.adminAudiences.length === 0) {
    throw new ConfigError(
      'DKE_ADMIN_PORT is set but DKE_ADMIN_AUDIENCE is not: the admin API needs an audience of its own (the Application ID URI of the admin app registration, e.g. api://dke-admin), different from every DKE_AUTH_AUDIENCE value.',
    );
  }
  const decrypt = new Set(config.auth.audiences.map(comparableAudience));
  const shared = config.adminAudiences.filter((audience) => decrypt.has(comparableAudience(audience)));
  if (shared.length > 0) {
    throw new ConfigError(
      `DKE_ADMIN_AUDIENCE must differ from every DKE_AUTH_AUDIENCE value, and ${shared.join(', ')} is in both: a decrypt token, sent with every document Office opens, would be an admin credential.`,
    );
  }
}

/** An audience as the verifiers accept it: a URL with and without its trailing slash is one audience. */
function comparableAudience(audience: string): string {
  return /^https?:\/\//i.test(audience) ? audience.replace(/\/+$/, '').toLowerCase() : audience;
}

/**
 * DKE_METRICS_PORT (contract §1, §2): metrics never on the port Office reaches. Its own listener binds DKE_METRICS_HOST
 * (loopback unless an operator opens it, as Prometheus in a pod needs).
 */
function parseMetricsListener(raw: RawSettings, setting: (name: DefaultedSetting) => string): Pick<Config, 'metrics'> {
  const port = nonEmpty(raw.DKE_METRICS_PORT);
  if (port === undefined) return {};
  // 0 (any free port, as for DKE_PORT and DKE_ADMIN_PORT) can never be the same port as another listener's.
  const metricsPort = integer('DKE_METRICS_PORT', port, 0, 65535);
  if (metricsPort !== 0 && String(metricsPort) === setting('DKE_PORT').trim()) {
    throw new ConfigError('DKE_METRICS_PORT must differ from DKE_PORT: /metrics is never served on the port Office reaches.');
  }
  if (metricsPort !== 0 && String(metricsPort) === nonEmpty(raw.DKE_ADMIN_PORT)) {
    throw new ConfigError('DKE_METRICS_PORT is DKE_ADMIN_PORT: leave DKE_METRICS_PORT unset to serve /metrics on the admin listener.');
  }
  return { metrics: { port: metricsPort, host: setting('DKE_METRICS_HOST') } };
}

/** DKE_AUTH_CLOUD when set; else the cloud of DKE_AUTH_METADATA_URL's host (the setting predates the variable); else public. */
function parseCloud(raw: RawSettings): EntraCloud {
  const named = nonEmpty(raw.DKE_AUTH_CLOUD);
  if (named === undefined) return cloudOfUrl(nonEmpty(raw.DKE_AUTH_METADATA_URL) ?? '') ?? PUBLIC_CLOUD;
  const cloud = cloudNamed(named);
  if (cloud === undefined) throw new ConfigError(`DKE_AUTH_CLOUD must be one of ${CLOUD_NAMES.join(', ')}, not "${named}".`);
  return cloud;
}

function parsePkcs11(raw: RawSettings, dataDir: string, setting: (name: DefaultedSetting) => string): Config['pkcs11'] {
  const library = nonEmpty(raw.DKE_PKCS11_LIBRARY);
  const embedded = library === undefined ? embeddedTokenSettings(dataDir) : undefined;
  const pinFile = nonEmpty(raw.DKE_PKCS11_PIN_FILE) ?? embedded?.pinFile;
  const pinValue = raw.DKE_PKCS11_PIN ?? (pinFile !== undefined && existsSync(pinFile) ? readPinFile(pinFile) : undefined);
  const slot = nonEmpty(raw.DKE_PKCS11_SLOT);
  const sessions = nonEmpty(raw.DKE_PKCS11_SESSIONS);
  const libraryParameters = nonEmpty(raw.DKE_PKCS11_LIBRARY_PARAMETERS) ?? embedded?.libraryParameters;
  const tokenLabel = nonEmpty(raw.DKE_PKCS11_TOKEN_LABEL) ?? (slot === undefined ? embedded?.tokenLabel : undefined);
  if (library !== undefined && tokenLabel === undefined && slot === undefined) {
    throw new ConfigError('Set DKE_PKCS11_TOKEN_LABEL or DKE_PKCS11_SLOT to say which token holds the keys.');
  }
  return {
    library: library ?? embedded!.library,
    ...(libraryParameters !== undefined ? { libraryParameters } : {}),
    ...(tokenLabel !== undefined ? { tokenLabel } : {}),
    ...(slot !== undefined ? { slotIndex: integer('DKE_PKCS11_SLOT', slot, 0, 1_000_000) } : {}),
    ...(pinValue !== undefined ? { pin: new Secret(pinValue) } : {}),
    ...(pinFile !== undefined ? { pinFile } : {}),
    ...(sessions !== undefined ? { sessions: integer('DKE_PKCS11_SESSIONS', sessions, 1, 1024) } : {}),
    defaultSessions: integer('UV_THREADPOOL_SIZE', raw.UV_THREADPOOL_SIZE ?? LIBUV_DEFAULT_THREADS, 1, 1024),
    queueTimeoutMs: integer('DKE_PKCS11_QUEUE_TIMEOUT_MS', setting('DKE_PKCS11_QUEUE_TIMEOUT_MS'), 1, 60_000),
    decryptThreads: boolean('DKE_PKCS11_DECRYPT_THREADS', setting('DKE_PKCS11_DECRYPT_THREADS')),
    simulatedDelayMs: integer('DKE_PKCS11_SIMULATED_DELAY_MS', setting('DKE_PKCS11_SIMULATED_DELAY_MS'), 0, 10_000),
    embedded: library === undefined,
  };
}

/** What `dke hsm probe --library …` names on its command line: another module than the configured one. */
export interface NamedModule {
  readonly library: string;
  readonly libraryParameters?: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly pinFile?: string;
}

/**
 * The settings of a module named on the command line, built from those options alone: nothing of the configured
 * token (its PIN above all, in the environment or a settings file) may reach another module, where a PIN that is
 * not its own would count as a wrong login. The pool's own settings (sessions, queue, threads) are the configured ones.
 */
export function namedModuleSettings(named: NamedModule, configured: Pkcs11Config): Pkcs11Config {
  if (named.tokenLabel === undefined && named.slot === undefined) {
    throw new ConfigError('Name the token of that module with --token-label or --slot.');
  }
  return {
    library: named.library,
    ...(named.libraryParameters !== undefined ? { libraryParameters: named.libraryParameters } : {}),
    ...(named.tokenLabel !== undefined ? { tokenLabel: named.tokenLabel } : {}),
    ...(named.slot !== undefined ? { slotIndex: named.slot } : {}),
    ...(named.pinFile !== undefined ? { pin: new Secret(readPinFile(named.pinFile)), pinFile: named.pinFile } : {}),
    ...(configured.sessions !== undefined ? { sessions: configured.sessions } : {}),
    defaultSessions: configured.defaultSessions,
    queueTimeoutMs: configured.queueTimeoutMs,
    decryptThreads: configured.decryptThreads,
    simulatedDelayMs: 0,
  };
}

function parsePort(value: string): number | string {
  if (/^\d+$/.test(value)) return integer('DKE_PORT', value, 0, 65535);
  // iisnode hands over a named pipe such as \\.\pipe\<guid>.
  if (value.startsWith('\\\\.\\pipe\\') || value.startsWith('/')) return value;
  throw new ConfigError(`DKE_PORT must be a port number or a pipe path, not "${value}".`);
}

function parseBasePath(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) {
    throw new ConfigError('DKE_BASE_PATH must look like /segment[/segment], using letters, digits, ".", "_", "~" or "-".');
  }
  return trimmed;
}

/** proxy-addr's names for address ranges, accepted beside addresses and CIDR ranges. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * DKE_TRUST_PROXY (issue 18): `false`, a hop count, or a comma-separated list of trusted proxy addresses or CIDR
 * ranges. `true` is refused: it believes any X-Forwarded-For and X-Forwarded-Host, so every caller could choose its
 * address (escaping the rate limit, or blaming another) and, without DKE_PUBLIC_BASE_URL, the host in `kid`.
 */
function parseTrustProxy(value: string): false | number | string[] {
  const v = value.trim().toLowerCase();
  if (v === 'false' || v === '' || v === '0') return false;
  if (v === 'true') {
    throw new ConfigError(
      'DKE_TRUST_PROXY=true would let any caller choose its own address and host name through X-Forwarded-* headers; ' +
        'set the number of proxies in front of the service (for example 1) or the addresses of the trusted proxies (for example 10.0.0.4,10.1.0.0/16).',
    );
  }
  if (/^\d+$/.test(v)) return integer('DKE_TRUST_PROXY', v, 0, 10);
  const entries = list(value);
  for (const entry of entries) {
    if (!isProxyAddress(entry)) {
      throw new ConfigError(`DKE_TRUST_PROXY must be a hop count or a comma-separated list of proxy addresses or CIDR ranges, and "${entry}" is neither.`);
    }
  }
  return entries;
}

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** A span as `30s`, `90m`, `12h` or `7d`, or `0`, in ms. */
function duration(name: string, value: string): number {
  if (value.trim() === '0') return 0;
  const ms = spanMs(value);
  if (ms === undefined) throw new ConfigError(`${name} must be 0 or a span such as 30s, 90m, 12h or 7d, not "${value}".`);
  return ms;
}

function boolean(name: string, value: string, strict = true): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === '' || !strict) return false;
  throw new ConfigError(`${name} must be true or false, not "${value}".`);
}

/** A span such as 90d, 12h, 30m or 45s, in milliseconds. */
function span(name: string, value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  if (match === null || Number(match[1]) === 0) throw new ConfigError(`${name} must be a span such as 90d, 12h, 30m or 45s, not "${value}".`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

function oneOf<T extends string>(name: string, value: string, words: readonly T[]): T {
  const word = value.trim().toLowerCase();
  if (!(words as readonly string[]).includes(word)) throw new ConfigError(`${name} must be ${words.join(' or ')}, not "${value}".`);
  return word as T;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return n;
}

function assertHttpUrl(name: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, not "${value}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http(s) URL, not "${value}".`);
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
