/**
 * Contract §3 (`dke keys create … --allow-user …`, `dke keys grant|revoke`, `dke keys rotation`) and §10, issue 26:
 * options `--help` calls repeatable repeat (`--user a --user b` kept only b), and the CLI checks what comes in with the
 * admin API's own module (src/keys/admin-inputs.ts): group ids are GUIDs, a rotation period is not below the minimum.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const GROUP_A = '6f1e0000-0000-4000-8000-00000000000a';
const GROUP_B = '6f1e0000-0000-4000-8000-00000000000b';

describe('issue 26: dke keys options repeat, and the CLI refuses what the admin API refuses', () => {
  let env: TestEnv;
  const cli = (...args: string[]) => runCli(args, env.cliEnv);

  before(async () => {
    env = await startTestEnv();
  });
  after(() => env?.close());

  it('create: --allow-user, --allow-group and --allow-role each given twice put all six entries on the allow list', () => {
    const created = cli('keys', 'create', 'repeated', '--allow-user', 'a@contoso.dev', '--allow-user', 'b@contoso.dev', '--allow-group', GROUP_A, '--allow-group', GROUP_B, '--allow-role', 'Role.One', '--allow-role', 'Role.Two', '--json');
    assert.equal(created.status, 0, created.stderr);
    const shown = JSON.parse(cli('keys', 'show', 'repeated', '--json').stdout) as { allow: { users: string[]; groups: string[]; roles: string[] } };
    assert.deepEqual(shown.allow, { users: ['a@contoso.dev', 'b@contoso.dev'], groups: [GROUP_A, GROUP_B], roles: ['Role.One', 'Role.Two'] });
  });

  it('grant --user a --user b grants both (and --group, --role beside them); revoke takes them back the same way', () => {
    const granted = cli('keys', 'grant', 'repeated', '--user', 'c@contoso.dev', '--user', 'd@contoso.dev', '--role', 'Role.Three');
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal(granted.stdout, 'Granted user c@contoso.dev on repeated.\nGranted user d@contoso.dev on repeated.\nGranted role Role.Three on repeated.\n');
    const shown = JSON.parse(cli('keys', 'show', 'repeated', '--json').stdout) as { allow: { users: string[]; roles: string[] } };
    assert.deepEqual(shown.allow.users, ['a@contoso.dev', 'b@contoso.dev', 'c@contoso.dev', 'd@contoso.dev']);
    assert.deepEqual(shown.allow.roles, ['Role.One', 'Role.Three', 'Role.Two']);
    const revoked = cli('keys', 'revoke', 'repeated', '--user', 'c@contoso.dev', '--user', 'd@contoso.dev', '--json');
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), [
      { name: 'repeated', kind: 'user', value: 'c@contoso.dev', changed: true },
      { name: 'repeated', kind: 'user', value: 'd@contoso.dev', changed: true },
    ]);
  });

  it('one bad value among several: exit 2 with the admin API\'s sentence, and none of them is granted', () => {
    const result = cli('keys', 'grant', 'repeated', '--user', 'e@contoso.dev', '--group', 'Finance-Team');
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim(), 'dke: "Finance-Team" is not a group object id: use the group\'s object id (a GUID, shown in the Entra admin center under Groups), which is what tokens carry in their groups claim.');
    const shown = JSON.parse(cli('keys', 'show', 'repeated', '--json').stdout) as { allow: { users: string[] } };
    assert.ok(!shown.allow.users.includes('e@contoso.dev'), 'nothing granted');
    const none = cli('keys', 'grant', 'repeated');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /Give at least one --user, --group or --role to grant\./);
  });

  it('dke keys rotation --every 1s exits 2 with the minimum in the sentence; --every 1d is accepted', () => {
    const short = cli('keys', 'rotation', 'repeated', '--every', '1s');
    assert.equal(short.status, 2);
    assert.match(short.stderr, /A rotation period of "1s" is shorter than the minimum of 1d: each rotation makes a new key pair in the HSM\./);
    assert.equal(cli('keys', 'rotation', 'repeated', '--every', '1d').status, 0);
  });
});
