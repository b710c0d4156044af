/**
 * Contract §3 ("a refused command exits non-zero with a sentence saying why"), issue 17: where operators saw codes,
 * a sentence naming what is missing: the PIN file, the NSS database directory (CKR_0xce534351), the store's path.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { findSoftokn, nssLibraryParameters, EMBEDDED_TOKEN_LABEL } from '../../src/config/embedded-token.js';
import { runCli } from '../support/run-cli.js';
import { makeTestToken } from '../support/test-env.js';

describe('issue 17: sentences instead of codes', () => {
  let dir: string;
  let base: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-sentences-'));
    base = { ...process.env, DKE_DATA_DIR: join(dir, 'data'), DKE_AUTH_METADATA_URL: 'http://127.0.0.1:9/none' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing NSS database directory is named (not CKR_0xce534351)', () => {
    const missing = join(dir, 'no-such-token');
    const result = runCli(['keys', 'create', 'k1'], {
      ...base,
      DKE_PKCS11_LIBRARY: findSoftokn(),
      DKE_PKCS11_LIBRARY_PARAMETERS: nssLibraryParameters(missing),
      DKE_PKCS11_TOKEN_LABEL: EMBEDDED_TOKEN_LABEL,
      DKE_PKCS11_PIN: 'unused',
    });
    assert.equal(result.status, 2);
    // keys create makes the store before it opens the token, and says so (issue 16); then the token's sentence.
    assert.equal(
      result.stderr,
      `dke: created a new key store at ${join(dir, 'data', 'dke.sqlite')}\n` +
        `dke: The NSS database directory ${missing} (configdir in DKE_PKCS11_LIBRARY_PARAMETERS) does not exist; create the token there or correct the path.\n`,
    );
  });

  it('a missing PIN file is named', () => {
    // The store exists first (kept if an earlier test made it), so that stderr is the PIN file's sentence alone, run alone or in any order.
    const init = runCli(['store', 'init'], base);
    assert.equal(init.status, 0, init.stderr);
    const token = makeTestToken(dir);
    const pinFile = join(dir, 'no-such-pin.txt');
    const result = runCli(['keys', 'create', 'k2'], { ...base, ...token.settings, DKE_PKCS11_PIN_FILE: pinFile });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `dke: The PIN file ${pinFile} (DKE_PKCS11_PIN_FILE) does not exist.\n`);
  });

  it('a store that cannot be opened names its path (not "unable to open database file")', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const result = runCli(['store', 'init'], { ...base, DKE_DATA_DIR: join(blocker, 'data') });
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`^dke: The store ${join(blocker, 'data', 'dke.sqlite')} cannot be created: ENOTDIR`));
  });
});
