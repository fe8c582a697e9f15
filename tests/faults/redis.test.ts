/**
 * Redis goes away for 10 s under steady traffic, then comes back.
 * Expected: reads keep answering 200 (sessions are checked in the database,
 * lists are read from it); what needs Redis (sign-in) fails fast with 503
 * SERVER-002; /readyz says not ready; everything recovers by itself within
 * 5 s of Redis's return; no acknowledged reservation is lost; the cached
 * lists show the seats taken during the outage (no stale page).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpClient } from '../../service/src/testing/http.js';
import { newMember } from '../../service/src/features/auth/fixtures.js';
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
  type Rig,
} from './support.js';

const OUTAGE_MS = Number(process.env.FAULT_REDIS_SECONDS ?? 10) * 1000;

describe('Redis outage under load', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it('keeps reads answering, fails sign-in fast, reports not ready, and recovers by itself', { timeout: 120_000 }, async () => {
    const { t, member } = rig;
    const call = httpClient(t.url);
    const signIn = () => call('POST', '/auth/signin', { body: { loginId: member.loginId, password: member.password } });
    const traffic = new Traffic(rig);
    traffic.start();
    await sleep(1_500);

    const cutAt = Date.now();
    rig.proxies.redis.cut();
    await within(3_000, '/readyz turns 503', async () => (await readyz(t)).status === 503);
    assert.match((await readyz(t)).checks.redis!, /failing/);
    const during = await timed(signIn);
    assert.equal(during.value.status, 503, JSON.stringify(during.value.body));
    assert.equal(during.value.body.code, 'SERVER-002');
    assert.equal(during.value.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(during.ms < 3_000, `sign-in failed in ${during.ms} ms, not fast`);
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));

    const restoredAt = Date.now();
    rig.proxies.redis.restore();
    const readyAfter = await within(5_000, '/readyz back to 200', async () => (await readyz(t)).status === 200);
    const signInAfter = await within(5_000, 'sign-in answers 200 again', async () => (await signIn()).status === 200);
    await sleep(1_500);
    await traffic.stop();

    const outage = traffic.between(cutAt, restoredAt);
    const reads = outage.filter((a) => a.op === 'list' || a.op === 'me' || a.op === 'my carpool');
    assert.ok(reads.length >= 50, `too little traffic during the outage: ${JSON.stringify(summary(outage))}`);
    assert.deepEqual(
      reads.filter((a) => a.status !== 200).map((a) => `${a.op} ${a.status} ${a.code ?? ''}`),
      [],
      `reads during the outage: ${JSON.stringify(summary(outage))}`,
    );
    const writes = outage.filter((a) => a.op === 'reserve' || a.op === 'cancel');
    assert.ok(
      writes.every((a) => a.status === 201 || a.status === 204 || a.code === 'MATE-002'),
      `reservations need only the database: ${JSON.stringify(summary(writes))}`,
    );
    assertFast(traffic.answers, 3_000, 'during and around the outage');
    const settled = traffic.between(restoredAt + 5_000, Infinity);
    assert.ok(
      settled.every((a) => (a.status >= 200 && a.status < 300) || a.code === 'MATE-002'),
      `after recovery: ${JSON.stringify(summary(settled))}`,
    );

    // Lists reflect every seat taken or freed during the outage: no page cached before it is served.
    const page = await rig.riders[0]!.m.call('GET', '/carpools?sort=departure&size=50');
    assert.equal(page.status, 200);
    for (const item of page.body.items as Array<{ id: number; seatsTaken: number }>) {
      const row = await t.deps.db('carpools').where('id', item.id).first('seats_taken');
      assert.equal(item.seatsTaken, Number(row.seats_taken), `carpool ${item.id}: the list shows a stale seat count`);
    }
    const ledger = await assertNoLostReservations(rig, traffic);
    console.log(
      `redis outage ${OUTAGE_MS} ms: ${outage.length} requests during it (${JSON.stringify(summary(outage))}); sign-in 503 in ${during.ms} ms; ready ${readyAfter} ms and sign-in ${signInAfter} ms after the return; ${ledger.reserved} reservations acknowledged, ${ledger.judged} members checked`,
    );
  });

  it(
    'answers within 3 s when Redis hangs (connections open, no answers), and recovers when it answers again',
    { timeout: 60_000 },
    async () => {
      const redisUrl = new URL(testServices().redisUrl);
      const proxy = await startFreezableProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
      const t = await startTestApp({
        now: MORNING,
        rewriteUrls: (u) => ({ ...u, redis: Object.assign(new URL(u.redis), { port: String(proxy.port) }).toString() }),
      });
      try {
        const [m] = await quickMembers(t, 1);
        const member = await newMember(t);
        const call = httpClient(t.url);
        const signIn = () => call('POST', '/auth/signin', { body: { loginId: member.loginId, password: member.password } });
        proxy.freeze();
        const me = await timed(() => m!.call('GET', '/me'));
        const list = await timed(() => m!.call('GET', '/carpools'));
        const signin = await timed(signIn);
        assert.equal(me.value.status, 200, JSON.stringify(me.value.body));
        assert.equal(list.value.status, 200, JSON.stringify(list.value.body));
        assert.equal(signin.value.status, 503, JSON.stringify(signin.value.body));
        assert.equal(signin.value.body.code, 'SERVER-002');
        // Sign-in waits out two 1-s command timeouts: both limit checks at once, then the session.
        for (const [what, r] of [
          ['GET /me', me],
          ['GET /carpools', list],
          ['sign-in', signin],
        ] as const)
          assert.ok(r.ms < 3_000, `${what} took ${r.ms} ms while Redis hung`);
        assert.equal((await readyz(t)).status, 503);
        proxy.thaw();
        const back = await within(5_000, 'sign-in answers 200 again', async () => (await signIn()).status === 200);
        console.log(
          `redis hung: GET /me ${me.ms} ms, GET /carpools ${list.ms} ms, sign-in 503 in ${signin.ms} ms; sign-in back ${back} ms after`,
        );
      } finally {
        await proxy.close();
        await t.close();
      }
    },
  );
});
