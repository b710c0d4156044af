/**
 * Contract §4 (src/keys/lifecycle.ts, the one state table): every pair of states walked, which may decrypt or be
 * published, which moves are permanent, and that Enabled never revives a key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { KEY_STATES, type KeyRecord, type KeyState, type KeyVersion } from '../../src/keys/key-version.js';
import {
  canDecrypt,
  canToggleEnabled,
  clearsDecryptInToken,
  DEFAULT_INITIAL_STATE,
  findLiveVersion,
  hasObjectsInToken,
  INITIAL_STATES,
  isDeletion,
  permanentEffectSentence,
  SETTABLE_STATES,
  isPermanentTransition,
  isTransitionAllowed,
  refusedTransitionSentence,
  servedVersion,
} from '../../src/keys/lifecycle.js';

/** Contract §4 written out again, independently of src/keys/lifecycle.ts, so that a change there must be deliberate. */
const CONTRACT_NEXT: Record<KeyState, KeyState[]> = {
  'pre-active': ['active', 'compromised', 'destroyed'],
  active: ['deactivated', 'compromised', 'destroyed'],
  deactivated: ['compromised'],
  compromised: [],
  destroyed: [],
};

const version = (state: KeyState, enabled = true, keyId = 'k'): KeyVersion => ({
  name: 'n',
  keyId,
  state,
  enabled,
  origin: 'generated',
  createdAt: '',
  stateChangedAt: '',
  vault: 'default',
});

describe('§4 key states (keys/lifecycle)', () => {
  for (const from of KEY_STATES) {
    for (const to of KEY_STATES) {
      const allowed = CONTRACT_NEXT[from].includes(to);
      it(`${from} → ${to}: ${allowed ? 'allowed' : 'refused'}`, () => {
        assert.equal(isTransitionAllowed(from, to), allowed);
        if (!allowed) {
          const sentence = refusedTransitionSentence(from, to);
          const names = CONTRACT_NEXT[from].map((s) => ({ 'pre-active': 'Pre-Active', active: 'Active', deactivated: 'Deactivated', compromised: 'Compromised', destroyed: 'Destroyed' })[s]);
          for (const name of names) assert.match(sentence, new RegExp(name), 'the sentence names each allowed move');
          if (names.length === 0) assert.match(sentence, /none, it is final/);
        }
      });
    }
  }

  it('only Deactivated, Compromised and Destroyed are permanent (they need --yes)', () => {
    assert.deepEqual(KEY_STATES.filter(isPermanentTransition), ['deactivated', 'compromised', 'destroyed']);
  });

  it('only an Enabled Active version decrypts; Enabled never revives any other state', () => {
    for (const state of KEY_STATES) {
      assert.equal(canDecrypt(version(state, true)), state === 'active', state);
      assert.equal(canDecrypt(version(state, false)), false, `${state} disabled`);
    }
  });

  it('GET serves the published version only while it is Active and Enabled, and nothing in its place', () => {
    const record = (published: KeyVersion, other: KeyVersion): KeyRecord => ({
      name: 'n',
      publishedKeyId: published.keyId,
      allow: { users: [], groups: [], roles: [] },
      versions: [other, published],
    });
    const older = version('active', true, 'old');
    assert.equal(servedVersion(record(version('active', true, 'new'), older))?.keyId, 'new');
    for (const state of KEY_STATES.filter((s) => s !== 'active')) {
      assert.equal(servedVersion(record(version(state, true, 'new'), older)), undefined, state);
    }
    assert.equal(servedVersion(record(version('active', false, 'new'), older)), undefined, 'disabled');
  });

  it('a Destroyed version is not found by its key id', () => {
    const record: KeyRecord = {
      name: 'n',
      publishedKeyId: undefined,
      allow: { users: [], groups: [], roles: [] },
      versions: [version('destroyed', true, 'gone'), version('deactivated', true, 'kept')],
    };
    assert.equal(findLiveVersion(record, 'gone'), undefined);
    assert.equal(findLiveVersion(record, 'kept')?.keyId, 'kept');
  });

  it('the table alone says which states a version starts in, set-state can name, delete reaches, and what the token keeps (issue 12)', () => {
    assert.deepEqual(INITIAL_STATES, ['pre-active', 'active']);
    assert.equal(DEFAULT_INITIAL_STATE, 'active');
    assert.deepEqual(SETTABLE_STATES, ['pre-active', 'active', 'deactivated', 'compromised']);
    assert.deepEqual(KEY_STATES.filter(isDeletion), ['destroyed']);
    assert.deepEqual(KEY_STATES.filter(clearsDecryptInToken), ['deactivated', 'compromised']);
    assert.deepEqual(KEY_STATES.filter((s) => !hasObjectsInToken(s)), ['destroyed']);
    assert.deepEqual(KEY_STATES.filter((s) => !canToggleEnabled(s)), ['destroyed']);
    assert.match(permanentEffectSentence('active', 'destroyed'), /^Active → Destroyed destroys the private key in the HSM: .* This cannot be undone\.$/);
  });
});
