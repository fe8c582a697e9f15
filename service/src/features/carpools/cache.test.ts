import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { testServices } from '../../testing/env.js';
import { startTcpProxy } from '../../testing/tcp-proxy.js';
import type { TestMember } from '../auth/fixtures.js';
import { legacyClient, ok } from '../legacy/fixtures.js';
import { MORNING, postCarpool, quickMembers } from './fixtures.js';

type Proxy = Awaited<ReturnType<typeof startTcpProxy>>;

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

/**
 * Rule 3's "the seat count shown always equals the reservations", with
 * today's lists cached in Redis; and the lists answering while Redis is away.
 * Redis is reached through a proxy this test can cut, never stopped.
 */
describe("today's lists in Redis (MariaDB + Redis)", () => {
  let t: TestApp;
  let redis: Proxy;
  let viewer: TestMember;
  let driver1: TestMember, driver2: TestMember;
  let riders: TestMember[];
  let c1: number, c2: number;
  before(async () => {
    const redisUrl = new URL(testServices().redisUrl);
    redis = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    t = await startTestApp({
      now: MORNING,
      // A long TTL: only invalidation can make these lists fresh.
      env: { CARPOOL_LIST_CACHE_TTL_SECONDS: '3600', FILES_PRESIGN_TTL_SECONDS: '7200' },
      rewriteUrls: (u) => ({ ...u, redis: Object.assign(new URL(u.redis), { port: String(redis.port) }).toString() }),
    });
    viewer = (await quickMembers(t, 1))[0]!;
    const drivers = await quickMembers(t, 2, { driver: true });
    [driver1, driver2] = [drivers[0]!, drivers[1]!];
    riders = await quickMembers(t, 3);
    c1 = (await postCarpool(t, driver1, { capacity: 2, cost: 1000 })).id;
    c2 = (await postCarpool(t, driver2, { capacity: 2, cost: 2000 })).id;
  });
  after(async () => {
    await t.close();
    await redis.close();
  });

  const QUERIES = ['', '?sort=departure', '?sort=cost', '?available=true', '?sort=cost&available=true&size=1'];
  /** Every variant of the list, as a viewer sees it: id → seats taken. */
  async function shown(): Promise<Array<Record<number, number>>> {
    return Promise.all(
      QUERIES.map(async (q) => {
        const res = await viewer.call('GET', `/carpools${q}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return Object.fromEntries(res.body.items.map((c: { id: number; seatsTaken: number }) => [c.id, c.seatsTaken]));
      }),
    );
  }

  it('serves lists from the cache (a change made behind the service’s back is not seen)', async () => {
    const first = await viewer.call('GET', '/carpools');
    await t.deps.db('carpools').where('id', c1).update({ departure_place: '바뀐 장소' });
    const second = await viewer.call('GET', '/carpools');
    assert.deepEqual(second.body, first.body, 'the second read came from Redis');
    await t.deps.db('carpools').where('id', c1).update({ departure_place: '수원시 권선구 오목천동' });
  });

  it('after a reservation, a cancellation and a deletion, every list shows the new seat count at once', async () => {
    await shown(); // warm every variant
    assert.equal((await riders[0]!.call('POST', `/carpools/${c1}/reservations`)).status, 201);
    for (const v of await shown()) if (c1 in v) assert.equal(v[c1], 1);

    assert.equal((await riders[1]!.call('POST', `/carpools/${c1}/reservations`)).status, 201);
    const full = await shown();
    assert.equal(full[0]![c1], 2);
    assert.ok(!(c1 in full[3]!), 'a full carpool leaves the "available" list at once');

    assert.equal((await riders[0]!.call('DELETE', `/carpools/${c1}/reservations/me`)).status, 204);
    const freed = await shown();
    assert.equal(freed[0]![c1], 1);
    assert.equal(freed[3]![c1], 1, 'and comes back when a seat is free');

    assert.equal((await riders[2]!.call('POST', `/carpools/${c2}/reservations`)).status, 201);
    assert.equal((await shown())[0]![c2], 1);
    assert.equal((await driver2.call('DELETE', `/carpools/${c2}`)).status, 204);
    for (const v of await shown()) assert.ok(!(c2 in v), 'a deleted carpool leaves every list at once');
  });

  it('the legacy lists are cached as rendered, under the same versions: a write shows in them at once', async () => {
    const legacy = legacyClient(t, { access: viewer.accessToken });
    const LEGACY = ['/api/carpool/list', '/api/carpool/active', '/api/carpool/fast', '/api/carpool/low'];
    const legacyShown = () =>
      Promise.all(
        LEGACY.map(async (path) => {
          const res = await legacy.request('GET', path);
          assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
          const items: Array<{ carpoolId: number; reservationCount: number; departureCoordinate: string }> = ok(res, /./);
          return new Map(items.map((c) => [c.carpoolId, c]));
        }),
      );
    const place = (await legacyShown())[0]!.get(c1)!.departureCoordinate;
    await t.deps.db('carpools').where('id', c1).update({ departure_place: '바뀐 장소' });
    for (const list of await legacyShown()) if (list.has(c1)) assert.equal(list.get(c1)!.departureCoordinate, place, 'served as rendered');

    const seats = (await legacyShown())[0]!.get(c1)!.reservationCount;
    assert.equal((await riders[1]!.call('DELETE', `/carpools/${c1}/reservations/me`)).status, 204);
    for (const list of await legacyShown()) {
      if (!list.has(c1)) continue;
      assert.equal(list.get(c1)!.reservationCount, seats - 1);
      assert.equal(list.get(c1)!.departureCoordinate, '바뀐 장소', 'rendered again after the write');
    }
    await t.deps.db('carpools').where('id', c1).update({ departure_place: place });
    assert.equal((await riders[1]!.call('POST', `/carpools/${c1}/reservations`)).status, 201);
  });

  it('with Redis unreachable the lists (and reservations) still answer, from the database; fresh again once it returns', async () => {
    await shown();
    redis.cut();
    try {
      const during = await shown(); // 200s, asserted inside
      assert.equal(during[0]![c1], 1);
      // A write while Redis is away: its invalidation fails, the call does not.
      assert.equal((await riders[0]!.call('POST', `/carpools/${c1}/reservations`)).status, 201);
      assert.equal((await shown())[0]![c1], 2, 'read from the database');
    } finally {
      redis.restore();
    }
    await eventually(async () => {
      try {
        await t.deps.kv.ping();
        return true;
      } catch {
        return false;
      }
    });
    // The cache holds the page from before the outage; the failed invalidation is retried first.
    for (const v of await shown()) if (c1 in v) assert.equal(v[c1], 2);
  });
});

describe("today's lists: how long a cached page lives", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ now: MORNING, env: { CARPOOL_LIST_CACHE_TTL_SECONDS: '2', FILES_PRESIGN_TTL_SECONDS: '60' } });
  });
  after(() => t.close());

  it('a page (presigned image URLs and all) is served at most 1.5 × the TTL after it was built, then rebuilt', async () => {
    const [viewer] = await quickMembers(t, 1);
    const [driver] = await quickMembers(t, 1, { driver: true });
    const id = (await postCarpool(t, driver!)).id;
    const place = async () => (await viewer!.call('GET', '/carpools')).body.items.find((c: { id: number }) => c.id === id).departurePlace;
    const before = await place();
    const changedAt = Date.now();
    await t.deps.db('carpools').where('id', id).update({ departure_place: '바뀐 장소' });
    assert.equal(await place(), before, 'served from the cache at first');
    await eventually(async () => (await place()) === '바뀐 장소', 5_000);
    const seen = Date.now() - changedAt;
    assert.ok(seen <= 3_000 + 250, `the old page was served for ${seen} ms, past 1.5 × 2 s`);
  });
});

describe("today's lists: a page missed by many calls at once", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ now: MORNING, env: { CARPOOL_LIST_CACHE_TTL_SECONDS: '3600', FILES_PRESIGN_TTL_SECONDS: '7200' } });
  });
  after(() => t.close());

  it('is built once, not once per call (a write makes every page miss at once)', async () => {
    const [viewer] = await quickMembers(t, 1);
    let queries = 0;
    t.deps.db.on('query', () => queries++);
    /** Database queries that `calls` simultaneous calls of the list make, right after a write. */
    const queriesOf = async (calls: number) => {
      const [driver] = await quickMembers(t, 1, { driver: true });
      await postCarpool(t, driver!); // a new list version: every page misses
      queries = 0;
      const answers = await Promise.all(Array.from({ length: calls }, () => viewer!.call('GET', '/carpools')));
      for (const res of answers) assert.equal(res.status, 200);
      assert.equal(new Set(answers.map((res) => JSON.stringify(res.body))).size, 1);
      return queries;
    };
    const one = await queriesOf(1);
    assert.ok(one > 0, 'the first call after a write reads the database');
    assert.equal(await queriesOf(10), one, 'ten calls at once read it as often as one');
  });
});
