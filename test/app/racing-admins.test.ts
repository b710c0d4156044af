/**
 * Contract §4 and §5 ("two admins racing on one version never make a transition the table refuses; the loser gets a
 * refusal that says what changed"), issue 13, on both engines: two admins on two store connections (as two instances,
 * or the CLI and the admin API) race conflicting steps on the same version, with the real token. Exactly one step
 * applies each round, the other is refused with a sentence naming what changed, and the audit trail records exactly
 * the applied one; with PostgreSQL nothing is written to DKE_DATA_DIR's store.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'mocha';
import { KeyAdmin } from '../../src/app/key-admin.js';
import { AdminConflict } from '../../src/keys/errors.js';
import { isTransitionAllowed } from '../../src/keys/lifecycle.js';
import type { KeyState } from '../../src/keys/key-version.js';
import { openConfiguredStore } from '../../src/main/open-store.js';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import { storePath } from '../../src/store/sqlite/database.js';
import { KeyStore } from '../../src/store/key-store.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { within } from '../support/store-engines.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const ROUNDS: readonly (readonly [KeyState | 'delete', KeyState | 'delete'])[] = [
  ['deactivated', 'compromised'],
  ['delete', 'deactivated'],
  ['compromised', 'delete'],
  ['deactivated', 'compromised'],
  ['delete', 'compromised'],
];

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`§4, §5 racing admins on one version (${engine})`, () => {
    let env: TestEnv;
    let second: StoreConnection;
    let other: KeyAdmin;
    let otherStore: KeyStore;
    before(async function () {
      this.timeout(60_000);
      const settings: Record<string, string> = engine === 'postgres' ? { DKE_DATABASE_URL: await freshPostgresDatabase('racing-admins') } : {};
      env = await startTestEnv({ settings });
      second = await openConfiguredStore(env.config, { role: 'admin' });
      otherStore = new KeyStore(second);
      other = new KeyAdmin({ store: otherStore, vault: env.service.hsm.vault, audit: new StoreAuditTrail(second), actor: 'admin-b', owner: 'racing-test:1' });
    });
    after(async () => {
      await second?.close();
      await env?.close();
    });

    it('each round applies exactly one step; the loser is refused with what changed; no refused transition is ever written', async function () {
      this.timeout(120_000);
      const step = (admin: KeyAdmin, name: string, keyId: string, what: KeyState | 'delete'): Promise<unknown> =>
        what === 'delete' ? admin.delete(name, keyId, true) : admin.setState(name, keyId, what, true);
      for (const [index, [first, last]] of ROUNDS.entries()) {
        const name = `race-${index}`;
        const { keyId } = await env.admin.create(name);
        await within(1000, () => assert.ok(otherStore.findKey(name), 'the other instance sees the new key'));
        const outcomes = await Promise.allSettled([step(env.admin, name, keyId, first), step(other, name, keyId, last)]);
        const applied = outcomes.filter((o) => o.status === 'fulfilled');
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
        assert.equal(applied.length, 1, `round ${index}: exactly one step applied (${refused.map((e) => e.message).join(' | ')})`);
        assert.ok(refused[0] instanceof AdminConflict, `round ${index}: ${String(refused[0])}`);
        assert.match(refused[0].message, /changed meanwhile: it is (Deactivated|Compromised|Destroyed) now|An unfinished (set-state|delete) of/);
        const winner = outcomes[0]!.status === 'fulfilled' ? first : last;
        // The other admin's commit reaches this instance's lookups within a second (contract §5).
        await within(1000, () => assert.equal(env.service.store.findKey(name)?.versions[0]?.state, winner === 'delete' ? 'destroyed' : winner, `round ${index}`));
        const moves = (await env.service.audit.list()).filter((e) => e.keyName === name && (e.action === 'set-state' || e.action === 'delete') && e.outcome === 'succeeded');
        assert.equal(moves.length, 1, `round ${index}: one recorded move`);
        const { from, to } = moves[0]!.details as { from: KeyState; to: KeyState };
        assert.ok(isTransitionAllowed(from, to), `${from} → ${to} is allowed`);
      }
    });

    it(`${engine === 'postgres' ? 'nothing is written to DKE_DATA_DIR: the store is the database' : 'the embedded store is in DKE_DATA_DIR'}`, () => {
      assert.equal(existsSync(storePath(env.config.dataDir)), engine === 'sqlite');
    });
  });
}
