/**
 * README "Deployment" (issue 7): certs/make-dev-cert.sh makes a self-signed localhost certificate with an owner-only
 * key, and git and Docker never take its outputs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';

describe('issue 7: certs/make-dev-cert.sh makes a localhost certificate that git never takes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-certs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a self-signed localhost certificate and an owner-only key, and refuses to overwrite without --force', () => {
    copyFileSync('certs/make-dev-cert.sh', join(dir, 'make-dev-cert.sh'));
    execFileSync('bash', [join(dir, 'make-dev-cert.sh')], { stdio: 'pipe' });
    const cert = new X509Certificate(readFileSync(join(dir, 'dev-cert.pem')));
    assert.equal(cert.subject, 'CN=localhost');
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.ok(cert.checkIssued(cert), 'self-signed');
    assert.equal(statSync(join(dir, 'dev-key.pem')).mode & 0o777, 0o600);
    const before = readFileSync(join(dir, 'dev-cert.pem'), 'utf8');
    execFileSync('bash', [join(dir, 'make-dev-cert.sh')], { stdio: 'pipe' });
    assert.equal(readFileSync(join(dir, 'dev-cert.pem'), 'utf8'), before);
  });

  it('its outputs are git-ignored and left out of the Docker build context', () => {
    const ignored = execFileSync('git', ['check-ignore', 'certs/dev-cert.pem', 'certs/dev-key.pem'], { encoding: 'utf8' });
    assert.deepEqual(ignored.trim().split('\n'), ['certs/dev-cert.pem', 'certs/dev-key.pem']);
    assert.match(readFileSync('.dockerignore', 'utf8'), /^certs\/\*\.pem$/m);
  });
});
