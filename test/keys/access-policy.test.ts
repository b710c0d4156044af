import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { isAllowed, type Principal } from '../../src/keys/access-policy.js';

const principal = (overrides: Partial<Principal>): Principal => ({
  oid: 'o',
  tenantId: 't',
  names: [],
  groups: [],
  roles: [],
  ...overrides,
});

describe('keys/access-policy: deny by default', () => {
  const allow = { users: ['alice@contoso.com'], groups: ['0a1b'], roles: ['DKE.Decrypt'] };

  it('denies a user on no list, and everyone when the lists are empty', () => {
    assert.equal(isAllowed(principal({ names: ['bob@contoso.com'], groups: ['ffff'], roles: ['Other'] }), allow), false);
    assert.equal(isAllowed(principal({ names: ['alice@contoso.com'] }), { users: [], groups: [], roles: [] }), false);
  });

  it('allows by user name case-insensitively, by group id case-insensitively, and by exact role', () => {
    assert.equal(isAllowed(principal({ names: ['ALICE@contoso.com'] }), allow), true);
    assert.equal(isAllowed(principal({ groups: ['0A1B'] }), allow), true);
    assert.equal(isAllowed(principal({ roles: ['DKE.Decrypt'] }), allow), true);
    assert.equal(isAllowed(principal({ roles: ['dke.decrypt'] }), allow), false, 'Entra role values are exact');
  });
});
