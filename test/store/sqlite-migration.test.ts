/**
 * Contract §3 `dke db migrate` (src/store/sqlite/database.ts, src/store/schema.ts, issue 13): an embedded store made at schema
 * version 5 (before the change counter, and intents without a lease: issue 25) is upgraded in place when it is opened, keeping its keys and its audit chain;
 * a store whose schema is newer than the code is refused with a sentence.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { StoreRefused } from '../../src/keys/errors.js';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import { storePath } from '../../src/store/sqlite/database.js';
import { KeyStore } from '../../src/store/key-store.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { ensureStoredPolicy } from '../../src/app/stored-policy.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import { SINCE_SCHEMA_6 } from '../support/store-engines.js';

const publicKey = { modulus: Buffer.alloc(256, 0x33), publicExponent: Buffer.from([1, 0, 1]) };

describe('§3 the embedded store upgrades in place (store/database)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-migrate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a schema-5 store opens at the current version with its keys and a chain that still verifies', async () => {
    const made = openSqliteStore(dir, { role: 'admin', create: true });
    await new KeyStore(made).change(async (tx) => {
      await tx.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, publicKey }, '2026-11-30T10:00:00.000Z');
      await tx.audit({ actor: 'test', action: 'create', keyName: 'finance', keyId: 'v1', outcome: 'succeeded' });
      const details = { from: 'active', to: 'compromised' };
      await tx.beginIntent({ action: 'set-state', name: 'finance', keyId: 'v1', actor: 'test', owner: 'old-host:1', createdAt: '2026-11-30T10:00:01.000Z', leaseUntil: 'x', details });
    });
    await made.close();
    // As dke-service wrote it before issue 13: no change counter, user_version 5; before issue 25, intents had no lease.
    const file = new Database(storePath(dir));
    file.exec('DROP TABLE store_version');
    // …nor what schemas 7 to 9 added (the admin policy and bindings of issue 26, leases of issue 25, vaults).
    for (const statement of SINCE_SCHEMA_6) file.exec(statement);
    file.pragma('user_version = 5');
    file.close();
    const opened = openSqliteStore(dir, { role: 'service' });
    try {
      assert.equal(opened.file.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const store = new KeyStore(opened);
      assert.equal(store.findKey('finance')?.versions[0]?.keyId, 'v1');
      assert.equal(await store.change((tx) => tx.setEnabled('finance', 'v1', false, '2026-11-30T10:01:00.000Z')), true);
      assert.equal(store.findKey('finance')?.versions[0]?.enabled, false);
      assert.equal((await new StoreAuditTrail(opened).verify()).ok, true);
      // Issue 25: an intent of the old store has no lease, so any instance takes it over at once.
      assert.deepEqual((await store.pendingIntents()).map((i) => [i.owner, i.leaseUntil]), [['old-host:1', '']]);
      // Contract §10: the upgraded store gets its admin policy from the first configuration that opens it, only then.
      assert.equal(store.policy(), undefined);
      assert.equal(await ensureStoredPolicy(store, { approvalsRequired: 2, deletionWindowMs: 86_400_000 }), true);
      assert.equal(await ensureStoredPolicy(store, { approvalsRequired: 1 }), false);
      assert.deepEqual(store.policy(), { approvalsRequired: 2, deletionWindowDefaultMs: 86_400_000, deletionWindowMinimumMs: 0, rotationMinimumMs: 86_400_000, appOnlyMayApprove: false });
    } finally {
      await opened.close();
    }
  });

  it('a store with a schema newer than the code is refused with a sentence', () => {
    const file = new Database(storePath(dir));
    file.pragma('user_version = 99');
    file.close();
    assert.throws(
      () => openSqliteStore(dir, { role: 'service' }),
      (error: Error) =>
        error instanceof StoreRefused &&
        error.message === `The store ${storePath(dir)} has schema version 99, newer than this dke-service understands (${SCHEMA_VERSION}); run the newer dke-service, or restore a backup made by this one.`,
    );
  });
});
