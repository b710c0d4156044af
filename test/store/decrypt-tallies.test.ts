/**
 * Issue 27 "at a glance" (src/store/audit-trail.ts `decryptTallies`), on both engines: the key list's decrypts of the
 * last days come from one grouped read of the audit trail, by key name, outcome and reason; admin actions and
 * decisions before `since` are not counted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import type { AuditEvent } from '../../src/keys/ports.js';
import { StoreAuditTrail } from '../../src/store/audit-trail.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { storeEngines } from '../support/store-engines.js';

const decrypt = (keyName: string, outcome: AuditEvent['outcome'], reason: string): AuditEvent => ({ actor: 'oid (alice@contoso.dev)', action: 'decrypt', keyName, keyId: 'v1', outcome, reason });

for (const engine of storeEngines('decrypt-tallies')) {
  describe(`issue 27: decrypt tallies of the audit trail on ${engine.engine}`, () => {
    let connection: StoreConnection;
    let now = new Date('2026-12-01T00:00:00.000Z');
    before(async () => {
      connection = await engine.open('admin');
      const trail = new StoreAuditTrail(connection, { now: () => now });
      await trail.append(decrypt('finance', 'allowed', 'decrypted'));
      now = new Date('2026-12-05T00:00:00.000Z');
      for (const event of [
        decrypt('finance', 'allowed', 'decrypted'),
        decrypt('finance', 'allowed', 'decrypted'),
        decrypt('finance', 'denied', 'access_denied'),
        decrypt('finance', 'denied', 'access_denied'),
        decrypt('finance', 'denied', 'key_not_usable'),
        decrypt('hr', 'failed', 'decrypt_failed'),
        { actor: 'admin', action: 'disable', keyName: 'finance', keyId: 'v1', outcome: 'succeeded' } satisfies AuditEvent,
      ]) {
        await trail.append(event);
      }
    });
    after(async () => {
      await connection.close();
      engine.dispose();
    });

    it('counts decrypts since the instant by key name, outcome and reason, and nothing else', async () => {
      const tallies = await new StoreAuditTrail(connection).decryptTallies(new Date('2026-12-04T00:00:00.000Z'));
      const sorted = tallies.map((t) => [t.keyName, t.outcome, t.reason, t.count]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      assert.deepEqual(sorted, [
        ['finance', 'allowed', 'decrypted', 2],
        ['finance', 'denied', 'access_denied', 2],
        ['finance', 'denied', 'key_not_usable', 1],
        ['hr', 'failed', 'decrypt_failed', 1],
      ]);
    });
  });
}
