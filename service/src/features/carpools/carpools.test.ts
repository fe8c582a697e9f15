import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { newMember, type TestMember } from '../auth/fixtures.js';
import { MORNING, MORNING_DAY, carpoolBody, codeOf, postCarpool, quickMembers, seatState } from './fixtures.js';

/** Rules 1–7 and 9 through the API, on MariaDB + Redis and on the embedded SQLite mode. */
for (const database of ['mysql', 'sqlite'] as const) {
  describe(`carpools and reservations (${database})`, () => {
    let t: TestApp;
    before(async () => {
      // Access tokens outlive the clock moves of these tests.
      t = await startTestApp({ database, now: MORNING, env: { ACCESS_TOKEN_TTL_SECONDS: '86400' } });
    });
    after(() => t.close());

    it('posts a carpool (rule 2: departure later in this service day) with trimmed Korean text and every list field', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const res = await driver!.call('POST', '/carpools', {
        body: carpoolBody(t, { departurePlace: '  수원시 권선구 오목천동 🚗  ', latitude: 37.2431234, longitude: -126.9534, cost: 0 }),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const c = res.body;
      assert.equal(c.departurePlace, '수원시 권선구 오목천동 🚗');
      assert.equal(c.serviceDay, MORNING_DAY);
      assert.equal(c.latitude, 37.2431234);
      assert.equal(c.longitude, -126.9534);
      assert.equal(c.cost, 0);
      assert.equal(c.seatsTaken, 0);
      assert.equal(c.seatsLeft, 3);
      assert.equal(c.departureAt, '2026-03-01T22:00:00.000Z');
      assert.deepEqual(Object.keys(c.driver).sort(), ['carImageUrl', 'carNumber', 'id', 'nickname', 'profileImageUrl']);
      assert.equal(c.driver.nickname, driver!.nickname);
      assert.ok(c.driver.carNumber);
      const row = await t.deps.db('carpools').where('id', c.id).first('departure_place');
      assert.equal(row.departure_place, '수원시 권선구 오목천동 🚗');
    });

    it('only drivers post carpools (MATE-006)', async () => {
      const [member] = await quickMembers(t, 1);
      const res = await member!.call('POST', '/carpools', { body: carpoolBody(t) });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'MATE-006');
    });

    it('validates every field (400 REQUEST-001 naming it)', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ departurePlace: '   ' }, 'departurePlace'],
        [{ departurePlace: '가'.repeat(101) }, 'departurePlace'],
        [{ latitude: 90.5 }, 'latitude'],
        [{ latitude: '37.5' }, 'latitude'],
        [{ longitude: -180.01 }, 'longitude'],
        [{ departureAt: '2026-03-02T08:00:00' }, 'departureAt'],
        [{ departureAt: 'tomorrow' }, 'departureAt'],
        [{ chatLink: 'http://open.kakao.com/o/x' }, 'chatLink'],
        [{ chatLink: 'javascript:alert(1)' }, 'chatLink'],
        [{ chatLink: `https://open.kakao.com/${'x'.repeat(490)}` }, 'chatLink'],
        [{ capacity: 0 }, 'capacity'],
        [{ capacity: 9 }, 'capacity'],
        [{ capacity: 2.5 }, 'capacity'],
        [{ cost: -1 }, 'cost'],
        [{ cost: 100.5 }, 'cost'],
        [{ cost: 1_000_001 }, 'cost'],
      ];
      for (const [override, field] of cases) {
        const res = await driver!.call('POST', '/carpools', { body: { ...carpoolBody(t), ...override } });
        assert.equal(res.status, 400, `${JSON.stringify(override)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'REQUEST-001');
        assert.match(res.body.detail, new RegExp(field));
      }
      assert.equal((await t.deps.db('carpools').where('driver_id', driver!.id).count({ n: '*' }))[0]!.n, 0);
    });

    it('rule 2: a departure in the past, now, or after the service day ends is MATE-009', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      for (const departureAt of [
        '2026-03-02T05:59:00+09:00', // before now
        MORNING, // now
        '2026-03-02T10:00:00+09:00', // the next service day starts
        '2026-03-03T08:00:00+09:00', // tomorrow morning
      ]) {
        const res = await driver!.call('POST', '/carpools', { body: { ...carpoolBody(t), departureAt } });
        assert.equal(res.status, 422, departureAt);
        assert.equal(res.body.code, 'MATE-009');
      }
      // The last minute of the service day is still today; another zone's notation of the same instant too.
      const ok = await driver!.call('POST', '/carpools', { body: { ...carpoolBody(t), departureAt: '2026-03-02T00:59:00Z' } });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    it('rule 1: a driver who posted today cannot reserve, nor post again (MATE-003)', async () => {
      const [a, b] = await quickMembers(t, 2, { driver: true });
      const mine = await postCarpool(t, a!);
      const other = await postCarpool(t, b!);
      const reserve = await a!.call('POST', `/carpools/${other.id}/reservations`);
      assert.equal(reserve.status, 409);
      assert.equal(reserve.body.code, 'MATE-003');
      assert.equal(codeOf(await a!.call('POST', '/carpools', { body: carpoolBody(t) })), 'MATE-003');
      assert.deepEqual(await seatState(t, other.id), { seatsTaken: 0, capacity: 3, activePassengers: 0 });
      assert.equal((await seatState(t, mine.id)).seatsTaken, 0);
    });

    it('rule 1: a passenger who reserved cannot post (MATE-003) nor hold two reservations (MATE-003)', async () => {
      const drivers = await quickMembers(t, 2, { driver: true });
      const [c1, c2] = [await postCarpool(t, drivers[0]!), await postCarpool(t, drivers[1]!)];
      const [passenger] = await quickMembers(t, 1, { driver: true }); // a driver too, so only the rule stops it
      assert.equal((await passenger!.call('POST', `/carpools/${c1.id}/reservations`)).status, 201);
      const post = await passenger!.call('POST', '/carpools', { body: carpoolBody(t) });
      assert.equal(post.status, 409);
      assert.equal(post.body.code, 'MATE-003');
      assert.equal(codeOf(await passenger!.call('POST', `/carpools/${c2.id}/reservations`)), 'MATE-003');
      assert.equal(codeOf(await passenger!.call('POST', `/carpools/${c1.id}/reservations`)), 'MATE-003');
      assert.equal((await seatState(t, c1.id)).seatsTaken, 1);
      assert.equal((await seatState(t, c2.id)).seatsTaken, 0);
    });

    it('rule 1 is the database’s: a second standing participation of a member on a day violates a unique key', async () => {
      const [driver, passenger] = [...(await quickMembers(t, 1, { driver: true })), ...(await quickMembers(t, 1))];
      const c = await postCarpool(t, driver!);
      const row = { carpool_id: c.id, member_id: passenger!.id, role: 'passenger', service_day: MORNING_DAY, created_at: new Date() };
      await t.deps.db('participations').insert({ ...row, active_day: MORNING_DAY });
      await assert.rejects(t.deps.db('participations').insert({ ...row, active_day: MORNING_DAY }), /Duplicate entry|UNIQUE constraint/);
      // Ended participations (active_day NULL) never collide.
      await t.deps.db('participations').insert({ ...row, active_day: null, ended_at: new Date(), end_reason: 'cancelled' });
      await t.deps.db('participations').insert({ ...row, active_day: null, ended_at: new Date(), end_reason: 'cancelled' });
    });

    it('rule 4: a driver cannot reserve its own carpool (MATE-008)', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const c = await postCarpool(t, driver!);
      const res = await driver!.call('POST', `/carpools/${c.id}/reservations`);
      assert.equal(res.status, 409);
      assert.equal(res.body.code, 'MATE-008');
    });

    it('rule 3: reservations succeed while seats remain, then MATE-002; the count shown equals the reservations', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const c = await postCarpool(t, driver!, { capacity: 2 });
      const riders = await quickMembers(t, 3);
      const first = await riders[0]!.call('POST', `/carpools/${c.id}/reservations`);
      assert.equal(first.status, 201);
      assert.deepEqual(
        { ...first.body, reservedAt: undefined },
        { carpoolId: c.id, serviceDay: MORNING_DAY, seatsTaken: 1, seatsLeft: 1, capacity: 2, reservedAt: undefined },
      );
      assert.equal((await riders[1]!.call('POST', `/carpools/${c.id}/reservations`)).body.seatsTaken, 2);
      const full = await riders[2]!.call('POST', `/carpools/${c.id}/reservations`);
      assert.equal(full.status, 409);
      assert.equal(full.body.code, 'MATE-002');
      assert.deepEqual(await seatState(t, c.id), { seatsTaken: 2, capacity: 2, activePassengers: 2 });
      const shown = await riders[2]!.call('GET', `/carpools/${c.id}`);
      assert.equal(shown.body.seatsTaken, 2);
      assert.equal(shown.body.seatsLeft, 0);
    });

    it('a reservation reads nothing first: the seat UPDATE, the participation INSERT and the new count, in one transaction', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const c = await postCarpool(t, driver!, { capacity: 2 });
      const [rider] = await quickMembers(t, 1);
      const statements: string[] = [];
      const onQuery = (q: { sql: string }) => statements.push(q.sql.trim().split(/\s+/).slice(0, 3).join(' ').toLowerCase());
      t.deps.db.on('query', onQuery);
      const res = await rider!.call('POST', `/carpools/${c.id}/reservations`).finally(() => t.deps.db.off('query', onQuery));
      assert.equal(res.status, 201);
      const work = statements.filter((q) => !/^(begin|commit|start|beginning)/.test(q));
      assert.deepEqual(
        work.map((q) => q.split(' ')[0]),
        ['update', 'insert', 'select'],
        JSON.stringify(statements),
      );
    });

    it('a refused reservation answers the first rule it breaks: own carpool, then another carpool today, then full', async () => {
      const drivers = await quickMembers(t, 2, { driver: true });
      const full = await postCarpool(t, drivers[0]!, { capacity: 1 });
      const other = await postCarpool(t, drivers[1]!);
      const [first, holder] = await quickMembers(t, 2);
      assert.equal((await first!.call('POST', `/carpools/${full.id}/reservations`)).status, 201);
      assert.equal((await holder!.call('POST', `/carpools/${other.id}/reservations`)).status, 201);
      assert.equal(codeOf(await drivers[0]!.call('POST', `/carpools/${full.id}/reservations`)), 'MATE-008');
      assert.equal(codeOf(await holder!.call('POST', `/carpools/${full.id}/reservations`)), 'MATE-003');
      assert.equal(codeOf(await drivers[1]!.call('POST', `/carpools/${full.id}/reservations`)), 'MATE-003');
      const [stranger] = await quickMembers(t, 1);
      assert.equal(codeOf(await stranger!.call('POST', `/carpools/${full.id}/reservations`)), 'MATE-002');
      assert.deepEqual(await seatState(t, full.id), { seatsTaken: 1, capacity: 1, activePassengers: 1 });
      assert.deepEqual(await seatState(t, other.id), { seatsTaken: 1, capacity: 3, activePassengers: 1 });
    });

    it('MATE-001 for a carpool that does not exist, and 400 for an id that is not one', async () => {
      const [m] = await quickMembers(t, 1);
      for (const [method, path] of [
        ['GET', '/carpools/999999'],
        ['POST', '/carpools/999999/reservations'],
        ['DELETE', '/carpools/999999'],
        ['DELETE', '/carpools/999999/reservations/me'],
      ] as const) {
        const res = await m!.call(method, path);
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.code, 'MATE-001', `${method} ${path}`);
      }
      assert.equal(codeOf(await m!.call('GET', '/carpools/abc')), 'REQUEST-001');
    });

    it('rule 5: a passenger cancels; the seat is free at once, and it may reserve again (MATE-004 with nothing to cancel)', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const c = await postCarpool(t, driver!, { capacity: 1 });
      const [p, q] = await quickMembers(t, 2);
      assert.equal((await p!.call('POST', `/carpools/${c.id}/reservations`)).status, 201);
      assert.equal(codeOf(await q!.call('POST', `/carpools/${c.id}/reservations`)), 'MATE-002');
      assert.equal(codeOf(await q!.call('DELETE', `/carpools/${c.id}/reservations/me`)), 'MATE-004');
      assert.equal(codeOf(await driver!.call('DELETE', `/carpools/${c.id}/reservations/me`)), 'MATE-004');

      assert.equal((await p!.call('DELETE', `/carpools/${c.id}/reservations/me`)).status, 204);
      assert.deepEqual(await seatState(t, c.id), { seatsTaken: 0, capacity: 1, activePassengers: 0 });
      assert.equal((await q!.call('GET', `/carpools/${c.id}`)).body.seatsTaken, 0);
      assert.equal(codeOf(await p!.call('DELETE', `/carpools/${c.id}/reservations/me`)), 'MATE-004');
      assert.equal((await q!.call('POST', `/carpools/${c.id}/reservations`)).status, 201);
      // The one who cancelled is free again today: it can post, being a driver, or reserve elsewhere.
      assert.equal((await p!.call('GET', '/me/carpool')).body.status, 'none');
    });

    it('rule 6: the driver deletes its carpool (others get MATE-007); passengers are told and free to reserve another today', async () => {
      const [d1, d2] = await quickMembers(t, 2, { driver: true });
      const c1 = await postCarpool(t, d1!, { capacity: 3 });
      const c2 = await postCarpool(t, d2!, { capacity: 3 });
      const [p1, p2, stranger] = await quickMembers(t, 3);
      for (const p of [p1, p2]) assert.equal((await p!.call('POST', `/carpools/${c1.id}/reservations`)).status, 201);

      assert.equal(codeOf(await stranger!.call('DELETE', `/carpools/${c1.id}`)), 'MATE-007');
      assert.equal(codeOf(await p1!.call('DELETE', `/carpools/${c1.id}`)), 'MATE-007');
      assert.equal((await d1!.call('DELETE', `/carpools/${c1.id}`)).status, 204);

      const seen = await p1!.call('GET', '/me/carpool');
      assert.equal(seen.status, 200);
      assert.equal(seen.body.status, 'cancelled');
      assert.equal(seen.body.carpool.id, c1.id);
      assert.match(seen.body.detail, /deleted/);
      assert.ok(seen.body.cancelledAt);
      assert.equal(codeOf(await p1!.call('GET', `/carpools/${c1.id}`)), 'MATE-001');
      assert.equal(codeOf(await stranger!.call('POST', `/carpools/${c1.id}/reservations`)), 'MATE-001');
      assert.equal(codeOf(await d1!.call('DELETE', `/carpools/${c1.id}`)), 'MATE-001');
      assert.equal(
        (await t.deps.db('participations').where('carpool_id', c1.id).whereNotNull('active_day').count({ n: '*' }))[0]!.n,
        0,
        'every participation of the deleted carpool ended with it',
      );

      // Free again the same day.
      const again = await p1!.call('POST', `/carpools/${c2.id}/reservations`);
      assert.equal(again.status, 201);
      const now = await p1!.call('GET', '/me/carpool');
      assert.equal(now.body.status, 'active');
      assert.equal(now.body.carpool.id, c2.id);
      // The driver who deleted may drive again today.
      assert.equal((await d1!.call('POST', '/carpools', { body: carpoolBody(t) })).status, 201);
    });

    it('rule 7: my carpool shows today’s carpool with its passengers (nickname, profile image) and whether I drive it', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const [p1, p2, idle] = await quickMembers(t, 3);
      const c = await postCarpool(t, driver!);
      await p1!.call('POST', `/carpools/${c.id}/reservations`);
      await p2!.call('POST', `/carpools/${c.id}/reservations`);

      const asDriver = await driver!.call('GET', '/me/carpool');
      assert.equal(asDriver.status, 200);
      assert.equal(asDriver.body.status, 'active');
      assert.equal(asDriver.body.amIDriver, true);
      assert.equal(asDriver.body.carpool.id, c.id);
      assert.equal(asDriver.body.carpool.seatsTaken, 2);
      assert.deepEqual(
        asDriver.body.passengers.map((p: { nickname: string }) => p.nickname),
        [p1!.nickname, p2!.nickname],
      );
      for (const p of asDriver.body.passengers) assert.ok('profileImageUrl' in p);

      const asPassenger = await p2!.call('GET', '/me/carpool');
      assert.equal(asPassenger.body.amIDriver, false);
      assert.equal(asPassenger.body.carpool.id, c.id);
      assert.equal(asPassenger.body.passengers.length, 2);

      const nothing = await idle!.call('GET', '/me/carpool');
      assert.equal(nothing.status, 200);
      assert.equal(nothing.body.status, 'none');
      assert.equal(nothing.body.carpool, null);
    });

    it('MATE-010: after departure a carpool can no longer be reserved, cancelled or deleted', async () => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      const [p, q] = await quickMembers(t, 2);
      const c = await postCarpool(t, driver!, { inMinutes: 30 });
      assert.equal((await p!.call('POST', `/carpools/${c.id}/reservations`)).status, 201);
      t.clock.advance(31 * 60_000);
      try {
        assert.equal(codeOf(await q!.call('POST', `/carpools/${c.id}/reservations`)), 'MATE-010');
        assert.equal(codeOf(await p!.call('DELETE', `/carpools/${c.id}/reservations/me`)), 'MATE-010');
        assert.equal(codeOf(await driver!.call('DELETE', `/carpools/${c.id}`)), 'MATE-010');
      } finally {
        t.clock.set(MORNING);
      }
    });
  });
}

describe("rule 9: today's lists (MariaDB)", () => {
  let t: TestApp;
  let viewer: TestMember;
  const ids: Record<string, number> = {};
  before(async () => {
    t = await startTestApp({ now: MORNING });
    viewer = await newMember(t);
    const drivers = await quickMembers(t, 6, { driver: true });
    // Posted in this order, a minute apart; two share a departure, three share a cost.
    const plan = [
      { name: 'a', inMinutes: 120, cost: 5000, capacity: 1 },
      { name: 'b', inMinutes: 60, cost: 3000, capacity: 2 },
      { name: 'c', inMinutes: 90, cost: 3000, capacity: 3 },
      { name: 'd', inMinutes: 60, cost: 1000, capacity: 4 },
      { name: 'e', inMinutes: 150, cost: 3000, capacity: 1 },
      { name: 'f', inMinutes: 30, cost: 8000, capacity: 2 },
    ];
    for (const [i, p] of plan.entries()) {
      ids[p.name] = (await postCarpool(t, drivers[i]!, { inMinutes: p.inMinutes - i, cost: p.cost, capacity: p.capacity })).id;
      t.clock.advance(60_000);
    }
    // Fill 'a' and 'e' (one seat each).
    const riders = await quickMembers(t, 2);
    await riders[0]!.call('POST', `/carpools/${ids.a}/reservations`);
    await riders[1]!.call('POST', `/carpools/${ids.e}/reservations`);
  });
  after(() => t.close());

  const names = (items: Array<{ id: number }>) => items.map((c) => Object.keys(ids).find((k) => ids[k] === c.id));
  const list = async (query: string) => {
    const res = await viewer.call('GET', `/carpools${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  it('newest first (the default), earliest departure first, cheapest first; ties in id order', async () => {
    assert.deepEqual(names((await list('')).items), ['f', 'e', 'd', 'c', 'b', 'a']);
    assert.deepEqual(names((await list('?sort=latest')).items), ['f', 'e', 'd', 'c', 'b', 'a']);
    // departures: a 120, b 60, c 90, d 60, e 150, f 30 minutes after the start; b and d tie
    assert.deepEqual(names((await list('?sort=departure')).items), ['f', 'b', 'd', 'c', 'a', 'e']);
    assert.deepEqual(names((await list('?sort=cost')).items), ['d', 'b', 'c', 'e', 'a', 'f']);
  });

  it('only those with free seats', async () => {
    assert.deepEqual(names((await list('?available=true')).items), ['f', 'd', 'c', 'b']);
    assert.deepEqual(names((await list('?sort=cost&available=true')).items), ['d', 'b', 'c', 'f']);
    assert.deepEqual(names((await list('?available=false')).items), ['f', 'e', 'd', 'c', 'b', 'a']);
  });

  it('each item carries the driver’s nickname, images and car number, place, coordinates, departure, chat link, capacity, cost, seats', async () => {
    const body = await list('?sort=cost');
    assert.equal(body.serviceDay, MORNING_DAY);
    const a = body.items.find((c: { id: number }) => c.id === ids.a);
    for (const key of ['departurePlace', 'latitude', 'longitude', 'departureAt', 'chatLink', 'capacity', 'cost', 'seatsTaken'])
      assert.ok(key in a, key);
    for (const key of ['nickname', 'profileImageUrl', 'carNumber', 'carImageUrl']) assert.ok(key in a.driver, key);
    assert.equal(a.seatsTaken, 1);
    assert.equal(a.capacity, 1);
  });

  it('pages through every order with a cursor: no item twice, none missed, ties stable; size is bounded', async () => {
    for (const sort of ['latest', 'departure', 'cost']) {
      const whole = names((await list(`?sort=${sort}`)).items);
      const seen: unknown[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Array<{ id: number }>; nextCursor: string | null } = await list(
          `?sort=${sort}&size=4${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(page.items.length <= 4);
        seen.push(...names(page.items));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 2);
      assert.deepEqual(seen, whole, sort);
    }
    const one = await list('?sort=cost&size=2');
    const next = await list(`?sort=cost&size=2&cursor=${one.nextCursor}`);
    assert.deepEqual(names(next.items), ['c', 'e'], 'three carpools cost 3000: id breaks the tie across pages');
    assert.equal(codeOf(await viewer.call('GET', '/carpools?size=51')), 'REQUEST-001');
    assert.equal(codeOf(await viewer.call('GET', '/carpools?size=0')), 'REQUEST-001');
    assert.equal(codeOf(await viewer.call('GET', '/carpools?cursor=bm90LWEtY3Vyc29y')), 'REQUEST-001');
    assert.equal(codeOf(await viewer.call('GET', '/carpools?sort=cheapest')), 'REQUEST-001');
    assert.equal((await list('?size=50')).items.length, 6);
  });

  it('lists are for members: no token is AUTH-005', async () => {
    const res = await fetch(`${t.url}/api/v1/carpools`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'AUTH-005');
  });
});
