/**
 * Issue 25 (contract §5): the records a token keeps of what must never be undone, written and read back through the
 * KeyVault on real tokens: NSS softoken (which keeps no data objects, so records are inert secret objects) and
 * openCryptoki's soft token (data objects).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { parseSettings } from '../../src/config/config.js';
import { openHsm, type OpenHsm } from '../../src/hsm/open-hsm.js';
import type { KeyVault } from '../../src/keys/ports.js';
import { openCryptokiToken } from '../support/probe-tokens.js';
import { makeTestToken } from '../support/test-env.js';

/** One round trip of every record: a permanent state, the block set and lifted, the head only moving forward. */
async function roundTrip(vault: KeyVault, name: string): Promise<void> {
  const ref = { name, keyId: randomUUID() };
  assert.equal(await vault.anchorState(ref, 'deactivated', '2026-01-01T00:00:00.000Z'), true, vault.anchorProblem());
  assert.equal(await vault.anchorState(ref, 'compromised', '2026-01-02T00:00:00.000Z'), true);
  const mine = (await vault.anchoredStates()).filter((s) => s.ref.name === name);
  assert.deepEqual(mine, [{ ref, state: 'compromised', at: '2026-01-02T00:00:00.000Z' }], 'the furthest state holds');
  assert.equal(await vault.anchorEmergencyBlock({ since: '2026-01-03T00:00:00.000Z', by: 'os:alice' }), true);
  assert.deepEqual(await vault.anchoredEmergencyBlock(), { since: '2026-01-03T00:00:00.000Z', by: 'os:alice' });
  assert.equal(await vault.anchorEmergencyBlock(undefined), true);
  assert.equal(await vault.anchoredEmergencyBlock(), undefined);
  const before = (await vault.anchoredAuditHead())?.seq ?? 0;
  const head = { seq: before + 7, hash: 'a'.repeat(64), at: '2026-01-04T00:00:00.000Z' };
  assert.equal(await vault.anchorAuditHead(head), true);
  assert.equal(await vault.anchorAuditHead({ ...head, seq: before + 3, hash: 'b'.repeat(64) }), false, 'never moves back');
  assert.deepEqual(await vault.anchoredAuditHead(), head);
  assert.equal(vault.anchorProblem(), undefined);
  assert.deepEqual((await vault.listKeyObjects()).filter((o) => o.ref.name.startsWith(name)), [], 'records are no key objects');
}

describe('issue 25: token records of what must never be undone (src/hsm/token-anchors.ts, real tokens)', () => {
  let dir: string;
  let hsm: OpenHsm | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-anchor-'));
  });
  after(async () => {
    await hsm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('NSS softoken: every record round-trips (as inert secret objects: NSS keeps no data objects)', async () => {
    hsm = openHsm(parseSettings(makeTestToken(dir).settings).pkcs11);
    await roundTrip(hsm.vault, 'nss-anchored');
    await hsm.close();
    hsm = undefined;
  });

  it('openCryptoki soft token: every record round-trips as a data object', async function () {
    this.timeout(20_000);
    const token = await openCryptokiToken(dir);
    hsm = openHsm(parseSettings({ DKE_PKCS11_LIBRARY: token.library, DKE_PKCS11_TOKEN_LABEL: token.tokenLabel, DKE_PKCS11_PIN_FILE: token.pinFile }).pkcs11);
    // The token is shared by every run on this machine: names of their own, and the block lifted as found.
    await roundTrip(hsm.vault, `ock-${randomUUID()}`);
    await hsm.close();
    hsm = undefined;
  });
});
