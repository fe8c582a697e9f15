import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { MORNING, codeOf, postCarpool, quickMembers, seatState } from './fixtures.js';

/** Rules 1 and 3 under concurrency, on MariaDB: the database decides, not the order requests happen to run in. */
describe('reservations under contention (MariaDB)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ now: MORNING });
  });
  after(() => t.close());

  it('200 members reserve the last 3 seats at once: exactly 3 succeed, 197 get MATE-002, seats equal reservations', async () => {
    const [driver] = await quickMembers(t, 1, { driver: true });
    const c = await postCarpool(t, driver!, { capacity: 5 });
    const early = await quickMembers(t, 2);
    for (const m of early) assert.equal((await m.call('POST', `/carpools/${c.id}/reservations`)).status, 201);
    const crowd = await quickMembers(t, 200);

    const results = await Promise.all(crowd.map((m) => m.call('POST', `/carpools/${c.id}/reservations`)));

    const won = results.filter((r) => r.status === 201);
    const codes = results.filter((r) => r.status !== 201).map(codeOf);
    assert.equal(won.length, 3, `successes: ${won.length}; others: ${JSON.stringify(countBy(codes))}`);
    assert.deepEqual(countBy(codes), { 'MATE-002': 197 });
    for (const r of results.filter((x) => x.status !== 201)) assert.equal(r.status, 409);
    assert.deepEqual(await seatState(t, c.id), { seatsTaken: 5, capacity: 5, activePassengers: 5 });
    const listed = await crowd[0]!.call('GET', '/carpools');
    assert.equal(listed.body.items.find((x: { id: number }) => x.id === c.id).seatsTaken, 5);
  });

  it('one member fires 20 reservations at 20 carpools at once: exactly one succeeds, the rest are MATE-003', async () => {
    const drivers = await quickMembers(t, 20, { driver: true });
    const carpools = await Promise.all(drivers.map((d) => postCarpool(t, d, { capacity: 4 })));
    const [member] = await quickMembers(t, 1);

    const results = await Promise.all(carpools.map((c) => member!.call('POST', `/carpools/${c.id}/reservations`)));

    assert.equal(results.filter((r) => r.status === 201).length, 1);
    assert.deepEqual(countBy(results.filter((r) => r.status !== 201).map(codeOf)), { 'MATE-003': 19 });
    const standing = await t.deps.db('participations').where('member_id', member!.id).whereNotNull('active_day');
    assert.equal(standing.length, 1);
    let seats = 0;
    for (const c of carpools) {
      const s = await seatState(t, c.id);
      assert.equal(s.seatsTaken, s.activePassengers, `carpool ${c.id}`);
      seats += s.seatsTaken;
    }
    assert.equal(seats, 1, 'the losers took no seat');
  });

  it('reservations and cancellations racing on one carpool keep the count equal to the reservations', async () => {
    const [driver] = await quickMembers(t, 1, { driver: true });
    const c = await postCarpool(t, driver!, { capacity: 8 });
    const crowd = await quickMembers(t, 40);
    await Promise.all(
      crowd.map(async (m, i) => {
        const r = await m.call('POST', `/carpools/${c.id}/reservations`);
        if (r.status === 201 && i % 2 === 0) await m.call('DELETE', `/carpools/${c.id}/reservations/me`);
      }),
    );
    const s = await seatState(t, c.id);
    assert.equal(s.seatsTaken, s.activePassengers);
    assert.ok(s.seatsTaken <= 8);
  });

  it('a deletion racing reservations leaves no standing reservation in the deleted carpool', async () => {
    const [driver] = await quickMembers(t, 1, { driver: true });
    const c = await postCarpool(t, driver!, { capacity: 8 });
    const crowd = await quickMembers(t, 30);
    const [results, deleted] = await Promise.all([
      Promise.all(crowd.map((m) => m.call('POST', `/carpools/${c.id}/reservations`))),
      new Promise((r) => setTimeout(r, 5)).then(() => driver!.call('DELETE', `/carpools/${c.id}`)),
    ]);
    assert.equal(deleted.status, 204);
    for (const r of results) assert.ok(r.status === 201 || ['MATE-001', 'MATE-002'].includes(codeOf(r)), JSON.stringify(r.body));
    assert.deepEqual(await seatState(t, c.id), { seatsTaken: 0, capacity: 8, activePassengers: 0 });
  });
});

function countBy(codes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of codes) out[c] = (out[c] ?? 0) + 1;
  return out;
}
