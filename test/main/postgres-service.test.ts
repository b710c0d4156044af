/**
 * Contract §1 (GET, `/health/ready`), §5 and issue 13 with the service on PostgreSQL (src/main/open-service.ts,
 * src/store/postgres/postgres-snapshots.ts): the real service on the real token and the run's throwaway PostgreSQL. While the
 * database is down, GET answers from the last key state and readiness reports the store as `warn` (200); every change
 * is refused at once naming the database; past DKE_STATE_STALENESS_SECONDS GET answers 503 with Retry-After and
 * readiness fails; when the database is back, everything answers again without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { DatabaseUnavailable } from '../../src/keys/errors.js';
import { freshPostgresDatabase, resumePostgres, suspendPostgres } from '../support/postgres.js';
import { within } from '../support/store-engines.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('§5 the service on PostgreSQL through a database outage', () => {
  let env: TestEnv;
  let keyId: string;
  before(async function () {
    this.timeout(60_000);
    env = await startTestEnv({ settings: { DKE_DATABASE_URL: await freshPostgresDatabase('service-outage'), DKE_STATE_STALENESS_SECONDS: '4' } });
    ({ keyId } = await env.admin.create('outage', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } }));
  });
  after(async () => {
    await env?.close();
  });

  it('GET goes on and readiness warns within the staleness limit; changes are refused at once; then 503 and fail; back without a restart', async function () {
    this.timeout(60_000);
    await env.http.get('/outage').expect(200);
    await suspendPostgres();
    try {
      await within(5000, () => assert.equal(env.service.readiness.report.checks.store?.status, 'warn'));
      assert.match(env.service.readiness.report.checks.store!.detail!, /^the database "service_outage_\d+_\d+" on 127\.0\.0\.1:\d+ does not answer \(.*\); changes are refused; decrypt and GET answer from the key state read \d+ s ago \(for up to 4 s\)$/);
      const ready = await env.http.get('/health/ready');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      const served = await env.http.get('/outage').expect(200);
      assert.match((served.body as { key: { kid: string } }).key.kid, new RegExp(`/outage/${keyId}$`));
      await assert.rejects(env.admin.setEnabled('outage', keyId, false), (error: Error) => {
        assert.ok(error instanceof DatabaseUnavailable);
        assert.match(error.message, /^The database "service_outage_\d+_\d+" on 127\.0\.0\.1:\d+ cannot be reached/);
        return true;
      });
      await within(6000, () => assert.equal(env.service.readiness.report.checks.store?.status, 'fail'));
      await env.http.get('/health/ready').expect(503);
      const stale = await env.http.get('/outage').expect(503);
      assert.equal(stale.headers['retry-after'], '5');
      assert.equal((stale.body as { error: string }).error, 'store_unavailable');
    } finally {
      await resumePostgres();
    }
    await within(10_000, () => assert.equal(env.service.readiness.report.checks.store?.status, 'pass'));
    await env.http.get('/outage').expect(200);
    await env.admin.setEnabled('outage', keyId, false);
    await env.http.get('/outage').expect(404);
    assert.ok(env.logs.some((line) => line.includes('key-state database does not answer')));
  });

  it('started with an unreachable DKE_DATABASE_URL: the service runs, readiness fails naming host and database (never the password)', async function () {
    this.timeout(60_000);
    const unreachable = await startTestEnv({ settings: { DKE_DATABASE_URL: 'postgres://dke:sekrit-pw@127.0.0.1:1/keys' } });
    try {
      const ready = await unreachable.http.get('/health/ready').expect(503);
      const store = (ready.body as { checks: Record<string, { status: string; detail?: string }> }).checks.store!;
      assert.equal(store.status, 'fail');
      assert.match(store.detail!, /^the database "keys" on 127\.0\.0\.1:1 does not answer \(.*ECONNREFUSED.*\); the last key state read is older than DKE_STATE_STALENESS_SECONDS \(300 s\): decrypt and GET answer 503$/);
      await unreachable.http.get('/health/live').expect(200);
      assert.doesNotMatch(JSON.stringify(ready.body) + unreachable.logs.join('\n'), /sekrit-pw/);
    } finally {
      await unreachable.close();
    }
  });
});
