import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { principalFromClaims } from '../../src/auth/principal-from-claims.js';

const OID = '1b2c3d4e-0000-4000-8000-00000000a11c';
const TID = '00000000-0000-4000-8000-00000000d0e0';

describe('auth/principal-from-claims (issue 3: user identity from verified claims)', () => {
  it('reads oid, tid (lower case), names in the order upn, preferred_username, email, unique_name, without repeats', () => {
    const reading = principalFromClaims({
      oid: OID,
      tid: TID.toUpperCase(),
      unique_name: 'Alice@Contoso.example',
      email: 'alice.example@contoso.example',
      preferred_username: 'alice@contoso.example',
      upn: 'ALICE@contoso.example',
    });
    assert.deepEqual(reading, {
      principal: { oid: OID, tenantId: TID, names: ['alice@contoso.example', 'alice.example@contoso.example'], groups: [], roles: [] },
      groupOverage: false,
    });
  });

  it('guest: live.com#user@x in unique_name is the address after the provider prefix', () => {
    const reading = principalFromClaims({ oid: OID, tid: TID, unique_name: 'live.com#Guest@Outlook.example', idp: 'live.com' });
    assert.deepEqual(reading?.principal.names, ['guest@outlook.example']);
    const google = principalFromClaims({ oid: OID, tid: TID, unique_name: 'google.com#someone@gmail.example' });
    assert.deepEqual(google?.principal.names, ['someone@gmail.example']);
  });

  it('guest: the #EXT# UPN is kept whole (never reversed into a guessed address), beside the home address', () => {
    const reading = principalFromClaims({
      oid: OID,
      tid: TID,
      upn: 'bob_fabrikam.example#EXT#@contoso.onmicrosoft.com',
      email: 'bob@fabrikam.example',
      unique_name: 'bob@fabrikam.example',
    });
    assert.deepEqual(reading?.principal.names, ['bob_fabrikam.example#ext#@contoso.onmicrosoft.com', 'bob@fabrikam.example']);
    assert.ok(!reading?.principal.names.includes('@contoso.onmicrosoft.com'), 'no name cut after the last #');
  });

  it('values that are not provider#address forms are kept whole', () => {
    for (const odd of ['a#b#c@d.example', '#alice@contoso.example', 'live.com#', 'x y#alice@contoso.example']) {
      assert.deepEqual(principalFromClaims({ oid: OID, tid: TID, unique_name: odd })?.principal.names, [odd.toLowerCase()], odd);
    }
  });

  it('groups lower case, roles exact; non-string entries and non-string claims are ignored', () => {
    const reading = principalFromClaims({
      oid: OID,
      tid: TID,
      upn: 42 as unknown as string,
      unique_name: 'alice@contoso.example',
      groups: ['6F1E0000-0000-4000-8000-00000000ABCD', 7, null],
      roles: ['DKE.Decrypt', { x: 1 }],
    });
    assert.deepEqual(reading?.principal, {
      oid: OID,
      tenantId: TID,
      names: ['alice@contoso.example'],
      groups: ['6f1e0000-0000-4000-8000-00000000abcd'],
      roles: ['DKE.Decrypt'],
    });
  });

  it('group overage: _claim_names.groups or hasgroups (true or "true") means no groups, flagged; never a guess', () => {
    const groups = ['6f1e0000-0000-4000-8000-00000000abcd'];
    for (const signal of [{ _claim_names: { groups: 'src1' } }, { hasgroups: true }, { hasgroups: 'true' }]) {
      const reading = principalFromClaims({ oid: OID, tid: TID, upn: 'a@contoso.example', groups, ...signal });
      assert.deepEqual(reading?.principal.groups, [], JSON.stringify(signal));
      assert.equal(reading?.groupOverage, true, JSON.stringify(signal));
    }
    const other = principalFromClaims({ oid: OID, tid: TID, upn: 'a@contoso.example', groups, _claim_names: { roles: 'src1' }, hasgroups: false });
    assert.deepEqual(other?.principal.groups, groups);
    assert.equal(other?.groupOverage, false);
  });

  it('no principal without oid or tid; a token without any name gives an empty name list', () => {
    assert.equal(principalFromClaims({ tid: TID, upn: 'a@contoso.example' }), undefined);
    assert.equal(principalFromClaims({ oid: OID, upn: 'a@contoso.example' }), undefined);
    assert.equal(principalFromClaims({ oid: '', tid: TID, upn: 'a@contoso.example' }), undefined);
    assert.deepEqual(principalFromClaims({ oid: OID, tid: TID, appid: 'x', roles: ['DKE.Decrypt'] })?.principal.names, []);
  });
});
