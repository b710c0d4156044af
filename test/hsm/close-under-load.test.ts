/**
 * Shutdown with decrypts in flight (src/hsm/hsm-connection.ts close, src/hsm/pkcs11-token.ts): the connection waits
 * for the operations under way before the module is finalised, refuses new ones with HsmUnavailable (503), and the
 * library is never unloaded under a native call. Before this, closing under load crashed the process (SIGSEGV in a
 * pkcs11js async call whose library had been dlclosed), in the first round here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'mocha';
import { makeTestToken, type TestToken } from '../support/test-env.js';

const PROCESS = fileURLToPath(new URL('./close-under-load.process.js', import.meta.url));
const ROUNDS = 10;
const SESSIONS = 2;

describe('hsm: closing the HSM while decrypts are in flight', () => {
  let dir: string;
  let token: TestToken;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-close-load-'));
    token = makeTestToken(dir);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`${ROUNDS} rounds of open, decrypt under load, close: every caller gets its plaintext or HsmUnavailable, and the process lives`, async () => {
    const settings = { ...token.settings, DKE_AUTH_METADATA_URL: 'http://127.0.0.1:9/x', DKE_PKCS11_SESSIONS: String(SESSIONS) };
    const child = spawn(process.execPath, [PROCESS, JSON.stringify(settings), String(ROUNDS)], {
      env: { ...process.env, NSS_MAX_MP_PBE_ITERATION_COUNT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.deepEqual({ code, signal, stderr }, { code: 0, signal: null, stderr: '' });
    const outcomes = JSON.parse(stdout) as { plaintext: number; wrongPlaintext: number; unavailable: number; other: string[] };
    assert.deepEqual(outcomes.other, []);
    assert.equal(outcomes.wrongPlaintext, 0);
    assert.equal(outcomes.plaintext + outcomes.unavailable, ROUNDS * SESSIONS * 2);
    assert.ok(outcomes.plaintext > 0, 'the decrypts under way when close() began finished with their plaintext');
  });
});
