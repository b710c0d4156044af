import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pkcs11js from 'pkcs11js';

const LIBRARY = '/usr/lib/x86_64-linux-gnu/opencryptoki/libopencryptoki.so.0';
/** openCryptoki ships its soft token with this SO PIN; the bench only takes a token still at the default or its own. */
const DEFAULT_SO_PIN = '87654321';
export const OPENCRYPTOKI_LABEL = 'dke-bench';
const USER_PIN = 'bench123';

export interface BenchToken {
  readonly name: string;
  readonly library: string;
  readonly libraryParameters?: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

/**
 * Makes openCryptoki's soft token ready for the bench where this machine allows: installs Debian's opencryptoki and
 * starts pkcsslotd when running as root, then (re)initialises the "IBM SoftTok" slot as `dke-bench`. It never takes a
 * soft token that someone else initialised (label other than ours and SO PIN changed). Returns why not otherwise.
 */
export function prepareOpenCryptoki(): BenchToken | string {
  const root = process.getuid?.() === 0;
  if (!existsSync(LIBRARY)) {
    if (!root) return 'openCryptoki is not installed (apt-get install opencryptoki, as root)';
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'opencryptoki'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (install.status !== 0 || !existsSync(LIBRARY)) return 'apt-get could not install opencryptoki';
  }
  if (spawnSync('pgrep', ['-x', 'pkcsslotd']).status !== 0) {
    if (!root) return 'pkcsslotd is not running and only root can start it';
    try {
      execFileSync('pkcsslotd', { stdio: 'ignore' });
    } catch {
      return 'pkcsslotd would not start';
    }
  }
  const refused = initialiseSoftToken(LIBRARY, OPENCRYPTOKI_LABEL, USER_PIN, false);
  if (refused !== undefined) return refused;
  return { name: 'openCryptoki soft token', library: LIBRARY, tokenLabel: OPENCRYPTOKI_LABEL, pin: USER_PIN };
}

/**
 * Initialises openCryptoki's soft token ("IBM SoftTok") as `label` with the user PIN `userPin`, from the SO PIN it
 * ships with; a token already labelled `label` is kept as it is when `keepExisting` (the tests share one). Returns why
 * it could not, or undefined.
 */
export function initialiseSoftToken(library: string, label: string, userPin: string, keepExisting: boolean): string | undefined {
  const module = new pkcs11js.PKCS11();
  module.load(library);
  module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  try {
    const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).model.trim() === 'IBM SoftTok');
    if (slot === undefined) return 'openCryptoki offers no soft token slot';
    if (keepExisting && module.C_GetTokenInfo(slot).label.trim() === label) return undefined;
    try {
      module.C_InitToken(slot, DEFAULT_SO_PIN, label.padEnd(32, ' '));
    } catch (error) {
      return `the openCryptoki soft token is in use by someone else (C_InitToken: ${error instanceof Error ? error.message : 'failed'})`;
    }
    const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    module.C_Login(session, pkcs11js.CKU_SO, DEFAULT_SO_PIN);
    module.C_InitPIN(session, userPin);
    module.C_Logout(session);
    module.C_CloseSession(session);
    return undefined;
  } finally {
    module.C_Finalize();
  }
}
