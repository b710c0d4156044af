// Contract §9 `dke hsm probe [--vault NAME | --library PATH [--library-parameters S] [--token-label L|--slot N]
// [--pin-file F]] [--json]` as an operator runs it (a real `dke` process): the configured token (vault `default`) on
// NSS softoken, openCryptoki's soft token and SoftHSM2 2.6 by --library; the JSON shape exactly; exit 0 unless a check
// fails, then 5 (as `dke doctor`); a refused command exits 2 with its sentence; the PIN is never printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { PROBE_CHECK_NAMES } from '../../src/hsm/probe-checks.js';
import { openCryptokiToken, probeArgs, softHsmToken, type ProbedToken } from '../support/probe-tokens.js';
import { runCli } from '../support/run-cli.js';
import { makeTestToken, TEST_PIN } from '../support/test-env.js';

interface PrintedReport {
  verdict: string;
  checks: { name: string; status: string; detail: string }[];
}

/** The report exactly as contract §9 writes it: two fields, each check three strings, the statuses of the vocabulary. */
function assertProbeShape(printed: unknown): asserts printed is PrintedReport {
  assert.ok(typeof printed === 'object' && printed !== null);
  assert.deepEqual(Object.keys(printed), ['verdict', 'checks']);
  const report = printed as PrintedReport;
  assert.ok(['pass', 'warn', 'fail'].includes(report.verdict));
  assert.deepEqual(report.checks.map((c) => c.name), [...PROBE_CHECK_NAMES]);
  for (const check of report.checks) {
    assert.deepEqual(Object.keys(check), ['name', 'status', 'detail']);
    assert.ok(['pass', 'warn', 'fail'].includes(check.status), check.name);
    assert.match(check.detail, /^[A-Z"].*\.$/, `${check.name}: one sentence`);
  }
}

const failing = (report: PrintedReport): string[] => report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}:${c.status}`);

describe('§9 dke hsm probe (real CLI process, real tokens)', () => {
  let dir: string;
  let configured: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-cli-probe-'));
    configured = { ...process.env, ...makeTestToken(dir).settings, DKE_DATA_DIR: join(dir, 'data') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without options it probes the configured token (NSS softoken): exit 0, verdict warn for data objects only, the JSON of contract §9', () => {
    const result = runCli(['hsm', 'probe', '--json'], configured);
    assert.equal(result.status, 0, result.stderr);
    const printed: unknown = JSON.parse(result.stdout);
    assertProbeShape(printed);
    assert.equal(printed.verdict, 'warn');
    assert.deepEqual(failing(printed), ['data-objects:warn']);
    assert.equal(result.stderr, '');
  });

  it('prints one line per check and the verdict in a sentence, never the PIN', () => {
    const result = runCli(['hsm', 'probe', '--vault', 'default'], configured);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, PROBE_CHECK_NAMES.length + 1);
    assert.match(lines[0]!, /^PASS  module +NSS Internal Crypto Services by Mozilla Foundation/);
    assert.match(lines[7]!, /^WARN  data-objects +The token refused a private data object/);
    assert.equal(lines.at(-1), 'This HSM can serve dke-service, with 1 warning(s) to read.');
    assert.ok(!result.stdout.includes(TEST_PIN) && !result.stderr.includes(TEST_PIN));
  });

  it("--library on openCryptoki's soft token with --pin-file: every check passes, exit 0", async function () {
    this.timeout(30_000);
    const token = await openCryptokiToken(dir);
    const result = runCli(['hsm', 'probe', ...probeArgs(token), '--json'], { ...configured, ...token.moduleEnv });
    assert.equal(result.status, 0, result.stderr);
    const printed: unknown = JSON.parse(result.stdout);
    assertProbeShape(printed);
    assert.deepEqual(failing(printed), []);
    assert.equal(printed.verdict, 'pass');
    assert.ok(!result.stdout.includes(token.pin));
  });

  describe('SoftHSM2 2.6, which lacks RSA-OAEP with SHA-256', () => {
    let token: ProbedToken;
    before(() => {
      token = softHsmToken(dir);
    });

    it('exit 5, verdict fail, the one failure naming the missing OAEP-SHA256 mechanism', () => {
      const result = runCli(['hsm', 'probe', ...probeArgs(token), '--json'], { ...configured, ...token.moduleEnv });
      assert.equal(result.status, 5, result.stderr);
      const printed: unknown = JSON.parse(result.stdout);
      assertProbeShape(printed);
      assert.equal(printed.verdict, 'fail');
      assert.deepEqual(failing(printed), ['oaep-sha256-decrypt:fail']);
      assert.match(printed.checks.find((c) => c.name === 'oaep-sha256-decrypt')!.detail, /^The token refused RSA-OAEP with SHA-256 and MGF1-SHA-256 \(CKM_RSA_PKCS_OAEP: CKR_ARGUMENTS_BAD from C_DecryptInit\).*ask the vendor for CKM_RSA_PKCS_OAEP with hashAlg CKM_SHA256 and mgf CKG_MGF1_SHA256/);
    });

    it('in text: the FAIL line and the verdict sentence, exit 5', () => {
      const result = runCli(['hsm', 'probe', ...probeArgs(token)], { ...configured, ...token.moduleEnv });
      assert.equal(result.status, 5);
      assert.match(result.stdout, /^FAIL  oaep-sha256-decrypt +The token refused RSA-OAEP with SHA-256/m);
      assert.match(result.stdout, /\n1 check\(s\) failed: this HSM cannot serve dke-service until they are settled with the vendor\.\n$/);
    });
  });

  const refuses = (cases: readonly (readonly [args: string[], sentence: string])[]): void => {
    for (const [args, sentence] of cases) {
      const result = runCli(['hsm', 'probe', ...args], configured);
      assert.equal(result.status, 2, args.join(' '));
      assert.equal(result.stderr, sentence);
      assert.equal(result.stdout, '');
    }
  };

  it('refuses (exit 2, one sentence, nothing probed) another vault, and options that go with --library without it', () => {
    refuses([
      [['--vault', 'eu'], 'dke: There is no vault "eu"; this instance has "default".\n'],
      [['--token-label', 'x', '--pin-file', 'f'], 'dke: --token-label, --pin-file go with --library; without it the configured HSM is probed.\n'],
      [['--library', '/x.so', '--vault', 'default', '--slot', '0'], 'dke: Give --vault or --library, not both.\n'],
    ]);
  });

  it('refuses (exit 2) a token named twice, a slot that is no number and a PIN file it cannot read', () => {
    refuses([
      [['--library', '/x.so', '--token-label', 'a', '--slot', '0'], 'dke: With --library, give the token by --token-label or by --slot (one of them).\n'],
      [['--library', '/x.so', '--slot', 'first'], 'dke: --slot must be a whole number, not "first".\n'],
      [['--library', '/x.so', '--slot', '0', '--pin-file', join(dir, 'no-pin')], `dke: The PIN file ${join(dir, 'no-pin')} (--pin-file) cannot be read.\n`],
    ]);
  });
});
