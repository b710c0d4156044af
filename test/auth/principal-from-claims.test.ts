/**
 * Contract §1 (who may decrypt is decided on claims nobody can choose; src/auth/principal-from-claims.ts, issue 18):
 * a token's claims become the principal matched against allow lists.
 */
// Contract §1 "Who may decrypt is decided on claims nobody can choose" (issue 18): which claims become the principal.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { principalFromClaims } from '../../src/auth/principal-from-claims.js';

const OID = '1b2c3d4e-0000-4000-8000-00000000a11c';
const TID = '00000000-0000-4000-8000-00000000d0e0';
const MEMBERS = [TID];
/** The public cloud's issuer origins (config/entra-clouds.ts). */
const CLOUD = { v1: 'https://sts.windows.net', v2: 'https://login.microsoftonline.com' };

describe('auth/principal-from-claims (issue 18: only claims nobody can choose decide)', () => {
  it('a member: oid and tid lower case, upn as the member UPN and the audit name', () => {
    const reading = principalFromClaims(
      {
        oid: OID.toUpperCase(),
        tid: TID.toUpperCase(),
        unique_name: 'other@contoso.example',
        email: 'alice.example@contoso.example',
        preferred_username: 'someone@contoso.example',
        upn: 'ALICE@contoso.example',
      },
      MEMBERS,
      CLOUD,
    );
    assert.deepEqual(reading, {
      principal: { oid: OID, tenantId: TID, memberUpn: 'alice@contoso.example', auditName: 'alice@contoso.example', groups: [], roles: [] },
      groupOverage: false,
    });
  });

  it('email, preferred_username and unique_name never become a member UPN (a v2 token without upn has none)', () => {
    const reading = principalFromClaims(
      { oid: OID, tid: TID, preferred_username: 'alice@contoso.example', email: 'alice@contoso.example', unique_name: 'alice@contoso.example' },
      MEMBERS,
      CLOUD,
    );
    assert.equal(reading?.principal.memberUpn, undefined);
    assert.equal(reading?.principal.auditName, 'alice@contoso.example', 'shown in the audit trail only');
  });

  it('no live.com# prefix stripping: the value is kept whole, for the audit only', () => {
    const reading = principalFromClaims({ oid: OID, tid: TID, unique_name: 'live.com#Alice@Contoso.example', idp: 'live.com' }, MEMBERS, CLOUD);
    assert.equal(reading?.principal.memberUpn, undefined);
    assert.equal(reading?.principal.auditName, 'live.com#alice@contoso.example');
  });

  it('guests have no member UPN: #EXT# upn, an idp of another tenant or of live.com, acct 1', () => {
    const guests = [
      { upn: 'bob_fabrikam.example#EXT#@contoso.onmicrosoft.com' },
      { upn: 'bob@fabrikam.example', idp: 'https://sts.windows.net/72f988bf-0000-4000-8000-000000000001/' },
      { upn: 'bob@fabrikam.example', idp: 'live.com' },
      { upn: 'bob@fabrikam.example', acct: 1 },
    ];
    for (const claims of guests) {
      assert.equal(principalFromClaims({ oid: OID, tid: TID, ...claims }, MEMBERS, CLOUD)?.principal.memberUpn, undefined, JSON.stringify(claims));
    }
  });

  it('a member stays a member when idp names its own tenant, or acct is 0', () => {
    for (const extra of [{ idp: `https://sts.windows.net/${TID}/` }, { idp: 'https://sts.windows.net/x/', iss: 'https://sts.windows.net/x/' }, { acct: 0 }]) {
      const reading = principalFromClaims({ oid: OID, tid: TID, upn: 'alice@contoso.example', ...extra }, MEMBERS, CLOUD);
      assert.equal(reading?.principal.memberUpn, 'alice@contoso.example', JSON.stringify(extra));
    }
  });

  it('a upn of a tenant that is not an allowed tenant (an extra DKE_AUTH_ISSUERS issuer) is no member UPN', () => {
    const reading = principalFromClaims({ oid: OID, tid: '9b8c7d6e-0000-4000-8000-0000000000ff', upn: 'alice@contoso.example' }, MEMBERS, CLOUD);
    assert.equal(reading?.principal.memberUpn, undefined);
  });

  it('groups lower case, roles exact; non-string entries and non-string claims are ignored', () => {
    const reading = principalFromClaims(
      {
        oid: OID,
        tid: TID,
        upn: 42 as unknown as string,
        unique_name: 'alice@contoso.example',
        groups: ['6F1E0000-0000-4000-8000-00000000ABCD', 7, null],
        roles: ['DKE.Decrypt', { x: 1 }],
      },
      MEMBERS,
      CLOUD,
    );
    assert.deepEqual(reading?.principal, {
      oid: OID,
      tenantId: TID,
      memberUpn: undefined,
      auditName: 'alice@contoso.example',
      groups: ['6f1e0000-0000-4000-8000-00000000abcd'],
      roles: ['DKE.Decrypt'],
    });
  });

  it('group overage: _claim_names.groups or hasgroups (true or "true") means no groups, flagged; never a guess', () => {
    const groups = ['6f1e0000-0000-4000-8000-00000000abcd'];
    for (const signal of [{ _claim_names: { groups: 'src1' } }, { hasgroups: true }, { hasgroups: 'true' }]) {
      const reading = principalFromClaims({ oid: OID, tid: TID, upn: 'a@contoso.example', groups, ...signal }, MEMBERS, CLOUD);
      assert.deepEqual(reading?.principal.groups, [], JSON.stringify(signal));
      assert.equal(reading?.groupOverage, true, JSON.stringify(signal));
    }
    const other = principalFromClaims({ oid: OID, tid: TID, upn: 'a@contoso.example', groups, _claim_names: { roles: 'src1' }, hasgroups: false }, MEMBERS, CLOUD);
    assert.deepEqual(other?.principal.groups, groups);
    assert.equal(other?.groupOverage, false);
  });

  it('no principal without oid or tid; a token without any name has no audit name', () => {
    assert.equal(principalFromClaims({ tid: TID, upn: 'a@contoso.example' }, MEMBERS, CLOUD), undefined);
    assert.equal(principalFromClaims({ oid: OID, upn: 'a@contoso.example' }, MEMBERS, CLOUD), undefined);
    assert.equal(principalFromClaims({ oid: '', tid: TID, upn: 'a@contoso.example' }, MEMBERS, CLOUD), undefined);
    assert.equal(principalFromClaims({ oid: OID, tid: TID, appid: 'x', roles: ['DKE.Decrypt'] }, MEMBERS, CLOUD)?.principal.auditName, undefined);
  });
});
