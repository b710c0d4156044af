/**
 * `dke hsm probe --library …` (contract §9): the module named on the command line gets its settings from those options
 * alone. The configured token's PIN (from the environment or a settings file), label and parameters never reach it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { namedModuleSettings } from '../../src/config/config.js';
import type { Pkcs11Config } from '../../src/hsm/pkcs11-settings.js';
import { Secret } from '../../src/keys/secret.js';

const CONFIGURED: Pkcs11Config = {
  library: '/usr/lib/configured.so',
  libraryParameters: 'configured-parameters',
  tokenLabel: 'configured-token',
  pin: new Secret('configured-pin'),
  pinFile: '/run/secrets/configured-pin',
  sessions: 6,
  defaultSessions: 4,
  queueTimeoutMs: 2000,
  decryptThreads: true,
  simulatedDelayMs: 0,
};

describe('§9 dke hsm probe --library: the named module gets nothing of the configured token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-named-module-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without --pin-file: no PIN at all, and neither the configured label nor parameters', () => {
    const settings = namedModuleSettings({ library: '/usr/lib/other.so', slot: 2 }, CONFIGURED);
    assert.equal(settings.pin, undefined);
    assert.equal(settings.pinFile, undefined);
    assert.equal(settings.tokenLabel, undefined);
    assert.equal(settings.libraryParameters, undefined);
    assert.deepEqual([settings.library, settings.slotIndex, settings.sessions], ['/usr/lib/other.so', 2, 6]);
  });

  it('with --pin-file: the PIN of that file only', () => {
    const pinFile = join(dir, 'other-pin');
    writeFileSync(pinFile, 'other-pin\n');
    const settings = namedModuleSettings({ library: '/usr/lib/other.so', tokenLabel: 'other', pinFile }, CONFIGURED);
    assert.equal(settings.pin?.reveal(), 'other-pin');
    assert.equal(settings.tokenLabel, 'other');
  });

  it('a module without --token-label or --slot is refused with a sentence', () => {
    assert.throws(() => namedModuleSettings({ library: '/usr/lib/other.so' }, CONFIGURED), /Name the token of that module with --token-label or --slot\./);
  });
});
