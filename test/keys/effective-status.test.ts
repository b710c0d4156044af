/**
 * Issue 27 (src/keys/effective-status.ts): one status per version and per key name, from the state, Enabled, a
 * scheduled deletion, the emergency block and the token's word on the private key. "Serving" only where a version
 * decrypts, and, for a key, only where GET /{name} would answer (servedVersion, contract §1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { keyStatus, STATUS_LABELS, statusLabel, versionStatus, type ServiceFacts } from '../../src/keys/effective-status.js';
import { canDecrypt, servedVersion } from '../../src/keys/lifecycle.js';
import { EFFECTIVE_STATUSES, KEY_STATES, type KeyState } from '../../src/keys/vocabulary.js';

const DELETION = { requestedAt: '2026-12-06T10:00:00.000Z', destroyAt: '2026-12-13T10:00:00.000Z' };
const OPEN: ServiceFacts = { emergencyBlock: false };
const BLOCKED: ServiceFacts = { emergencyBlock: true };

const version = (state: KeyState, more: { enabled?: boolean; deletion?: typeof DELETION } = {}) => ({ keyId: 'v1', state, enabled: more.enabled ?? true, ...(more.deletion ? { deletion: more.deletion } : {}) });
const key = (v: ReturnType<typeof version>, publishedKeyId: string | undefined = v.keyId) => ({ publishedKeyId, versions: [v] });

describe('issue 27: the effective status of a key version and a key name', () => {
  it('names each case of the issue: Serving, Blocked (disabled), Pending deletion until…, Emergency block, Deactivated, Compromised, Destroyed, Not in the HSM, Pre-Active', () => {
    const cases: [ReturnType<typeof version>, ServiceFacts, string][] = [
      [version('active'), OPEN, 'Serving'],
      [version('active', { enabled: false }), OPEN, 'Blocked (disabled)'],
      [version('active', { deletion: DELETION }), OPEN, 'Pending deletion until 2026-12-13 10:00 UTC'],
      [version('active'), BLOCKED, 'Emergency block'],
      [version('deactivated'), OPEN, 'Deactivated'],
      [version('compromised'), OPEN, 'Compromised'],
      [version('destroyed', { enabled: true }), OPEN, 'Destroyed'],
      [version('active'), { emergencyBlock: false, privateKeyPresent: () => false }, 'Not in the HSM'],
      [version('pre-active'), OPEN, 'Pre-Active'],
      // The provenance guard refuses it (GET 404, decrypt 403): never "Serving" while the service will not serve it.
      [version('active'), { emergencyBlock: false, servable: () => false }, 'Refused: could have left the HSM'],
    ];
    for (const [v, facts, label] of cases) assert.equal(statusLabel(versionStatus(v, facts)), label, JSON.stringify({ v, facts }));
  });

  it('a permanent state says the most, then the deletion, Enabled, Pre-Active, the emergency block and the token, in that order', () => {
    // A Compromised version that is also disabled, during an emergency block, with its key gone: Compromised.
    assert.equal(versionStatus(version('compromised', { enabled: false }), { emergencyBlock: true, privateKeyPresent: () => false }).status, 'compromised');
    assert.deepEqual(versionStatus(version('active', { enabled: false, deletion: DELETION }), BLOCKED), { status: 'pending-deletion', until: DELETION.destroyAt });
    assert.equal(versionStatus(version('active', { enabled: false }), BLOCKED).status, 'blocked');
    assert.equal(versionStatus(version('pre-active'), BLOCKED).status, 'pre-active');
    assert.equal(versionStatus(version('active'), { emergencyBlock: true, privateKeyPresent: () => false }).status, 'emergency-block');
    // Not known (never asked) is not "missing", nor refused.
    assert.equal(versionStatus(version('active'), { emergencyBlock: false, privateKeyPresent: () => undefined, servable: () => undefined }).status, 'serving');
    assert.equal(versionStatus(version('active'), { emergencyBlock: false, privateKeyPresent: () => false, servable: () => false }).status, 'not-in-hsm');
    assert.equal(keyStatus(key(version('active')), { emergencyBlock: false, servable: () => false }).status, 'exportable');
  });

  it('a version is Serving exactly when the state table lets it decrypt, the block is off and its key is not known missing', () => {
    for (const state of KEY_STATES) {
      for (const enabled of [true, false]) {
        for (const deletion of [undefined, DELETION]) {
          const v = version(state, { enabled, ...(deletion ? { deletion } : {}) });
          assert.equal(versionStatus(v, OPEN).status === 'serving', canDecrypt(v), JSON.stringify(v));
          assert.notEqual(versionStatus(v, BLOCKED).status, 'serving');
          // A key is Serving exactly when GET would serve its published version.
          assert.equal(keyStatus(key(v), OPEN).status === 'serving', servedVersion(key(v)) !== undefined, JSON.stringify(v));
        }
      }
    }
  });

  it("a key's status is its published version's; an older version that still decrypts does not make it Serving", () => {
    const older = { ...version('active'), keyId: 'v1' };
    const newest = { ...version('compromised'), keyId: 'v2' };
    assert.equal(keyStatus({ publishedKeyId: 'v2', versions: [older, newest] }, OPEN).status, 'compromised');
    assert.equal(keyStatus({ publishedKeyId: undefined, versions: [older] }, OPEN).status, 'not-published');
    assert.deepEqual(keyStatus(key(version('active', { deletion: DELETION })), BLOCKED), { status: 'pending-deletion', until: DELETION.destroyAt });
    assert.equal(keyStatus(key(version('active')), BLOCKED).status, 'emergency-block');
    assert.equal(keyStatus(key(version('active')), { emergencyBlock: false, privateKeyPresent: (keyId) => keyId !== 'v1' }).status, 'not-in-hsm');
  });

  it('every status of the vocabulary has a label, and the console may format the end of a pending deletion its own way', () => {
    assert.deepEqual(Object.keys(STATUS_LABELS).sort(), [...EFFECTIVE_STATUSES].sort());
    assert.equal(statusLabel({ status: 'pending-deletion', until: DELETION.destroyAt }, (at) => `<${at}>`), `Pending deletion until <${DELETION.destroyAt}>`);
  });
});
