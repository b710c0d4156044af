import { existsSync } from 'node:fs';

/**
 * NSS softoken's vendor codes when it cannot open its database (CKR_VENDOR_DEFINED | "NSS" | 0x51/0x52:
 * CKR_NSS_CERTDB_FAILED, CKR_NSS_KEYDB_FAILED). NSS reports a missing `configdir` only this way, or, when it
 * opened without a database, as CKR_USER_TYPE_INVALID at login: the operator needs the directory named instead.
 */
export const CKR_NSS_CERTDB_FAILED = 0xce534351;
export const CKR_NSS_KEYDB_FAILED = 0xce534352;

/** The `configdir` of NSS library parameters (`configdir='sql:/path'`), without the `sql:` prefix. */
export function nssConfigDir(libraryParameters: string | undefined): string | undefined {
  const match = /configdir='(?:sql:|dbm:)?([^']*)'/.exec(libraryParameters ?? '');
  return match?.[1];
}

/** A sentence when the NSS database directory named in the parameters does not exist. */
export function missingNssDirectory(libraryParameters: string | undefined): string | undefined {
  const dir = nssConfigDir(libraryParameters);
  if (dir === undefined || existsSync(dir)) return undefined;
  return `The NSS database directory ${dir} (configdir in DKE_PKCS11_LIBRARY_PARAMETERS) does not exist; create the token there or correct the path.`;
}
