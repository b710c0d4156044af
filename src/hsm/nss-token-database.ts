import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HsmConfigurationError } from '../keys/errors.js';

/**
 * Makes an NSS softoken database protected by a PIN, for development and tests only (a real deployment points
 * DKE_PKCS11_LIBRARY at its HSM). Uses `certutil` from Debian's libnss3-tools. The caller sets one PBKDF2 iteration
 * for this process and its children first (config/nss-environment.ts; the tests' root hooks), so the token is fast:
 * NSS otherwise re-derives its key on every private-key use.
 */
export function createNssToken(tokenDir: string, pin: string = randomBytes(12).toString('hex')): { pinFile: string } {
  if (!hasCertutil()) {
    throw new HsmConfigurationError('certutil was not found: install Debian\'s libnss3-tools ("apt-get install libnss3-tools").');
  }
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const pinFile = join(tokenDir, 'pin.txt');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  try {
    execFileSync('certutil', ['-N', '-d', `sql:${tokenDir}`, '-f', pinFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(pinFile, { force: true });
    throw new HsmConfigurationError(`certutil could not create the NSS token in ${tokenDir}: ${error instanceof Error ? error.message : 'unknown error'}`);
  }
  return { pinFile };
}

export function nssTokenExists(tokenDir: string): boolean {
  return existsSync(join(tokenDir, 'key4.db')) && existsSync(join(tokenDir, 'pin.txt'));
}

/** Whether certutil was found, asked once per process (each answer costs a process start). */
let certutilFound: boolean | undefined;

function hasCertutil(): boolean {
  if (certutilFound === true) return true;
  try {
    execFileSync('certutil', ['-H'], { stdio: 'ignore' });
    certutilFound = true;
  } catch (error) {
    // certutil -H exits non-zero after printing help; only a missing binary is ENOENT (asked again next time: it may
    // be installed meanwhile).
    certutilFound = (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  return certutilFound;
}
