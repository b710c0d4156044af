/**
 * Contract §1 (who may decrypt; src/keys/access-policy.ts, issue 18): deny by default; a user entry is an oid or a
 * member's UPN matched against `upn` only; groups and app roles by id.
 */
// Contract §1 "Who may decrypt is decided on claims nobody can choose" (issue 18): the allow-list decision.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { isAllowed, isObjectId, type Principal } from '../../src/keys/access-policy.js';
import { userEntryProblem } from '../../src/keys/admin-inputs.js';

const ALICE_OID = '1b2c3d4e-0000-4000-8000-00000000a11c';
const principal = (overrides: Partial<Principal>): Principal => ({
  oid: '00000000-0000-4000-8000-000000000000',
  tenantId: 't',
  memberUpn: undefined,
  auditName: undefined,
  groups: [],
  roles: [],
  ...overrides,
});

describe('keys/access-policy: deny by default, oid or member UPN (issue 18)', () => {
  const allow = { users: ['alice@contoso.com', ALICE_OID], groups: ['0a1b'], roles: ['DKE.Decrypt'] };

  it('denies a user on no list, and everyone when the lists are empty', () => {
    assert.equal(isAllowed(principal({ memberUpn: 'bob@contoso.com', groups: ['ffff'], roles: ['Other'] }), allow), false);
    assert.equal(isAllowed(principal({ memberUpn: 'alice@contoso.com', oid: ALICE_OID }), { users: [], groups: [], roles: [] }), false);
  });

  it('allows by oid (any case), by member UPN case-insensitively, by group id case-insensitively, and by exact role', () => {
    assert.equal(isAllowed(principal({ oid: ALICE_OID.toUpperCase() }), allow), true);
    assert.equal(isAllowed(principal({ memberUpn: 'ALICE@contoso.com' }), allow), true);
    assert.equal(isAllowed(principal({ groups: ['0A1B'] }), allow), true);
    assert.equal(isAllowed(principal({ roles: ['DKE.Decrypt'] }), allow), true);
    assert.equal(isAllowed(principal({ roles: ['dke.decrypt'] }), allow), false, 'Entra role values are exact');
  });

  it('the audit name never decides, and a UPN entry never matches an oid nor an oid entry a UPN', () => {
    assert.equal(isAllowed(principal({ auditName: 'alice@contoso.com' }), allow), false);
    assert.equal(isAllowed(principal({ memberUpn: ALICE_OID }), { users: [ALICE_OID], groups: [], roles: [] }), false);
    assert.equal(isAllowed(principal({ oid: 'alice@contoso.com' }), { users: ['alice@contoso.com'], groups: [], roles: [] }), false);
  });

  it('user entries: an oid (GUID) or a member UPN; a #EXT# or live.com# name is refused with the way to grant guests', () => {
    assert.equal(isObjectId(ALICE_OID.toUpperCase()), true);
    assert.equal(isObjectId('alice@contoso.com'), false);
    assert.equal(userEntryProblem(ALICE_OID), undefined);
    assert.equal(userEntryProblem('alice@contoso.com'), undefined);
    assert.match(userEntryProblem('bob_fabrikam.com#EXT#@contoso.onmicrosoft.com') ?? '', /allow guests by their object id \(oid/);
    assert.match(userEntryProblem('live.com#bob@outlook.com') ?? '', /object id/);
    assert.equal(userEntryProblem('alice'), '"alice" is neither an object id (oid, a GUID) nor a user principal name (name@domain).');
  });
});
