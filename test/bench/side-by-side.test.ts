/**
 * Issue 30 (scripts/bench/side-by-side.ts): `npm run bench` judges the service against its Express floor on rounds
 * that alternate the two, each ratio taken within one round. The figures come from the benchmark (a script, never a
 * timed test); this holds the rules: the order alternates, ratios pair rounds, medians take the middle.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import type { LoadResult } from '../../scripts/bench/http-load.js';
import { failures, medianRatio, medianTailRatio, sideBySide } from '../../scripts/bench/side-by-side.js';
import { median } from '../../scripts/bench/stats.js';

const result = (requestsPerSecond: number, p50 = 10, p99 = 20, errors = 0): LoadResult => ({ connections: 1, requests: requestsPerSecond, requestsPerSecond, p50, p99, errors, non2xx: 0 });

describe('issue 30: the bench compares the service with its floor side by side', () => {
  it('takes each ratio within one round and the median of those, not the ratio of two medians', () => {
    // The machine slows down between rounds 1 and 2: per round the service is at 90%, 90%, 50%.
    const pair = { service: [result(900), result(450), result(500)], floor: [result(1000), result(500), result(1000)] };
    assert.equal(medianRatio(pair), 0.9);
    // The ratio of the medians would have been 500/1000.
    assert.equal(median(pair.service.map((r) => r.requestsPerSecond)) / median(pair.floor.map((r) => r.requestsPerSecond)), 0.5);
  });

  it('the median of an odd count is the middle value, of an even count the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(medianTailRatio([result(1, 10, 30), result(1, 10, 15), result(1, 10, 16)]), 1.6);
    assert.equal(failures([result(1, 1, 1, 2), { ...result(1), non2xx: 3 }]), 5);
  });

  describe('alternation', () => {
    const arrivals: string[] = [];
    const servers: Server[] = [];
    const urls: string[] = [];
    before(async () => {
      for (const name of ['service', 'floor']) {
        const server = createServer((_req, res) => {
          if (arrivals.at(-1) !== name) arrivals.push(name);
          res.end('{}');
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        servers.push(server);
        urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      }
    });
    after(() => {
      for (const server of servers) server.close();
    });

    it('runs both servers in every round, the first of the pair alternating', async function () {
      this.timeout(20_000);
      // No warm-up here: it is the same load on the same server just before each run, and would double the test's time.
      const pair = await sideBySide({ url: urls[0]!, method: 'GET' }, { url: urls[1]!, method: 'GET' }, 2, 2, 1, 0);
      // Runs of one server's requests: service, then floor and floor again (round 2 starts with it), then service.
      // Without the alternation: service, floor, service, floor.
      assert.deepEqual(arrivals, ['service', 'floor', 'service']);
      assert.equal(pair.service.length, 2);
      assert.equal(pair.floor.length, 2);
      assert.ok(pair.service.every((r) => r.requestsPerSecond > 0 && r.errors === 0));
    });
  });
});
