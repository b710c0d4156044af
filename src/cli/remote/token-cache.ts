import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminClientSettings } from '../../main/settings.js';

/** What `dke login` keeps per admin API: the tokens and where to refresh them. Never printed, never logged. */
export interface CachedSignIn {
  readonly accessToken: string;
  /** Milliseconds since the epoch: after it (less a minute) the access token is refreshed before use. */
  readonly expiresAt: number;
  readonly refreshToken?: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly scope: string;
  /** Who signed in, as the token names them (for sentences only). */
  readonly who?: string;
}

type CacheFile = Record<string, CachedSignIn>;

/** `$XDG_CONFIG_HOME/dke`, else `~/.config/dke`: the user's own folder, owner-only (0700). */
export function configFolder(): string {
  return adminClientSettings().configFolder;
}

/** The one file of cached sign-ins (mode 0600), keyed by the admin API's URL. */
export function tokenCacheFile(): string {
  return join(configFolder(), 'tokens.json');
}

function readCache(): CacheFile {
  const file = tokenCacheFile();
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as CacheFile) : {};
  } catch {
    // A damaged cache is no sign-in: `dke login` writes a new one.
    return {};
  }
}

/** Writes the whole cache through a temporary file, owner-only from its first byte, then renames it into place. */
function writeCache(cache: CacheFile): void {
  const folder = configFolder();
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  const file = tokenCacheFile();
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(cache, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function cachedSignIn(server: string): CachedSignIn | undefined {
  return readCache()[server];
}

export function saveSignIn(server: string, signIn: CachedSignIn): void {
  writeCache({ ...readCache(), [server]: signIn });
}

/** Forgets one admin API's sign-in, or every one (the file goes); says whether there was anything to forget. */
export function forgetSignIn(server: string | undefined): boolean {
  const cache = readCache();
  if (server === undefined || Object.keys(cache).every((key) => key === server)) {
    const existed = existsSync(tokenCacheFile());
    rmSync(tokenCacheFile(), { force: true });
    return existed && (server === undefined || cache[server] !== undefined);
  }
  if (cache[server] === undefined) return false;
  const { [server]: _forgotten, ...rest } = cache;
  writeCache(rest);
  return true;
}
