import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import type { TestMember } from '../auth/fixtures.js';
import { codeOf, postCarpool, quickMembers, renew } from './fixtures.js';

const HALF_HOUR = 30 * 60_000;

/**
 * The day rolls over at 10:00 by the clock alone: nothing runs at 10:00, no
 * flag is reset. Yesterday's carpools leave today's lists and enter history
 * (rule 8), and everyone may drive or ride again (rule 1).
 */
for (const database of ['mysql', 'sqlite'] as const) {
  describe(`the service day rolls over with no job (${database})`, () => {
    let t: TestApp;
    let driver: TestMember, rider: TestMember, canceller: TestMember, deleter: TestMember, other: TestMember;
    const ids: Record<string, number> = {};
    before(async () => {
      t = await startTestApp({ database, now: '2026-03-02T09:00:00+09:00', env: { ACCESS_TOKEN_TTL_SECONDS: '86400' } });
      const drivers = await quickMembers(t, 3, { driver: true });
      const riders = await quickMembers(t, 2);
      [driver, deleter, other, rider, canceller] = [drivers[0]!, drivers[1]!, drivers[2]!, riders[0]!, riders[1]!];
    });
    after(() => t.close());

    it('before 10:00 the carpools are today’s', async () => {
      ids.ridden = (await postCarpool(t, driver, { inMinutes: 30 })).id;
      ids.deleted = (await postCarpool(t, deleter, { inMinutes: 40 })).id;
      ids.otherOne = (await postCarpool(t, other, { inMinutes: 50 })).id;
      assert.equal((await rider.call('POST', `/carpools/${ids.ridden}/reservations`)).status, 201);
      assert.equal((await canceller.call('POST', `/carpools/${ids.otherOne}/reservations`)).status, 201);
      assert.equal((await canceller.call('DELETE', `/carpools/${ids.otherOne}/reservations/me`)).status, 204);
      assert.equal((await deleter.call('DELETE', `/carpools/${ids.deleted}`)).status, 204);
      assert.equal(codeOf(await driver.call('POST', '/carpools', { body: carpool(t) })), 'MATE-003');
      t.clock.set('2026-03-02T09:59:59+09:00');
      const list = await rider.call('GET', '/carpools');
      assert.equal(list.body.serviceDay, '2026-03-01');
      assert.deepEqual(list.body.items.map((c: { id: number }) => c.id).sort(), [ids.ridden, ids.otherOne].sort());
      assert.equal((await driver.call('GET', '/me/carpool')).body.status, 'active');
    });

    it('at 10:00 yesterday’s carpools leave the lists and enter history; everyone may drive or ride again', async () => {
      const before = await t.deps.db('participations').orderBy('id').select();
      t.clock.set('2026-03-02T10:00:00+09:00');

      const list = await rider.call('GET', '/carpools');
      assert.equal(list.body.serviceDay, '2026-03-02');
      assert.deepEqual(list.body.items, []);
      for (const m of [driver, rider, canceller, deleter]) assert.equal((await m.call('GET', '/me/carpool')).body.status, 'none');

      const rides = await rider.call('GET', '/me/rides');
      assert.deepEqual(
        rides.body.items.map((c: { id: number }) => c.id),
        [ids.ridden],
      );
      assert.equal(rides.body.items[0].seatsTaken, 1);
      assert.deepEqual(
        (await driver.call('GET', '/me/drives')).body.items.map((c: { id: number }) => c.id),
        [ids.ridden],
      );
      assert.deepEqual((await canceller.call('GET', '/me/rides')).body.items, [], 'a cancelled reservation is not a ride');
      assert.deepEqual((await deleter.call('GET', '/me/drives')).body.items, [], 'a deleted carpool is not a drive');
      assert.deepEqual((await driver.call('GET', '/me/rides')).body.items, [], 'driving is not riding');

      // Yesterday's carpool stays readable but closed.
      assert.equal((await rider.call('GET', `/carpools/${ids.ridden}`)).status, 200);
      assert.equal(codeOf(await canceller.call('POST', `/carpools/${ids.ridden}/reservations`)), 'MATE-001');
      assert.equal(codeOf(await driver.call('DELETE', `/carpools/${ids.ridden}`)), 'MATE-001');
      assert.equal(codeOf(await rider.call('DELETE', `/carpools/${ids.ridden}/reservations/me`)), 'MATE-004');

      // Free again: yesterday's driver rides, yesterday's rider is in a new carpool.
      ids.today = (await postCarpool(t, other, { inMinutes: 60 })).id;
      assert.equal((await driver.call('POST', `/carpools/${ids.today}/reservations`)).status, 201);
      assert.equal((await rider.call('POST', `/carpools/${ids.today}/reservations`)).status, 201);
      assert.equal((await deleter.call('POST', '/carpools', { body: carpool(t) })).status, 201);

      // Nothing was rewritten to roll the day over: yesterday's rows are as they were.
      const after = await t.deps
        .db('participations')
        .whereIn(
          'id',
          before.map((p) => p.id),
        )
        .orderBy('id')
        .select();
      assert.deepEqual(after, before);
    });

    it('history is newest first and paginated, today excluded', async () => {
      // Two more days of rides for the rider, with yesterday's driver driving again.
      for (const next of ['2026-03-03T11:00:00+09:00', '2026-03-04T11:00:00+09:00']) {
        t.clock.set(next);
        await renew(t, driver, rider);
        const id = (await postCarpool(t, driver, { inMinutes: 30 })).id;
        ids[next] = id;
        assert.equal((await rider.call('POST', `/carpools/${id}/reservations`)).status, 201);
      }
      t.clock.set('2026-03-05T10:30:00+09:00'); // service day 03-05: the rides above are all history now
      await renew(t, driver, rider, other);
      const todayId = (await postCarpool(t, other, { inMinutes: 60 })).id;
      assert.equal((await rider.call('POST', `/carpools/${todayId}/reservations`)).status, 201);

      const all = await rider.call('GET', '/me/rides?size=50');
      const expected = [ids['2026-03-04T11:00:00+09:00'], ids['2026-03-03T11:00:00+09:00'], ids.today, ids.ridden];
      assert.deepEqual(
        all.body.items.map((c: { id: number }) => c.id),
        expected,
      );
      assert.deepEqual(
        all.body.items.map((c: { serviceDay: string }) => c.serviceDay),
        ['2026-03-04', '2026-03-03', '2026-03-02', '2026-03-01'],
      );
      const first = await rider.call('GET', '/me/rides?size=3');
      assert.equal(first.body.items.length, 3);
      const second = await rider.call('GET', `/me/rides?size=3&cursor=${first.body.nextCursor}`);
      assert.deepEqual(
        [...first.body.items, ...second.body.items].map((c: { id: number }) => c.id),
        expected,
      );
      assert.equal(second.body.nextCursor, null);
      assert.equal(codeOf(await rider.call('GET', '/me/rides?size=51')), 'REQUEST-001');
      assert.equal(codeOf(await rider.call('GET', '/me/drives?cursor=x')), 'REQUEST-001');
    });
  });
}

function carpool(t: TestApp) {
  return {
    departurePlace: '오목천역',
    latitude: 37.24,
    longitude: 126.95,
    departureAt: new Date(t.clock.now().getTime() + HALF_HOUR).toISOString(),
    chatLink: 'https://open.kakao.com/o/again',
    capacity: 2,
    cost: 2000,
  };
}
