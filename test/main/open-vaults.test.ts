// Contract §9 (src/main/open-vaults.ts): with several vaults, one whose module cannot even be loaded at start fails
// alone: its connection is misconfigured with the sentence, its versions answer 503 (HsmUnavailable), readiness warns
// naming it, and the other vault works. Alone (no DKE_VAULTS), the same module stops the start as it always did.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { parseSettings } from '../../src/config/config.js';
import { AdminNotFound, HsmConfigurationError, HsmUnavailable } from '../../src/keys/errors.js';
import { probeConfiguredVault } from '../../src/main/hsm-probe.js';
import { openVaults } from '../../src/main/open-vaults.js';
import { vaultsProblem } from '../../src/main/service-vaults.js';
import { makeTestToken } from '../support/test-env.js';

const GONE = '/nonexistent/libgone-pkcs11.so';

describe('§9 a vault whose module cannot be loaded fails alone (main/open-vaults)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-open-vaults-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const token = makeTestToken(dir);

  it('the other vault serves; the lost one is misconfigured with the sentence, 503 for its versions, a readiness warning', async () => {
    const nss = token.settings;
    const file = join(dir, 'vaults.json');
    writeFileSync(
      file,
      JSON.stringify({
        default: 'here',
        vaults: [
          { name: 'here', library: nss.DKE_PKCS11_LIBRARY, libraryParameters: nss.DKE_PKCS11_LIBRARY_PARAMETERS, tokenLabel: nss.DKE_PKCS11_TOKEN_LABEL, pinFile: nss.DKE_PKCS11_PIN_FILE, sessions: 1 },
          { name: 'gone', library: GONE, tokenLabel: 'x', pin: '1234' },
        ],
      }),
    );
    const vaults = openVaults(parseSettings({ DKE_DATA_DIR: join(dir, 'data'), DKE_VAULTS: file }), { tolerateMisconfiguration: true });
    try {
      const gone = vaults.list[1]!.hsm.connection.status();
      assert.equal(gone.state, 'misconfigured');
      assert.match(gone.detail ?? '', new RegExp(`^The PKCS#11 module ${GONE} cannot be loaded \\(`));
      await assert.rejects(vaults.router.decrypt({ name: 'k', keyId: 'v', vault: 'gone' }, Buffer.alloc(256)), HsmUnavailable);
      const ref = { name: 'k', keyId: 'v1', vault: 'here' };
      const publicKey = await vaults.router.generateKeyPair(ref);
      assert.equal(publicKey.modulus.length, 256);
      assert.equal(await vaults.router.destroy(ref), true);
      assert.deepEqual(vaults.router.unreachableVaults(), ['gone']);
      const problem = await vaultsProblem(vaults);
      assert.deepEqual(problem, { warning: `the vault "gone" does not answer: the HSM is misconfigured since ${gone.since}: ${gone.detail}; versions in "gone" answer 503 while the other vaults serve` });
    } finally {
      await vaults.close();
    }
  });

  it('dke hsm probe --vault NAME probes that vault\'s token; an unknown name is refused with the vaults there are', async () => {
    const config = parseSettings({ DKE_DATA_DIR: join(dir, 'data'), DKE_VAULTS: join(dir, 'vaults.json') });
    const report = await probeConfiguredVault('here', config);
    assert.notEqual(report.verdict, 'fail', JSON.stringify(report));
    assert.equal((await probeConfiguredVault('gone', config)).verdict, 'fail');
    await assert.rejects(probeConfiguredVault('eu', config), (error: Error) => error instanceof AdminNotFound && error.message === 'There is no vault "eu"; this instance has "here", "gone".');
  });

  it('alone, as the DKE_PKCS11_* token, the same module stops the start with its sentence', () => {
    assert.throws(
      () => openVaults(parseSettings({ DKE_DATA_DIR: join(dir, 'data'), DKE_PKCS11_LIBRARY: GONE, DKE_PKCS11_TOKEN_LABEL: 'x' }), { tolerateMisconfiguration: true }),
      (error: Error) => error instanceof HsmConfigurationError && error.message.startsWith(`The PKCS#11 module ${GONE} cannot be loaded (`),
    );
  });
});
