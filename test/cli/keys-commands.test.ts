/**
 * Contract §3 `dke keys create|list|show` (src/cli/keys-commands.ts) as a real process beside the running service:
 * JSON shapes, exit 2 with one sentence for every refusal, and the service serving a created key at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { runCli } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('§3 dke keys create | list | show (real CLI process, same token and store as the running service)', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(() => env.close());

  it('create prints {"name","keyId","state","enabled"} and the running service serves the key on its next request', async () => {
    const result = runCli(['keys', 'create', 'hr-docs', '--allow-user', 'Alice@Contoso.dev', '--allow-group', '6F1E0000-0000-4000-8000-0000000000E1', '--json'], env.cliEnv);
    assert.equal(result.status, 0, result.stderr);
    const created = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(created), ['name', 'keyId', 'state', 'enabled']);
    assert.equal(created.name, 'hr-docs');
    assert.equal(created.state, 'active');
    assert.equal(created.enabled, true);
    const res = await env.http.get('/hr-docs').set('Host', 'localhost:8080').expect(200);
    assert.equal(res.body.key.kid, `http://localhost:8080/hr-docs/${created.keyId}`);
  });

  it('show prints the contract shape with the published version and lower-cased allow list', () => {
    // Its own key, created here with mixed-case names, so that the test holds when run alone or in any order.
    const created = runCli(['keys', 'create', 'shown-docs', '--allow-user', 'Alice@Contoso.dev', '--allow-group', '6F1E0000-0000-4000-8000-0000000000E1'], env.cliEnv);
    assert.equal(created.status, 0, created.stderr);
    const result = runCli(['keys', 'show', 'shown-docs', '--json'], env.cliEnv);
    assert.equal(result.status, 0, result.stderr);
    const view = JSON.parse(result.stdout);
    assert.deepEqual(view.allow, { users: ['alice@contoso.dev'], groups: ['6f1e0000-0000-4000-8000-0000000000e1'], roles: [] });
    assert.equal(view.versions.length, 1);
    // The contract's fields, and the effective status beside them (issue 27: extra fields are allowed).
    assert.deepEqual(Object.keys(view.versions[0]).sort(), ['createdAt', 'enabled', 'keyId', 'origin', 'published', 'state', 'status', 'vault']);
    assert.equal(view.versions[0].vault, 'default');
    assert.equal(view.versions[0].status, 'serving');
    assert.equal(view.versions[0].published, true);
    assert.equal(view.versions[0].origin, 'generated');
  });

  it('create --state pre-active makes a key that GET does not publish', async () => {
    const result = runCli(['keys', 'create', 'later', '--state', 'pre-active', '--json'], env.cliEnv);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).state, 'pre-active');
    await env.http.get('/later').expect(404);
  });

  it('list shows every key name', () => {
    const listed = (): string[] => {
      const result = runCli(['keys', 'list', '--json'], env.cliEnv);
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout).map((k: { name: string }) => k.name);
    };
    // Its own keys (one published, one pre-active, created out of name order) on top of whatever earlier tests left,
    // so that the test holds when run alone or in any order.
    const before = listed();
    assert.equal(runCli(['keys', 'create', 'listed-b'], env.cliEnv).status, 0);
    assert.equal(runCli(['keys', 'create', 'listed-a', '--state', 'pre-active'], env.cliEnv).status, 0);
    assert.deepEqual(listed(), [...before, 'listed-a', 'listed-b'].sort((a, b) => a.localeCompare(b)));
  });

  for (const [name, why, taken] of [
    ['health', /reserved/, false],
    ['Metrics', /reserved/, false],
    ['bad/name', /must be 1 to 128/, false],
    ['taken-docs', /exists already/, true],
  ] as const) {
    it(`refuses to create "${name}": exit 2 and one sentence on stderr`, async () => {
      // The taken name is created here, so that the test holds when run alone or in any order.
      if (taken) await env.admin.create(name);
      const result = runCli(['keys', 'create', name], env.cliEnv);
      assert.equal(result.status, 2);
      assert.match(result.stderr, why);
      assert.equal(result.stdout, '');
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('show of an unknown name: exit 2 and the sentence', () => {
    const result = runCli(['keys', 'show', 'nope'], env.cliEnv);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^dke: There is no key named "nope"/);
  });
});
