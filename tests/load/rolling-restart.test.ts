/**
 * Zero-downtime restarts: two API processes behind nginx under steady load
 * (90 % reads, 10 % reservations and cancellations), restarted one after the
 * other as a rolling update does. Not one request may fail, and every
 * acknowledged reservation must be in the database afterwards.
 * Needs nginx (`bash scripts/load/tools.sh`). The benchmark version with
 * figures is part of `npm run pressure` (tests/load/run.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createStack } from './lib/stack.js';
import { findNginx, NGINX_MISSING } from './lib/nginx.js';
import { rollingRestart } from './lib/rolling.js';
import { checkLedger, morningRush, seed, type Seeded } from './lib/workloads.js';

describe('rolling restart behind nginx', () => {
  it('answers every request while both API processes are restarted one after the other', { timeout: 180_000 }, async () => {
    assert.ok(findNginx(), NGINX_MISSING);
    const stack = await createStack({ env: { DRAIN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '10000' } });
    try {
      let seeded: Seeded | undefined;
      let rush: ReturnType<typeof morningRush> | undefined;
      const result = await rollingRestart({
        env: stack.env,
        rate: Number(process.env.ROLLING_RATE ?? 150),
        connections: 16,
        settleSeconds: 1,
        workload: { next: () => ({ path: '/healthz' }) },
        prepare: async (url) => {
          seeded = await seed(stack.fixtureApp(url), { carpools: 30, riders: 60, contenders: 0, hot: 0, signins: 0 });
          rush = morningRush(seeded);
          return rush;
        },
      });
      const { load } = result;
      const detail = JSON.stringify(
        { outcomes: load.outcomes, errors: load.errors, events: result.events, nginx: result.nginxErrors },
        null,
        1,
      );
      assert.equal(result.restarts.length, 2, detail);
      for (const r of result.restarts) assert.equal(r.exitCode, 0, `a process did not drain and exit cleanly: ${detail}`);
      assert.ok(load.requests >= 500, `too little load to prove anything: ${detail}`);
      assert.equal(load.failures, 0, `failed requests across the rolling restart: ${detail}`);
      const ledger = await checkLedger(stack.fixtureApp(''), seeded!.riders, seeded!.carpoolIds);
      assert.ok(rush!.writes.acks.reserved > 0, 'reservations were made during the restart');
      assert.deepEqual(
        { lost: ledger.lost, unexpected: ledger.unexpected, overbooked: ledger.overbooked, mismatched: ledger.mismatched },
        { lost: 0, unexpected: 0, overbooked: 0, mismatched: 0 },
      );
      console.log(
        `rolling restart: ${load.requests} requests at ${Math.round(load.rps)}/s, ${load.failures} failed, p99 ${load.p99.toFixed(1)} ms, max ${load.max.toFixed(0)} ms; restarts ${result.restarts.map((r) => `${Math.round(r.stopMs)}+${Math.round(r.startMs)} ms`).join(', ')}`,
      );
    } finally {
      await stack.close();
    }
  });
});
