/**
 * Contract §3 ("a change takes effect on the service's next request") and §4 (src/store/sqlite-key-store.ts): the
 * store persists what the domain decides. A change committed through another connection (the CLI) is read by the
 * service's next lookup; a state is written only if it is still the one read, so the CLI and the service cannot
 * race; the public key kept with each version comes back byte for byte. Real SQLite in a temporary data dir.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { openStoreDatabase, type StoreDatabase } from '../../src/store/database.js';
import { SqliteKeyStore } from '../../src/store/sqlite-key-store.js';

const AT = '2026-11-30T10:00:00.000Z';
const publicKey = { modulus: Buffer.alloc(256, 0xc5), publicExponent: Buffer.from([1, 0, 1]) };

describe('§3, §4 the key-state store (store/sqlite-key-store)', () => {
  let dir: string;
  let serviceDb: StoreDatabase;
  let cliDb: StoreDatabase;
  let service: SqliteKeyStore;
  let cli: SqliteKeyStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dke-store-'));
    cliDb = openStoreDatabase(dir, { role: 'admin', create: true });
    serviceDb = openStoreDatabase(dir, { role: 'service' });
    service = new SqliteKeyStore(serviceDb);
    cli = new SqliteKeyStore(cliDb);
  });
  after(() => {
    serviceDb.close();
    cliDb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a version added through another connection is found by the next lookup, with its public key and allow list', () => {
    assert.equal(service.findKey('finance'), undefined);
    cli.addVersion({ name: 'finance', keyId: 'v1', state: 'active', origin: 'generated', publish: true, allow: { users: ['alice@contoso.dev'], groups: [], roles: [] }, publicKey }, AT);
    const record = service.findKey('finance');
    assert.equal(record?.publishedKeyId, 'v1');
    assert.deepEqual(record?.allow, { users: ['alice@contoso.dev'], groups: [], roles: [] });
    assert.equal(record?.versions[0]?.state, 'active');
    assert.deepEqual(record?.versions[0]?.publicKey, publicKey);
  });

  it('Enabled, grants and states written by the CLI apply to the service\'s next read', () => {
    cli.setEnabled('finance', 'v1', false, AT);
    assert.equal(service.findKey('finance')?.versions[0]?.enabled, false);
    cli.setEnabled('finance', 'v1', true, AT);
    assert.equal(cli.grant('finance', 'groups', 'g-1'), true);
    assert.deepEqual(service.findKey('finance')?.allow.groups, ['g-1']);
    assert.equal(cli.setState('finance', 'v1', 'active', 'deactivated', AT), true);
    assert.equal(service.findKey('finance')?.versions[0]?.state, 'deactivated');
  });

  it('a state write whose expected state is stale changes nothing and says so (no race between CLI and service)', () => {
    assert.equal(service.setState('finance', 'v1', 'active', 'compromised', AT), false, 'the version is Deactivated now, not Active');
    assert.equal(cli.findKey('finance')?.versions[0]?.state, 'deactivated');
    assert.equal(service.setState('finance', 'v1', 'deactivated', 'compromised', AT), true);
    assert.equal(cli.findKey('finance')?.versions[0]?.state, 'compromised');
  });

  it('the snapshot is reused while nobody writes, and rebuilt after a commit elsewhere', () => {
    const first = service.findKey('finance');
    assert.equal(service.findKey('finance'), first, 'the same record object: no re-read without a change');
    cli.grant('finance', 'roles', 'DKE.Decrypt');
    const after = service.findKey('finance');
    assert.notEqual(after, first);
    assert.deepEqual(after?.allow.roles, ['DKE.Decrypt']);
  });
});
