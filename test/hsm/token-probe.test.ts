/**
 * Contract §9 `dke hsm probe` (issue 28), on real tokens through the production PKCS#11 path (Pkcs11Token, the key
 * templates, RSA_OAEP_SHA256): it passes on NSS softoken (with the one warning NSS earns: no data objects) and on
 * openCryptoki's soft token, and fails on SoftHSM2 2.6 naming RSA-OAEP with SHA-256; the temporary key is destroyed
 * whatever failed, and nothing of the probe stays in the token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { encryptOaepSha256 } from '../../src/app/software-rsa.js';
import { parseSettings } from '../../src/config/config.js';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import type { Pkcs11Config } from '../../src/hsm/pkcs11-settings.js';
import { Pkcs11Token } from '../../src/hsm/pkcs11-token.js';
import { PROBE_CHECK_NAMES, PROBE_LABEL_PREFIX } from '../../src/hsm/probe-checks.js';
import { probeModule } from '../../src/hsm/token-probe.js';
import { Secret } from '../../src/keys/secret.js';
import type { ProbeReport } from '../../src/keys/vaults.js';
import { openCryptokiToken, softHsmToken, type ProbedToken } from '../support/probe-tokens.js';
import { makeTestToken, TEST_PIN } from '../support/test-env.js';
import { until } from '../support/until.js';

/** The token settings as the service would read them from DKE_PKCS11_*. */
function pkcs11Config(settings: Record<string, string>): Pkcs11Config {
  return parseSettings(settings).pkcs11;
}

function settingsOf(token: ProbedToken): Record<string, string> {
  return { DKE_PKCS11_LIBRARY: token.library, DKE_PKCS11_TOKEN_LABEL: token.tokenLabel, DKE_PKCS11_PIN_FILE: token.pinFile };
}

/** Every object label on the token that the probe could have left (its prefix), read with a login of its own. */
function probeLeftovers(config: Pkcs11Config): string[] {
  const token = new Pkcs11Token(config);
  token.open();
  try {
    const session = token.openSession();
    token.login(session);
    const module = token.module;
    module.C_FindObjectsInit(session, []);
    const handles = module.C_FindObjects(session, 1000);
    module.C_FindObjectsFinal(session);
    const labels = handles.map((handle) => {
      try {
        return (module.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_LABEL }])[0]?.value as Buffer | undefined)?.toString('utf8') ?? '';
      } catch {
        return '';
      }
    });
    return labels.filter((label) => label.startsWith(PROBE_LABEL_PREFIX));
  } finally {
    token.close();
  }
}

const statuses = (report: ProbeReport): Record<string, string> => Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
const detailOf = (report: ProbeReport, name: string): string => report.checks.find((c) => c.name === name)!.detail;
const allPass = (except: Record<string, string> = {}): Record<string, string> => Object.fromEntries(PROBE_CHECK_NAMES.map((name) => [name, except[name] ?? 'pass']));

describe('§9 dke hsm probe on real tokens (src/hsm/token-probe.ts)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-probe-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('NSS softoken (the development and test token)', () => {
    let config: Pkcs11Config;
    let report: ProbeReport;
    before(async () => {
      config = pkcs11Config(makeTestToken(dir).settings);
      report = await probeModule(config, encryptOaepSha256);
    });

    it('every check in order; all pass but data objects, which NSS keeps none of (a warning: the verdict is warn, not fail)', () => {
      assert.deepEqual(report.checks.map((c) => c.name), [...PROBE_CHECK_NAMES]);
      assert.deepEqual(statuses(report), allPass({ 'data-objects': 'warn' }), JSON.stringify(report, null, 2));
      assert.equal(report.verdict, 'warn');
      assert.match(detailOf(report, 'data-objects'), /^The token refused a private data object \(CKO_DATA\) with CKR_ATTRIBUTE_VALUE_INVALID; the service keeps none today/);
    });

    it('names the module and token, and what the round trip proved, in one sentence each', () => {
      assert.match(detailOf(report, 'module'), /^NSS Internal Crypto Services by Mozilla Foundation, library version 3\.\d+, Cryptoki 2\.40\.$/);
      assert.match(detailOf(report, 'token'), /^Token "NSS Certificate DB": NSS 3 by Mozilla Foundation, serial \w+, firmware \d+\.\d+, hardware \d+\.\d+\.$/);
      assert.match(detailOf(report, 'oaep-sha256-decrypt'), /as Office encrypts \(RSA-OAEP, SHA-256, MGF1-SHA-256\), came back equal from C_Decrypt in the token\.$/);
      assert.match(detailOf(report, 'login'), /login holds for every session of the process/);
      for (const check of report.checks) assert.doesNotMatch(check.detail, new RegExp(TEST_PIN), check.name);
    });

    it('leaves nothing of its own in the token', () => {
      assert.deepEqual(probeLeftovers(config), []);
    });

    it('a wrong PIN fails the login with the service\'s sentence, and the checks on token objects are not tried', async () => {
      const wrong = await probeModule({ ...config, pin: new Secret('not-the-pin') }, encryptOaepSha256);
      assert.equal(wrong.verdict, 'fail');
      assert.equal(detailOf(wrong, 'login'), 'The token refused the PIN (CKR_PIN_INCORRECT); check DKE_PKCS11_PIN or DKE_PKCS11_PIN_FILE. The service does not retry a refused PIN.');
      for (const name of ['production-template', 'oaep-sha256-decrypt', 'attribute-change', 'data-objects', 'key-destroy']) {
        assert.deepEqual(wrong.checks.find((c) => c.name === name), { name, status: 'fail', detail: 'Not tried: the login failed.' });
      }
      assert.equal(statuses(wrong).sessions, 'pass');
      assert.equal(statuses(wrong)['rsa-oaep'], 'pass');
    });

    it('a module that will not load fails the module check with the reason, and nothing else is tried', async () => {
      const missing = await probeModule({ ...config, library: join(dir, 'no-such-module.so') }, encryptOaepSha256);
      assert.equal(missing.verdict, 'fail');
      assert.match(detailOf(missing, 'module'), /^The PKCS#11 module .*no-such-module\.so cannot be loaded/);
      assert.deepEqual(missing.checks.slice(1).map((c) => c.detail), PROBE_CHECK_NAMES.slice(1).map(() => 'Not tried: the module or its token could not be opened.'));
    });
  });

  describe("openCryptoki's soft token (pkcsslotd started when needed)", () => {
    let config: Pkcs11Config;
    let report: ProbeReport;
    /** The token is machine-wide and kept between runs: what an earlier, killed run may have left is not this run's. */
    let leftBefore: string[];
    before(async function () {
      this.timeout(30_000);
      config = pkcs11Config(settingsOf(await openCryptokiToken(dir)));
      leftBefore = probeLeftovers(config);
      report = await probeModule(config, encryptOaepSha256);
    });

    it('passes every check, data objects included', () => {
      assert.deepEqual(statuses(report), allPass(), JSON.stringify(report, null, 2));
      assert.equal(report.verdict, 'pass');
      assert.match(detailOf(report, 'token'), /^Token "dke-test": IBM SoftTok by IBM/);
    });

    it('leaves nothing of its own in the token', async () => {
      // Another test file may be probing the same token right now; its objects live for a moment, a leftover stays.
      const same = (): boolean => JSON.stringify(probeLeftovers(config).sort()) === JSON.stringify([...leftBefore].sort());
      await until(same, 'the probe objects on the openCryptoki token to be those before this probe', 3_000);
    });
  });

  describe('SoftHSM2 2.6 (RSA-OAEP with SHA-1 only)', () => {
    let config: Pkcs11Config;
    let report: ProbeReport;
    before(async () => {
      const token = softHsmToken(dir);
      // SoftHSM reads its configuration file from the environment when C_Initialize runs.
      process.env.SOFTHSM2_CONF = token.moduleEnv.SOFTHSM2_CONF;
      config = pkcs11Config(settingsOf(token));
      report = await probeModule(config, encryptOaepSha256);
    });
    after(() => {
      delete process.env.SOFTHSM2_CONF;
    });

    it('fails on the decrypt alone, naming RSA-OAEP with SHA-256 and MGF1-SHA-256 and what to ask the vendor', () => {
      assert.equal(report.verdict, 'fail');
      assert.deepEqual(statuses(report), allPass({ 'oaep-sha256-decrypt': 'fail' }), JSON.stringify(report, null, 2));
      assert.equal(
        detailOf(report, 'oaep-sha256-decrypt'),
        'The token refused RSA-OAEP with SHA-256 and MGF1-SHA-256 (CKM_RSA_PKCS_OAEP: CKR_ARGUMENTS_BAD from C_DecryptInit), the one mechanism Office encrypts with, so no protected document could be opened; ask the vendor for CKM_RSA_PKCS_OAEP with hashAlg CKM_SHA256 and mgf CKG_MGF1_SHA256 in C_Decrypt (SoftHSM2 2.6 and some older firmware take SHA-1 only).',
      );
    });

    it('destroys the temporary key although the decrypt failed', () => {
      assert.deepEqual(probeLeftovers(config), []);
    });
  });
});
