import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded development token: Debian's NSS softoken over a database in `DKE_DATA_DIR/dev-token`, made by
 * `dke dev` (or `dke dev-token init`). Never for production: its keys sit in a file protected by a PIN on disk.
 */
export const EMBEDDED_TOKEN_LABEL = 'NSS Certificate DB';

const SOFTOKN_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libsoftokn3.so',
  '/usr/lib/aarch64-linux-gnu/libsoftokn3.so',
  '/usr/lib64/libsoftokn3.so',
  '/usr/lib/libsoftokn3.so',
];

export interface EmbeddedTokenSettings {
  readonly library: string;
  readonly libraryParameters: string;
  readonly tokenLabel: string;
  readonly tokenDir: string;
  readonly pinFile: string;
}

export function findSoftokn(): string {
  return SOFTOKN_CANDIDATES.find((p) => existsSync(p)) ?? SOFTOKN_CANDIDATES[0]!;
}

/** NSS softoken reads its database location from C_Initialize's reserved argument (its "library parameters"). */
export function nssLibraryParameters(tokenDir: string): string {
  return `configdir='sql:${tokenDir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=`;
}

export function embeddedTokenSettings(dataDir: string): EmbeddedTokenSettings {
  const tokenDir = join(dataDir, 'dev-token');
  return {
    library: findSoftokn(),
    libraryParameters: nssLibraryParameters(tokenDir),
    tokenLabel: EMBEDDED_TOKEN_LABEL,
    tokenDir,
    pinFile: join(tokenDir, 'pin.txt'),
  };
}
