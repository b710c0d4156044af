/**
 * The embedded development token is NSS softoken over a password-protected database; NSS re-derives the database key
 * with PBKDF2 on every use of a key (about 36 decrypts/s). One iteration is fine for a development token. NSS reads
 * the limit from the environment of this process (the library) and of `certutil` (a child, which inherits it), so it
 * is set here, once, and only for the embedded token (config.pkcs11.embedded).
 */
export function useOneNssIteration(): void {
  process.env.NSS_MAX_MP_PBE_ITERATION_COUNT ??= '1';
}
