/**
 * Issue 17, contract §1 (decrypt): `dke serve` killed with SIGKILL under load, ten times over, never leaves a 200
 * without its audit entry. Each request carries its own user (a fresh oid), so every 200 the client saw is looked up
 * by that oid in the trail afterwards. Real processes, real NSS token, real store file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'mocha';
import { versionJwk } from '../support/decrypt-client.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { CLI_PATH } from '../support/run-cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const GROUP = '5d2c9a4e-1b7f-4c1e-9a53-0d6f7e8a9b10';
const KILLS = 10;
const WORKERS = 12;

describe('issue 17: kill -9 under load never leaves a 200 without its audit entry', () => {
  let env: TestEnv;
  let keyId: string;
  before(async () => {
    env = await startTestEnv();
    keyId = (await env.admin.create('kill9', { allow: { users: [], groups: [GROUP], roles: [] } })).keyId;
  });
  after(() => env?.close());

  it(`${KILLS} kills: every decrypt answered 200 is in the trail, and the chain verifies`, async function () {
    this.timeout(120_000);
    const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(await versionJwk(env, 'kill9', keyId), Buffer.from('kill -9')) });
    const answered: string[] = [];
    let otherStatuses = 0;
    for (let round = 0; round < KILLS; round += 1) {
      const serve = await startServeProcess([CLI_PATH, 'serve'], { ...env.cliEnv, DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_LOG_LEVEL: 'info' });
      const url = serve.url.replace('localhost', '127.0.0.1');
      let killed = false;
      const worker = async (): Promise<void> => {
        while (!killed) {
          const oid = randomUUID();
          const token = await env.token({ oid, groups: [GROUP] });
          try {
            const res = await fetch(`${url}/kill9/${keyId}/decrypt`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body,
            });
            await res.arrayBuffer();
            if (res.status === 200) answered.push(oid);
            else otherStatuses += 1;
          } catch {
            // the connection died with the process
          }
        }
      };
      const answeredBefore = answered.length;
      const workers = Array.from({ length: WORKERS }, worker);
      // Kill once this round's load is flowing (its first 10 answers), at a random moment after that: a fixed delay
      // killed before the first answer on a loaded machine, and the test then proved nothing.
      const flowingBy = Date.now() + 15_000;
      while (answered.length - answeredBefore < 10 && Date.now() < flowingBy) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 300)));
      const exited = new Promise((resolve) => serve.child.once('exit', resolve));
      serve.child.kill('SIGKILL');
      await exited;
      killed = true;
      await Promise.all(workers);
    }
    const db = new Database(join(env.config.dataDir, 'dke.sqlite'), { readonly: true });
    const audited = new Set(
      (db.prepare("SELECT json_extract(entry, '$.details.oid') AS oid FROM audit WHERE json_extract(entry, '$.action') = 'decrypt' AND json_extract(entry, '$.outcome') = 'allowed'").all() as { oid: string }[]).map(
        (r) => r.oid,
      ),
    );
    db.close();
    const missing = answered.filter((oid) => !audited.has(oid));
    console.log(`      kill -9 ×${KILLS}: ${answered.length} decrypts answered 200, ${audited.size} allowed entries in the trail, ${missing.length} 200s without an entry (${otherStatuses} other statuses)`);
    assert.ok(answered.length >= KILLS * 10, `load reached the service (${answered.length} 200s)`);
    assert.deepEqual(missing, [], 'every 200 has its audit entry');
    assert.equal((await env.service.audit.verify()).ok, true);
  });
});
