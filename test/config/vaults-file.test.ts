// Contract §9 (src/config/vaults-file.ts): DKE_VAULTS names a file of vaults; a file the service cannot use is refused
// at start with one sentence naming the file and the vault, never a PIN; without DKE_VAULTS the DKE_PKCS11_* token is
// the one vault `default`; a relative pinFile is read beside the file, and DKE_VAULTS may come from config/local.json.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { vaultsOf } from '../../src/config/vaults-file.js';

const base = { DKE_AUTH_AUDIENCE: 'https://dke.example', DKE_AUTH_TENANT_IDS: 'T1', DKE_PKCS11_LIBRARY: '/x.so', DKE_PKCS11_TOKEN_LABEL: 'l' };
const EU = { name: 'eu', library: '/eu.so', tokenLabel: 'dke-eu', pinFile: 'eu-pin' };
const US = { name: 'us', library: '/us.so', slot: 1, pin: 'us-secret-pin', status: 'inactive' };

describe('§9 the vaults file (DKE_VAULTS)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-vaults-file-'));
  const empty = mkdtempSync(join(tmpdir(), 'dke-config-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'eu-pin'), '4321\n');
  const withFile = (content: unknown, name = 'vaults.json'): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const refusal = (content: unknown): string => {
    try {
      loadConfig({ ...base, DKE_VAULTS: withFile(content) }, empty);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.message;
    }
    return 'accepted';
  };

  it('reads every vault: module, token, PIN (a relative pinFile beside the file), sessions, status, the default', () => {
    const config = loadConfig({ ...base, DKE_VAULTS: withFile({ default: 'eu', vaults: [EU, US] }) }, empty);
    const { default: chosen, vaults } = vaultsOf(config);
    assert.equal(chosen, 'eu');
    assert.deepEqual(
      vaults.map((v) => [v.name, v.status, v.pkcs11.library, v.pkcs11.tokenLabel, v.pkcs11.slotIndex, v.pkcs11.pin?.reveal(), v.pkcs11.pinFile]),
      [
        ['eu', 'active', '/eu.so', 'dke-eu', undefined, '4321', join(dir, 'eu-pin')],
        ['us', 'inactive', '/us.so', undefined, 1, 'us-secret-pin', undefined],
      ],
    );
    assert.equal(vaults[0]!.pkcs11.queueTimeoutMs, config.pkcs11.queueTimeoutMs);
  });

  it('without DKE_VAULTS the DKE_PKCS11_* token is the one active vault "default"; DKE_VAULTS may come from config/local.json', () => {
    const config = loadConfig(base, empty);
    assert.deepEqual(vaultsOf(config), { default: 'default', vaults: [{ name: 'default', status: 'active', pkcs11: config.pkcs11 }] });
    const configDir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    writeFileSync(join(configDir, 'local.json'), JSON.stringify({ DKE_VAULTS: withFile({ vaults: [EU] }, 'one.json') }));
    assert.equal(vaultsOf(loadConfig(base, configDir)).default, 'eu');
    rmSync(configDir, { recursive: true, force: true });
  });

  it('refuses a file it cannot use, with a sentence naming the file and the vault, never the PIN', () => {
    const path = join(dir, 'vaults.json');
    const cases: [unknown, string][] = [
      ['{not json', `The vaults file ${path} (DKE_VAULTS) is not valid JSON.`],
      [{ default: 'eu', vaults: [] }, `The vaults file ${path} must hold {"default": NAME, "vaults": [...]} with at least one vault.`],
      [{ default: 'eu', vaults: [EU, { ...EU, library: '/other.so' }] }, `${path}: the vault name "eu" is used twice; every vault needs a name of its own.`],
      [{ default: 'eu', vaults: [EU, { ...US, library: '/eu.so' }] }, `${path}: the vaults "eu" and "us" name the same library /eu.so; each vault needs a PKCS#11 module of its own in this version.`],
      [{ default: 'asia', vaults: [EU, US] }, `${path}: the default vault "asia" is not one of the vaults (eu, us).`],
      [{ vaults: [EU, US] }, `${path}: say with "default" which of the vaults (eu, us) takes new keys.`],
      [{ default: 'us', vaults: [EU, US] }, `${path}: the default vault "us" is inactive, so new keys could go nowhere; make another vault the default.`],
      [{ default: 'eu', vaults: [{ ...EU, library: undefined }] }, `${path}: the vault "eu" names no "library" (the path of its PKCS#11 module).`],
      [{ default: 'eu', vaults: [{ ...EU, pin: '9999' }] }, `${path}: the vault "eu" has both "pin" and "pinFile"; keep one (a PIN file keeps the PIN out of this file).`],
      [{ default: 'eu', vaults: [{ ...EU, slot: 0 }] }, `${path}: the vault "eu" needs exactly one of "tokenLabel" and "slot" to say which token holds its keys.`],
      [{ default: 'eu', vaults: [{ ...EU, pinfile: 'x' }] }, `${path}: the vault "eu" has a field "pinfile" this service does not know (it knows name, library, libraryParameters, tokenLabel, slot, pin, pinFile, sessions, status).`],
      [{ default: 'eu', vaults: [{ ...EU, status: 'retired' }] }, `${path}: the vault "eu": "status" must be active or inactive.`],
      [{ default: 'eu', vaults: [{ ...EU, sessions: 0 }] }, `${path}: the vault "eu": "sessions" must be a whole number from 1 to 1024.`],
      [{ default: 'eu', vaults: [{ ...EU, name: 'e u' }] }, `${path}: vault 1 needs a "name" of letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit).`],
    ];
    for (const [content, sentence] of cases) assert.equal(refusal(content), sentence);
    assert.equal(refusal({ default: 'us', vaults: [EU, { ...US, status: 'retired' }] }).includes('us-secret-pin'), false);
    assert.equal(
      (() => {
        try {
          loadConfig({ ...base, DKE_VAULTS: join(dir, 'missing.json') }, empty);
          return 'accepted';
        } catch (error) {
          return (error as Error).message;
        }
      })(),
      `The vaults file ${join(dir, 'missing.json')} (DKE_VAULTS) cannot be read.`,
    );
  });
});
