/**
 * Contract §3 ("a change takes effect on the service's next request"), §4 and §5 (src/store/key-store.ts), on both
 * engines: the store persists what the domain decides. A change committed through another connection (the CLI, another
 * instance) is read by the service's lookups (SQLite: the next one; PostgreSQL: within a second); a state is written
 * only if it is still the one read, so racing admins cannot make a transition the table refuses; the public key kept
 * with each version comes back byte for byte; snapshot records are immutable and replaced on every re-read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { KeyStore } from '../../src/store/key-store.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { storeEngines, within } from '../support/store-engines.js';

const AT = '2026-11-30T10:00:00.000Z';
const publicKey = { modulus: Buffer.alloc(256, 0xc5), publicExponent: Buffer.from([1, 0, 1]) };

for (const engine of storeEngines('key-store')) {
  describe(`§3, §4, §5 the key-state store (store/key-store) on ${engine.engine}`, () => {
    let connections: StoreConnection[];
    let service: KeyStore;
    let cli: KeyStore;
    before(async () => {
      const cliConnection = await engine.open('admin');
      const serviceConnection = await engine.open('service');
      connections = [serviceConnection, cliConnection];
      service = new KeyStore(serviceConnection);
      cli = new KeyStore(cliConnection);
    });
    /** Adds version v1 of `name` (Active, enabled, published, no grants) through the CLI, once the service sees it. */
    async function addKey(name: string): Promise<void> {
      const added = await cli.change((tx) =>
        tx.addVersion({ name, keyId: 'v1', state: 'active', origin: 'generated', publish: true, allow: { users: [], groups: [], roles: [] }, publicKey }, AT),
      );
      assert.equal(added, 'added');
      await within(engine.propagationMs, () => assert.equal(service.findKey(name)?.versions[0]?.state, 'active'));
    }
    after(async () => {
      for (const connection of connections) await connection.close();
      engine.dispose();
    });

    it('a version added through another connection is found by the service, with its public key and allow list', async () => {
      assert.equal(service.findKey('finance'), undefined);
      const added = await cli.change((tx) =>
        tx.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, allow: { users: ['Alice@Contoso.dev'], groups: [], roles: [] }, publicKey }, AT),
      );
      assert.equal(added, 'added');
      await within(engine.propagationMs, () => {
        const record = service.findKey('finance');
        assert.equal(record?.publishedKeyId, 'v1');
        assert.deepEqual(record?.allow, { users: ['alice@contoso.dev'], groups: [], roles: [] });
        assert.equal(record?.versions[0]?.state, 'active');
        assert.deepEqual(record?.versions[0]?.publicKey, publicKey);
      });
    });

    it("Enabled, grants and states written by the CLI apply to the service's lookups", async () => {
      // Its own key, so that the test holds when run alone or in any order.
      await addKey('cli-writes');
      await cli.change((tx) => tx.setEnabled('cli-writes', 'v1', false, AT));
      await within(engine.propagationMs, () => assert.equal(service.findKey('cli-writes')?.versions[0]?.enabled, false));
      await cli.change((tx) => tx.setEnabled('cli-writes', 'v1', true, AT));
      assert.equal(await cli.change((tx) => tx.grant('cli-writes', 'groups', 'G-1')), true);
      await within(engine.propagationMs, () => assert.deepEqual(service.findKey('cli-writes')?.allow.groups, ['g-1']));
      assert.equal(await cli.change((tx) => tx.setState('cli-writes', 'v1', 'active', 'deactivated', AT)), true);
      await within(engine.propagationMs, () => assert.equal(service.findKey('cli-writes')?.versions[0]?.state, 'deactivated'));
    });

    it('a state write whose expected state is stale changes nothing and says so (no race between CLI and service)', async () => {
      // Its own key, Deactivated by the CLI, so that the test holds when run alone or in any order.
      await addKey('stale-state');
      assert.equal(await cli.change((tx) => tx.setState('stale-state', 'v1', 'active', 'deactivated', AT)), true);
      assert.equal(await service.change((tx) => tx.setState('stale-state', 'v1', 'active', 'compromised', AT)), false, 'the version is Deactivated now, not Active');
      assert.equal(cli.findKey('stale-state')?.versions[0]?.state, 'deactivated');
      assert.equal(await service.change((tx) => tx.setState('stale-state', 'v1', 'deactivated', 'compromised', AT)), true);
      assert.equal(service.findKey('stale-state')?.versions[0]?.state, 'compromised', 'the writer sees its own change at once');
      await within(engine.propagationMs, () => assert.equal(cli.findKey('stale-state')?.versions[0]?.state, 'compromised'));
    });

    it('a change and its audit entry commit together: a failure inside the transaction leaves neither', async () => {
      // Its own key (enabled), so that the test holds when run alone or in any order.
      await addKey('rolled-back');
      const failure = new Error('fails after the write');
      await assert.rejects(
        cli.change(async (tx) => {
          await tx.setEnabled('rolled-back', 'v1', false, AT);
          await tx.audit({ actor: 'test', action: 'disable', keyName: 'rolled-back', keyId: 'v1', outcome: 'succeeded' });
          throw failure;
        }),
        failure,
      );
      assert.equal((await cli.change((tx) => tx.findKey('rolled-back')))?.versions[0]?.enabled, true);
    });

    it('the snapshot is reused while nobody changes anything, and rebuilt (new, frozen objects) after a change elsewhere', async () => {
      // Its own key (no roles granted), so that the test holds when run alone or in any order.
      await addKey('snapshot');
      const first = service.findKey('snapshot');
      assert.ok(first);
      assert.equal(service.findKey('snapshot'), first, 'the same record object: no re-read without a change');
      assert.ok(Object.isFrozen(first) && Object.isFrozen(first.versions) && Object.isFrozen(first.versions[0]));
      await cli.change((tx) => tx.grant('snapshot', 'roles', 'DKE.Decrypt'));
      await within(engine.propagationMs, () => {
        const after = service.findKey('snapshot');
        assert.notEqual(after, first);
        assert.deepEqual(after?.allow.roles, ['DKE.Decrypt']);
      });
    });

    it('a job lease is held by one process at a time, and taking it leaves every snapshot as it is (no re-read)', async () => {
      // Its own key, so that "the same record object" compares a record, not undefined, when run alone.
      await addKey('leased');
      const before = service.findKey('leased');
      assert.ok(before);
      const [now, until, later] = ['2026-11-30T10:00:00.000Z', '2026-11-30T10:01:30.000Z', '2026-11-30T10:02:00.000Z'];
      assert.equal(await cli.jobLeaseHolder('scheduler'), undefined);
      assert.equal(await service.claimJobLease('scheduler', 'host-a:1', now, until), true);
      assert.equal(await cli.claimJobLease('scheduler', 'host-b:2', now, until), false, 'held until 10:01:30');
      assert.equal(await cli.jobLeaseHolder('scheduler'), 'host-a:1');
      assert.equal(await cli.claimJobLease('scheduler', 'host-b:2', later, later), true, 'expired');
      await new Promise((resolve) => setTimeout(resolve, engine.propagationMs));
      assert.equal(service.findKey('leased'), before, 'the same record object: a lease is not a key change');
    });

    // Only on SQLite: PostgreSQL's snapshot is kept current in the background, no age limit applies there.
    if (engine.engine === 'sqlite')
      it('lookup: a decrypt sees another connection\'s change at once; a GET may take a snapshot checked a moment ago, never older (issue 19)', async () => {
      // Its own key, so that the test holds when run alone or in any order.
      await addKey('lookup');
      await cli.change((tx) => tx.setEnabled('lookup', 'v1', true, AT));
      assert.equal(service.lookup('lookup').record?.versions[0]?.enabled, true, 'checked now');
      await cli.change((tx) => tx.setEnabled('lookup', 'v1', false, AT));
      // Within the age limit the store is not asked (that is the saving): the GET still sees the state checked above.
      assert.equal(service.lookup('lookup', 60_000).record?.versions[0]?.enabled, true, 'a GET within the limit does not touch the store');
      assert.equal(service.lookup('lookup').record?.versions[0]?.enabled, false, 'a decrypt checks now, whatever GETs did');
      await cli.change((tx) => tx.setEnabled('lookup', 'v1', true, AT));
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(service.lookup('lookup', 20).record?.versions[0]?.enabled, true, 'past the limit the store is asked again');
      // This process's own change is seen at once, even by a lookup that accepts an older snapshot.
      assert.equal(service.lookup('lookup', 60_000).record?.versions[0]?.enabled, true);
      await service.change((tx) => tx.setEnabled('lookup', 'v1', false, AT));
      assert.equal(service.lookup('lookup', 60_000).record?.versions[0]?.enabled, false, 'own change seen at once');
      await cli.change((tx) => tx.setEnabled('lookup', 'v1', true, AT));
      await cli.change((tx) => tx.setEmergencyBlock({ since: AT, by: 'drill' }));
      const { record, block } = service.lookup('lookup');
      assert.equal(record?.versions[0]?.enabled, true);
      assert.equal(block?.by, 'drill', 'the record and the kill switch come from one snapshot');
      await cli.change((tx) => tx.setEmergencyBlock(undefined));
    });
  });
}
