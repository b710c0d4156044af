/**
 * The two tokens beside NSS softoken that `dke hsm probe` is proved on (contract §9): openCryptoki's soft token, which
 * must pass, and SoftHSM2 2.6, which lacks RSA-OAEP with SHA-256 and must fail. Both are Debian packages
 * (scripts/ensure-deps.sh --test installs them). Nothing here skips: a token that cannot be made fails with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialiseSoftToken } from '../../scripts/bench/opencryptoki-token.js';

const OPENCRYPTOKI_LIBRARIES = ['/usr/lib/x86_64-linux-gnu/opencryptoki/libopencryptoki.so.0', '/usr/lib/aarch64-linux-gnu/opencryptoki/libopencryptoki.so.0', '/usr/lib64/opencryptoki/libopencryptoki.so.0'];
export const OPENCRYPTOKI_LABEL = 'dke-test';
const OPENCRYPTOKI_USER_PIN = 'test1234';
/** openCryptoki's tokens are machine-wide (one daemon, one store): parallel test files make it ready one at a time. */
const LOCK = join(tmpdir(), 'dke-test-opencryptoki.lock');

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

/** A token a test probes: the module and how to reach it, a PIN file, and the environment the module itself reads. */
export interface ProbedToken {
  readonly library: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly pinFile: string;
  readonly moduleEnv: Readonly<Record<string, string>>;
}

/**
 * openCryptoki's soft token ("IBM SoftTok") labelled dke-test with a known user PIN. Its slot daemon pkcsslotd is
 * started when it is not running (it needs root, as the token store /var/lib/opencryptoki does); the token is
 * initialised once and then shared, since every probe object has a label of its own.
 */
export async function openCryptokiToken(dir: string): Promise<ProbedToken> {
  const library = OPENCRYPTOKI_LIBRARIES.find((path) => existsSync(path));
  if (library === undefined) throw new Error('openCryptoki is not installed: apt-get install opencryptoki (scripts/ensure-deps.sh --test does)');
  if (spawnSync('pgrep', ['-x', 'pkcsslotd']).status !== 0) {
    if (process.getuid?.() !== 0) throw new Error('pkcsslotd (openCryptoki) is not running and only root can start it: run "pkcsslotd" as root, then the tests');
    execFileSync('pkcsslotd', { stdio: 'ignore' });
  }
  await withLock(() => {
    const refused = initialiseSoftToken(library, OPENCRYPTOKI_LABEL, OPENCRYPTOKI_USER_PIN, true);
    if (refused !== undefined) throw new Error(refused);
  });
  const pinFile = join(dir, 'opencryptoki-pin');
  writeFileSync(pinFile, `${OPENCRYPTOKI_USER_PIN}\n`, { mode: 0o600 });
  return { library, tokenLabel: OPENCRYPTOKI_LABEL, pin: OPENCRYPTOKI_USER_PIN, pinFile, moduleEnv: {} };
}

async function withLock(work: () => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'));
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${LOCK} is held for more than 30 s; remove it if no test runs`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    work();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/** A fresh SoftHSM2 token in `dir` (its own configuration file, named to the module by SOFTHSM2_CONF). */
export function softHsmToken(dir: string): ProbedToken {
  mkdirSync(join(dir, 'softhsm-tokens'), { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'softhsm-tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pin = '1234';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'dke-probe-test', '--pin', pin, '--so-pin', '5678'], { stdio: 'ignore', env: { ...process.env, SOFTHSM2_CONF: conf } });
  const pinFile = join(dir, 'softhsm-pin');
  writeFileSync(pinFile, pin, { mode: 0o600 });
  return { library: SOFTHSM_LIBRARY, tokenLabel: 'dke-probe-test', pin, pinFile, moduleEnv: { SOFTHSM2_CONF: conf } };
}

/** `dke hsm probe --library …` options for a token. */
export function probeArgs(token: ProbedToken): string[] {
  return ['--library', token.library, '--token-label', token.tokenLabel, '--pin-file', token.pinFile];
}
