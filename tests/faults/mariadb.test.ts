/**
 * MariaDB goes away under steady traffic (its proxy refuses connections and
 * drops the pooled ones), then comes back. Expected: calls that need the
 * database fail fast (< 3 s) with 503 SERVER-002, never a hang or a 500;
 * /readyz says not ready; everything recovers by itself within 5 s of the
 * database's return; no acknowledged reservation is lost and no seat count
 * disagrees with the reservation rows.
 *
 * FAULT_MARIADB_RESTART=1 adds a real restart of the shared MariaDB
 * (scripts/test-env/ctl.sh restart mariadb): only when this file runs alone,
 * as it disturbs every other test using that server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MORNING, quickMembers } from '../../service/src/features/carpools/fixtures.js';
import { startTestApp } from '../../service/src/testing/harness.js';
import { testServices } from '../../service/src/testing/env.js';
import {
  assertFast,
  assertNoLostReservations,
  readyz,
  sleep,
  startFreezableProxy,
  startRig,
  summary,
  timed,
  Traffic,
  within,
  type Answer,
  type Rig,
} from './support.js';

const OUTAGE_MS = Number(process.env.FAULT_DB_SECONDS ?? 5) * 1000;
const ok = (a: Answer) => (a.status >= 200 && a.status < 300) || a.code === 'MATE-002';

async function outage(rig: Rig, traffic: Traffic, take: () => Promise<void>, give: () => Promise<void>) {
  const { t } = rig;
  const rider = rig.riders[rig.riders.length - 1]!;
  const cutAt = Date.now();
  await take();
  await within(3_000, '/readyz turns 503', async () => (await readyz(t)).status === 503);
  assert.match((await readyz(t)).checks.database!, /failing/);
  const me = await timed(() => rider.m.call('GET', '/me'));
  assert.equal(me.value.status, 503, JSON.stringify(me.value.body));
  assert.equal(me.value.body.code, 'SERVER-002');
  assert.ok(me.ms < 3_000, `GET /me failed in ${me.ms} ms, not fast`);
  const reserve = await timed(() => rider.m.call('POST', `/carpools/${rig.carpoolIds[0]}/reservations`));
  assert.equal(reserve.value.status, 503, JSON.stringify(reserve.value.body));
  assert.equal(reserve.value.body.code, 'SERVER-002');
  assert.ok(reserve.ms < 3_000, `a reservation failed in ${reserve.ms} ms, not fast`);
  rider.carpoolId = undefined; // a 503 says nothing about what happened
  await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
  const restoredAt = Date.now();
  await give();
  const readyAfter = await within(5_000, '/readyz back to 200', async () => (await readyz(t)).status === 200);
  const meAfter = await within(5_000, 'GET /me answers 200 again', async () => (await rider.m.call('GET', '/me')).status === 200);
  return { cutAt, restoredAt, readyAfter, meAfter, meMs: me.ms, reserveMs: reserve.ms };
}

describe('MariaDB outage under load', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it('fails fast with 503 SERVER-002 while the database is unreachable, and recovers by itself', { timeout: 120_000 }, async () => {
    const traffic = new Traffic(rig);
    traffic.start();
    await sleep(1_500);
    const o = await outage(
      rig,
      traffic,
      async () => rig.proxies.db.cut(),
      async () => rig.proxies.db.restore(),
    );
    await sleep(5_500);
    await traffic.stop();

    const during = traffic.between(o.cutAt, o.restoredAt);
    assert.ok(during.length >= 30, `too little traffic during the outage: ${JSON.stringify(summary(during))}`);
    const wrong = during.filter((a) => !ok(a) && !(a.status === 503 && a.code === 'SERVER-002'));
    assert.deepEqual(
      wrong.map((a) => `${a.op} ${a.status} ${a.code ?? ''}`),
      [],
      `during the outage, only 2xx or 503 SERVER-002: ${JSON.stringify(summary(during))}`,
    );
    assertFast(traffic.answers, 3_000, 'during and around the outage');
    const settled = traffic.between(o.restoredAt + 5_000, Infinity);
    assert.ok(settled.length > 0 && settled.every(ok), `5 s after the return: ${JSON.stringify(summary(settled))}`);
    const ledger = await assertNoLostReservations(rig, traffic);
    console.log(
      `mariadb outage ${OUTAGE_MS} ms: ${during.length} requests during it (${JSON.stringify(summary(during))}); GET /me 503 in ${o.meMs} ms, reservation 503 in ${o.reserveMs} ms; ready ${o.readyAfter} ms and GET /me ${o.meAfter} ms after the return; ${ledger.reserved} reservations acknowledged, ${ledger.judged} members checked`,
    );
  });

  it(
    'survives a real restart of MariaDB (FAULT_MARIADB_RESTART=1, alone)',
    { timeout: 180_000, skip: process.env.FAULT_MARIADB_RESTART !== '1' && 'set FAULT_MARIADB_RESTART=1 and run this file alone' },
    async () => {
      const ctl = fileURLToPath(new URL('../../scripts/test-env/ctl.sh', import.meta.url));
      const traffic = new Traffic(rig);
      traffic.start();
      await sleep(1_500);
      const o = await outage(
        rig,
        traffic,
        async () => void execFileSync('bash', [ctl, 'stop', 'mariadb'], { stdio: 'inherit' }),
        async () => void execFileSync('bash', [ctl, 'start', 'mariadb'], { stdio: 'inherit' }),
      );
      await sleep(5_500);
      await traffic.stop();
      const during = traffic.between(o.cutAt, o.restoredAt);
      const wrong = during.filter((a) => !ok(a) && !(a.status === 503 && a.code === 'SERVER-002'));
      assert.deepEqual(
        wrong.map((a) => `${a.op} ${a.status} ${a.code ?? ''}`),
        [],
        JSON.stringify(summary(during)),
      );
      assertFast(traffic.between(o.cutAt, Infinity), 3_000, 'during and after the restart');
      const settled = traffic.between(o.restoredAt + 5_000, Infinity);
      assert.ok(settled.length > 0 && settled.every(ok), `5 s after the return: ${JSON.stringify(summary(settled))}`);
      await assertNoLostReservations(rig, traffic);
    },
  );

  it('fails fast when MariaDB hangs (connections open, no answers)', { timeout: 60_000 }, async () => {
    const mysql = new URL(testServices().mysqlUrl);
    const proxy = await startFreezableProxy({ host: mysql.hostname, port: Number(mysql.port) });
    const t = await startTestApp({
      now: MORNING,
      rewriteUrls: (u) => ({ ...u, database: Object.assign(new URL(u.database), { port: String(proxy.port) }).toString() }),
    });
    try {
      const [m] = await quickMembers(t, 1);
      const getMe = () =>
        timed(() =>
          fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${m!.accessToken}` }, signal: AbortSignal.timeout(10_000) }).then(
            async (r) => ({ status: r.status, code: ((await r.json()) as { code?: string }).code }),
            () => ({ status: 0, code: 'no answer' }),
          ),
        );
      proxy.freeze();
      // More callers than the pool has connections: the ones waiting for a connection must fail fast too.
      const burst = await Promise.all(Array.from({ length: 25 }, getMe));
      const answers = burst.map((b) => `${b.value.status} ${b.value.code ?? ''}`);
      assert.deepEqual([...new Set(answers)], ['503 SERVER-002'], `GET /me while the database hung: ${answers.join(', ')}`);
      const slowest = Math.max(...burst.map((b) => b.ms));
      assert.ok(slowest < 3_000, `the slowest GET /me took ${slowest} ms`);
      assert.equal((await readyz(t)).status, 503);
      proxy.thaw();
      const back = await within(5_000, 'GET /me answers 200 again', async () => (await getMe()).value.status === 200);
      assert.equal((await readyz(t)).status, 200);
      console.log(`mariadb hung: 25 GET /me answered 503 SERVER-002 within ${slowest} ms; 200 again ${back} ms after the thaw`);
    } finally {
      await proxy.close();
      await t.close();
    }
  });
});
