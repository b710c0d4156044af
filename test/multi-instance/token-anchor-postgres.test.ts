/**
 * Issue 25, contract §5 "the HSM anchors what must never be undone", on PostgreSQL: a database restored (pg_dump
 * before a compromise, pg_restore after) never brings the version back, and an instance that loses the database but
 * keeps the HSM refuses every decrypt within 1 s of an emergency block set by the CLI (a process of its own).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'mocha';
import { decryptAs, versionJwk } from '../support/decrypt-client.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { runCliAsync } from '../support/run-cli.js';
import { makeTestToken, startTestEnv, type TestEnv } from '../support/test-env.js';

const run = promisify(execFile);
const USER = 'alice@contoso.dev';
const allow = { users: [USER], groups: [], roles: [] };

/** A TCP relay to the database that can be cut: afterwards connections are refused, as from a database host gone away. */
interface CuttableRelay {
  readonly url: string;
  cut(): void;
  close(): Promise<void>;
}

async function relayTo(databaseUrl: string): Promise<CuttableRelay> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(databaseUrl);
  relayed.port = String((server.address() as { port: number }).port);
  return {
    url: relayed.toString(),
    cut: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}

describe('issue 25: a restored PostgreSQL database, and an instance cut off from it (real NSS token)', () => {
  let dir: string;
  let databaseUrl: string;
  let relay: CuttableRelay;
  let env: TestEnv | undefined;
  let restoredId: string;
  let openId: string;
  let jwk: { n: string; e: number };

  before(async function () {
    this.timeout(30_000);
    databaseUrl = await freshPostgresDatabase('token_anchor');
    dir = mkdtempSync(join(tmpdir(), 'dke-anchor-pg-'));
    makeTestToken(dir);
    relay = await relayTo(databaseUrl);
    env = await startTestEnv({ dir, settings: { DKE_DATABASE_URL: databaseUrl } });
    restoredId = (await env.admin.create('restored-key', { allow })).keyId;
    openId = (await env.admin.create('open-key', { allow })).keyId;
    jwk = await versionJwk(env, 'restored-key', restoredId);
    assert.equal((await decryptAs(env, USER, 'restored-key', restoredId, Buffer.from('before'), jwk)).status, 200);
    const dump = join(dir, 'before-compromise.dump');
    await run('pg_dump', ['-Fc', '-f', dump, databaseUrl]);
    await env.admin.setState('restored-key', restoredId, 'compromised', true);
    await env.close();
    await run('pg_restore', ['--clean', '--if-exists', '-d', databaseUrl, dump]);
    // The instance comes back on the restored database, through a relay the last test cuts.
    env = await startTestEnv({ dir, settings: { DKE_DATABASE_URL: relay.url } });
  });
  after(async () => {
    await env?.close();
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the restored version stays Compromised: not published, never decrypts, the conflict in the trail', async () => {
    assert.equal((await env!.admin.show('restored-key')).versions.find((v) => v.keyId === restoredId)!.state, 'compromised');
    await env!.http.get('/restored-key').expect(404);
    assert.equal((await decryptAs(env!, USER, 'restored-key', restoredId, Buffer.from('after'), jwk)).status, 403);
    const conflicts = (await env!.service.audit.list()).filter((e) => e.action === 'restore-conflict');
    assert.deepEqual(conflicts.map((e) => [e.actor, e.keyId, e.details?.from, e.details?.to]), [['token-anchor', restoredId, 'active', 'compromised']]);
    assert.equal((await env!.service.readiness.check()).ready, true);
    const verdict = await env!.admin.verifyAudit();
    assert.equal(verdict.ok, false);
    assert.match(verdict.problem!, /the token anchored .*: the trail was rolled back or restored from an earlier copy/);
  });

  it('cut off from the database, the instance refuses every decrypt within 1 s of a block set by the CLI', async function () {
    this.timeout(15_000);
    await env!.http.get('/open-key').expect(200);
    relay.cut();
    // Still answering from its last state (the journal keeps the entries): the block must come through the token.
    assert.equal((await decryptAs(env!, USER, 'open-key', openId, Buffer.from('cut off'))).status, 200);
    const blocked = await runCliAsync(['emergency', 'block', '--yes'], { ...env!.cliEnv, DKE_DATABASE_URL: databaseUrl, DKE_ADMIN_ACTOR: 'oncall@contoso.dev' });
    assert.equal(blocked.status, 0, blocked.stderr);
    const setAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - setAt < 3_000) status = (await decryptAs(env!, USER, 'open-key', openId, Buffer.from('after block'))).status;
    const tookMs = Date.now() - setAt;
    assert.equal(status, 403);
    assert.ok(tookMs < 1_000, `refused ${tookMs} ms after the block`);
    await env!.http.get('/open-key').expect(404);
  });
});
