/**
 * Contract §1 `GET /health/ready` (OAEP-SHA256 self-test; README "Troubleshooting"): on SoftHSM2 2.6, a token
 * without RSA-OAEP SHA-256, readiness fails with the sentence that says so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

/**
 * Issue 2: a token without RSA-OAEP on SHA-256 must be named as such. Debian 12's SoftHSM2 2.6.1 is one (its OAEP
 * takes SHA-1 only); `.ci/run` and scripts/ensure-deps.sh install it for this test.
 */
describe('readiness on a token that lacks OAEP-SHA256 (SoftHSM2 2.6)', () => {
  let dir: string;
  let env: TestEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dke-softhsm-'));
    mkdirSync(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = conf;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'dke-softhsm', '--pin', '1234', '--so-pin', '5678'], { stdio: 'ignore' });
    env = await startTestEnv({
      settings: {
        DKE_PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
        DKE_PKCS11_LIBRARY_PARAMETERS: '',
        DKE_PKCS11_TOKEN_LABEL: 'dke-softhsm',
        DKE_PKCS11_PIN_FILE: '',
        DKE_PKCS11_PIN: '1234',
      },
    });
  });

  after(async () => {
    await env?.close();
    delete process.env.SOFTHSM2_CONF;
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates the key, then /health/ready answers 503 with a sentence saying the token lacks the DKE mechanism', async () => {
    await env.admin.create('softhsm-key');
    await env.service.readiness.check();
    const res = await env.http.get('/health/ready').expect(503);
    assert.equal(res.body.checks.selfTest.status, 'fail');
    assert.match(res.body.checks.selfTest.detail, /does not support the DKE mechanism \(SoftHSM2 2\.6 is one such token\)/);
    assert.match(res.body.checks.selfTest.detail, /RSA-OAEP with SHA-256/);
  });
});
