import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient } from '../../testing/http.js';
import { newMember, type TestMember } from '../auth/fixtures.js';
import { MORNING, MORNING_DAY, codeOf, postCarpool, quickMembers } from '../carpools/fixtures.js';

const report = { title: '불친절', content: '운전이 난폭했습니다.' };

/** Rule 11 through the API, and the admin and ban guards on every call. */
describe('administration (MariaDB)', () => {
  let t: TestApp;
  let admin: TestMember, member: TestMember;
  let drivers: TestMember[], riders: TestMember[];
  const carpools: number[] = [];
  let deletedId: number;
  const reportIds: number[] = [];

  before(async () => {
    t = await startTestApp({ now: MORNING, env: { ACCESS_TOKEN_TTL_SECONDS: '86400' } });
    admin = await newMember(t, { admin: true });
    member = await newMember(t);
    drivers = await quickMembers(t, 5, { driver: true });
    riders = await quickMembers(t, 6);
    // Yesterday: two carpools, one reported by both of its riders.
    t.clock.set('2026-03-01T06:00:00+09:00');
    carpools.push((await postCarpool(t, drivers[0]!)).id, (await postCarpool(t, drivers[1]!)).id);
    for (const r of [riders[0]!, riders[1]!]) assert.equal((await r.call('POST', `/carpools/${carpools[0]}/reservations`)).status, 201);
    for (const r of [riders[0]!, riders[1]!]) {
      const res = await r.call('POST', `/carpools/${carpools[0]}/reports`, { body: report });
      assert.equal(res.status, 201);
      reportIds.push(res.body.id);
    }
    // Today (MORNING_DAY): three carpools; a cancelled reservation; a deleted carpool with a passenger.
    t.clock.set(MORNING);
    for (const d of drivers.slice(2)) carpools.push((await postCarpool(t, d)).id);
    assert.equal((await riders[2]!.call('POST', `/carpools/${carpools[2]}/reservations`)).status, 201);
    assert.equal((await riders[3]!.call('POST', `/carpools/${carpools[2]}/reservations`)).status, 201);
    assert.equal((await riders[3]!.call('DELETE', `/carpools/${carpools[2]}/reservations/me`)).status, 204);
    assert.equal((await riders[4]!.call('POST', `/carpools/${carpools[4]}/reservations`)).status, 201);
    assert.equal((await drivers[4]!.call('DELETE', `/carpools/${carpools[4]}`)).status, 204);
    deletedId = carpools[4]!;
    const r = await riders[2]!.call('POST', `/carpools/${carpools[2]}/reports`, { body: report });
    assert.equal(r.status, 201);
    reportIds.push(r.body.id);
  });
  after(() => t.close());

  const ADMIN_CALLS: Array<[string, string, unknown?]> = [
    ['GET', '/admin/members'],
    ['GET', '/admin/members?role=driver'],
    ['GET', '/admin/members/1'],
    ['PUT', '/admin/members/1/ban', { banned: true }],
    ['GET', '/admin/carpools'],
    ['GET', '/admin/carpools/1'],
    ['GET', '/admin/reports'],
    ['GET', '/admin/reports/1'],
    ['POST', '/admin/reports/1/process'],
  ];

  it('every admin call refuses a member who is not an admin (AUTH-403) and a caller without a token (AUTH-005)', async () => {
    const anonymous = httpClient(t.url);
    for (const [method, path, body] of ADMIN_CALLS) {
      const res = await member.call(method, path, { body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, 'AUTH-403', `${method} ${path}`);
      assert.equal(codeOf(await anonymous(method, path, { body })), 'AUTH-005', `${method} ${path}`);
    }
    assert.equal((await t.deps.db('members').where('id', 1).first('banned_at')).banned_at, null);
    assert.equal((await t.deps.db('reports').whereNotNull('processed_at').count({ n: '*' }))[0]!.n, 0);
  });

  it('lists members, all or only drivers, a page at a time with the total; pages are stable and bounded', async () => {
    const all = await admin.call('GET', '/admin/members?size=100');
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 13);
    assert.equal(all.body.items.length, 13);
    const ids = all.body.items.map((m: { id: number }) => m.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a: number, b: number) => b - a),
      'newest first',
    );
    const paged: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await admin.call('GET', `/admin/members?size=5&page=${page}`);
      assert.equal(res.body.total, 13);
      assert.equal(res.body.page, page);
      assert.equal(res.body.size, 5);
      paged.push(...res.body.items.map((m: { id: number }) => m.id));
    }
    assert.deepEqual(paged, ids);
    assert.deepEqual((await admin.call('GET', '/admin/members?size=5&page=4')).body.items, []);

    const onlyDrivers = await admin.call('GET', '/admin/members?role=driver');
    assert.equal(onlyDrivers.body.total, 5);
    assert.ok(onlyDrivers.body.items.every((m: { isDriver: boolean }) => m.isDriver));
    for (const q of ['size=101', 'size=0', 'page=0', 'role=admin', 'page=x'])
      assert.equal(codeOf(await admin.call('GET', `/admin/members?${q}`)), 'REQUEST-001', q);
  });

  it('shows one member (ACCOUNT-001 when unknown)', async () => {
    const res = await admin.call('GET', `/admin/members/${drivers[0]!.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.nickname, drivers[0]!.nickname);
    assert.equal(res.body.isDriver, true);
    assert.equal(codeOf(await admin.call('GET', '/admin/members/999999')), 'ACCOUNT-001');
  });

  it('lists carpools of a range of service days with their passengers, deleted ones too; ties ordered by id', async () => {
    const today = await admin.call('GET', `/admin/carpools?from=${MORNING_DAY}&to=${MORNING_DAY}`);
    assert.equal(today.status, 200);
    assert.equal(today.body.total, 3);
    assert.deepEqual(
      today.body.items.map((c: { id: number }) => c.id),
      [carpools[4], carpools[3], carpools[2]],
    );
    const withCancel = today.body.items.find((c: { id: number }) => c.id === carpools[2]);
    assert.deepEqual(
      withCancel.passengers.map((p: { memberId: number; status: string }) => [p.memberId, p.status]),
      [
        [riders[2]!.id, 'active'],
        [riders[3]!.id, 'cancelled'],
      ],
    );
    assert.equal(withCancel.passengers[0].nickname, riders[2]!.nickname);
    const deleted = today.body.items.find((c: { id: number }) => c.id === deletedId);
    assert.ok(deleted.deletedAt);
    assert.deepEqual(
      deleted.passengers.map((p: { status: string }) => p.status),
      ['carpool_deleted'],
    );

    const both = await admin.call('GET', '/admin/carpools?from=2026-02-28&size=2');
    assert.equal(both.body.total, 5);
    const pages = [both.body.items];
    for (let page = 2; page <= 3; page++)
      pages.push((await admin.call('GET', `/admin/carpools?from=2026-02-28&size=2&page=${page}`)).body.items);
    assert.deepEqual(
      pages.flat().map((c: { id: number }) => c.id),
      [carpools[4], carpools[3], carpools[2], carpools[1], carpools[0]],
      'newest service day first, then id: no carpool twice or missed across pages',
    );
    assert.equal((await admin.call('GET', '/admin/carpools?to=2026-02-28')).body.total, 2, 'yesterday is the 2026-02-28 service day');
    assert.equal((await admin.call('GET', '/admin/carpools')).body.total, 5);
    for (const q of ['from=2026-03-02&to=2026-03-01', 'from=2026-02-30', 'to=yesterday', 'size=101'])
      assert.equal(codeOf(await admin.call('GET', `/admin/carpools?${q}`)), 'REQUEST-001', q);
  });

  it('shows one carpool with its passengers, deleted ones too (MATE-001 when unknown)', async () => {
    const res = await admin.call('GET', `/admin/carpools/${deletedId}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.deletedAt);
    assert.equal(res.body.passengers[0].memberId, riders[4]!.id);
    assert.equal(codeOf(await admin.call('GET', '/admin/carpools/999999')), 'MATE-001');
  });

  it('lists reports: all, of one carpool, processed or not; shows one (REPORT-001 when unknown); marks one processed', async () => {
    const all = await admin.call('GET', '/admin/reports');
    assert.equal(all.body.total, 3);
    assert.deepEqual(
      all.body.items.map((r: { id: number }) => r.id),
      [...reportIds].reverse(),
    );
    const ofCarpool = await admin.call('GET', `/admin/reports?carpoolId=${carpools[0]}`);
    assert.equal(ofCarpool.body.total, 2);
    assert.ok(ofCarpool.body.items.every((r: { carpoolId: number }) => r.carpoolId === carpools[0]));
    assert.equal((await admin.call('GET', '/admin/reports?size=1&page=2')).body.items[0].id, reportIds[1]);

    const one = await admin.call('GET', `/admin/reports/${reportIds[0]}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.reporter.id, riders[0]!.id);
    assert.equal(one.body.carpool.id, carpools[0]);
    assert.equal(one.body.processed, false);
    assert.equal(codeOf(await admin.call('GET', '/admin/reports/999999')), 'REPORT-001');
    assert.equal(codeOf(await admin.call('POST', '/admin/reports/999999/process')), 'REPORT-001');

    const processed = await admin.call('POST', `/admin/reports/${reportIds[0]}/process`);
    assert.equal(processed.status, 200);
    assert.equal(processed.body.processed, true);
    assert.equal(processed.body.processedBy, admin.id);
    const again = await admin.call('POST', `/admin/reports/${reportIds[0]}/process`);
    assert.equal(again.body.processedAt, processed.body.processedAt, 'processing twice changes nothing');

    assert.deepEqual(
      (await admin.call('GET', '/admin/reports?processed=true')).body.items.map((r: { id: number }) => r.id),
      [reportIds[0]],
    );
    assert.equal((await admin.call('GET', '/admin/reports?processed=false')).body.total, 2);
    assert.equal((await admin.call('GET', `/admin/reports?carpoolId=${carpools[0]}&processed=false`)).body.total, 1);
    assert.equal(codeOf(await admin.call('GET', '/admin/reports?processed=yes')), 'REQUEST-001');
  });

  it('an admin cannot ban itself (ACCOUNT-010); banning an unknown member is ACCOUNT-001', async () => {
    const res = await admin.call('PUT', `/admin/members/${admin.id}/ban`, { body: { banned: true } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'ACCOUNT-010');
    assert.equal(codeOf(await admin.call('PUT', '/admin/members/999999/ban', { body: { banned: true } })), 'ACCOUNT-001');
    assert.equal(codeOf(await admin.call('PUT', `/admin/members/${member.id}/ban`, { body: { banned: 'yes' } })), 'REQUEST-001');
  });

  it("a ban ends the member's sessions: its existing token fails every member call with ACCOUNT-006; an unban lets it sign in again", async () => {
    const target = await newMember(t, { driver: true });
    assert.equal((await target.call('GET', '/carpools')).status, 200);

    const ban = await admin.call('PUT', `/admin/members/${target.id}/ban`, { body: { banned: true } });
    assert.equal(ban.status, 200);
    assert.equal(ban.body.banned, true);

    const memberCalls: Array<[string, string, unknown?]> = [
      ['GET', '/me'],
      ['GET', '/carpools'],
      [
        'POST',
        '/carpools',
        {
          departurePlace: 'x',
          latitude: 1,
          longitude: 1,
          departureAt: '2026-03-02T08:00:00+09:00',
          chatLink: 'https://a.example/x',
          capacity: 1,
          cost: 0,
        },
      ],
      ['GET', `/carpools/${carpools[2]}`],
      ['DELETE', `/carpools/${carpools[2]}`],
      ['POST', `/carpools/${carpools[3]}/reservations`],
      ['DELETE', `/carpools/${carpools[3]}/reservations/me`],
      ['POST', `/carpools/${carpools[0]}/reports`, report],
      ['GET', '/me/carpool'],
      ['GET', '/me/rides'],
      ['GET', '/me/drives'],
    ];
    for (const [method, path, body] of memberCalls) {
      const res = await target.call(method, path, { body });
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'ACCOUNT-006', `${method} ${path}`);
    }
    const call = httpClient(t.url);
    assert.equal(
      codeOf(await call('POST', '/auth/signin', { body: { loginId: target.loginId, password: target.password } })),
      'ACCOUNT-006',
    );
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: target.refreshToken } })).status, 401);
    assert.equal((await admin.call('GET', `/admin/members/${target.id}`)).body.banned, true);

    const unban = await admin.call('PUT', `/admin/members/${target.id}/ban`, { body: { banned: false } });
    assert.equal(unban.body.banned, false);
    assert.equal(codeOf(await target.call('GET', '/me')), 'AUTH-001', 'the sessions the ban ended stay ended');
    const back = await call('POST', '/auth/signin', { body: { loginId: target.loginId, password: target.password } });
    assert.equal(back.status, 200);
    assert.equal((await call('GET', '/carpools', { token: back.body.accessToken })).status, 200);
  });
});
