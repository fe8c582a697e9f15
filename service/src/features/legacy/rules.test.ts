import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../platform/http/errors.js';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import type { TestMember } from '../auth/fixtures.js';
import { carpoolBody, MORNING, postCarpool, quickMembers, seatState } from '../carpools/fixtures.js';
import type { NewCarpool } from '../carpools/rules.js';
import { legacyClient, ok, predecessorError, LEGACY_CARPOOL } from './fixtures.js';

/** The legacy body for a /api/v1 carpool body: the predecessor's names, departure as a local date-time. */
function legacyCarpool(t: TestApp, b: NewCarpool) {
  return {
    departureCoordinate: b.departurePlace,
    latitude: b.latitude,
    longitude: b.longitude,
    departureTime: t.services.calendar.localDateTime(new Date(b.departureAt)),
    chatLink: b.chatLink,
    capacity: b.capacity,
    cost: b.cost,
  };
}

const rejectsAsInvalid = (work: Promise<unknown>) =>
  assert.rejects(work, (e: unknown) => e instanceof AppError && e.code === 'REQUEST-001');

describe('one rule set behind both APIs: out-of-range input is refused by /api/v1, the legacy adapter and the services alike', () => {
  let t: TestApp;
  let driver: TestMember;
  before(async () => {
    t = await startTestApp({ now: MORNING });
    driver = (await quickMembers(t, 1, { driver: true }))[0]!;
  });
  after(() => t.close());

  const bad: Array<[string, Partial<NewCarpool>]> = [
    ['capacity 0', { capacity: 0 }],
    ['capacity -5', { capacity: -5 }],
    ['capacity 1.5', { capacity: 1.5 }],
    ['capacity 100000', { capacity: 100_000 }],
    ['cost -1000', { cost: -1000 }],
    ['cost 0.5', { cost: 0.5 }],
    ['latitude 999', { latitude: 999 }],
    ['an empty place', { departurePlace: '' }],
    ['a 5000-character place', { departurePlace: '가'.repeat(5000) }],
    ['a javascript: chat link (stored XSS)', { chatLink: 'javascript:alert(document.cookie)' }],
  ];

  for (const [what, override] of bad) {
    it(`a carpool with ${what}`, async () => {
      const body = carpoolBody(t, override);
      const v1 = await driver.call('POST', '/carpools', { body });
      assert.deepEqual([v1.status, v1.body.code], [400, 'REQUEST-001'], JSON.stringify(v1.body));
      predecessorError(
        await legacyClient(t, { access: driver.accessToken }).send('POST', '/api/carpool', legacyCarpool(t, body)),
        '입력값 오류',
      );
      await rejectsAsInvalid(t.services.carpools.post(driver.id, body));
      assert.equal((await t.services.carpools.myCarpool(driver.id)).status, 'none', 'nothing was stored');
    });
  }

  it('the same carpool, valid, is taken by both (so the refusals above are about the values)', async () => {
    const body = carpoolBody(t, { capacity: 1, cost: 0 });
    const posted = ok(
      await legacyClient(t, { access: driver.accessToken }).send('POST', '/api/carpool', legacyCarpool(t, body)),
      '카풀 생성 성공',
    );
    assert.deepEqual([posted.capacity, posted.cost], [1, 0]);
    await t.services.carpools.deleteCarpool(driver.id, posted.carpoolId);
    assert.equal((await driver.call('POST', '/carpools', { body })).status, 201);
  });

  it('a reservation id is a JSON number: arrays, padded strings and hex are refused, and reserve nothing', async () => {
    const [other] = await quickMembers(t, 1, { driver: true });
    const [rider] = await quickMembers(t, 1);
    const { id } = await postCarpool(t, other!);
    const legacy = legacyClient(t, { access: rider!.accessToken });
    for (const carpoolId of [[id], ` ${id} `, `0x${id.toString(16)}`, String(id), `${id}.0`, true]) {
      predecessorError(await legacy.send('POST', '/api/carpool/reservation', { carpoolId }), '입력값 오류');
      await rejectsAsInvalid(t.services.carpools.reserve(rider!.id, carpoolId as never));
    }
    for (const path of [`0x${id.toString(16)}`, `%20${id}%20`, `${id}.0`, `+${id}`])
      assert.deepEqual((await rider!.call('POST', `/carpools/${path}/reservations`)).body.code, 'REQUEST-001', path);
    assert.equal((await seatState(t, id)).seatsTaken, 0, 'nothing reserved');
    assert.equal(ok(await legacy.send('POST', '/api/carpool/reservation', { carpoolId: id }), '카풀 예약 성공'), id);
  });

  it('a passenger who reserved through /api/v1 cannot post through the legacy path, and the reverse', async () => {
    const [a, b] = await quickMembers(t, 2, { driver: true });
    const { id } = await postCarpool(t, a!);
    assert.equal((await b!.call('POST', `/carpools/${id}/reservations`)).status, 201);
    const legacy = legacyClient(t, { access: b!.accessToken });
    predecessorError(await legacy.send('POST', '/api/carpool', LEGACY_CARPOOL), 'MATE-003');
    assert.equal((await a!.call('POST', '/carpools', { body: carpoolBody(t) })).body.code, 'MATE-003');
  });
});

describe('one rule set behind both APIs: reports', () => {
  let t: TestApp;
  let rider: TestMember;
  let carpoolId: number;
  before(async () => {
    t = await startTestApp({ now: MORNING, env: { ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600) } });
    const [driver] = await quickMembers(t, 1, { driver: true });
    rider = (await quickMembers(t, 1))[0]!;
    carpoolId = (await postCarpool(t, driver!)).id;
    assert.equal((await rider.call('POST', `/carpools/${carpoolId}/reservations`)).status, 201);
    t.clock.set('2026-03-02T12:00:00+09:00'); // the ride is over: it may be reported
  });
  after(() => t.close());

  for (const [what, title, content] of [
    ['an empty title', '', '10분 늦게 출발했습니다.'],
    ['a blank title', '   ', '10분 늦게 출발했습니다.'],
    ['50,000 characters of content', '늦었어요', 'late '.repeat(10_000)],
    ['empty content', '늦었어요', ''],
  ] as const) {
    it(`a report with ${what}`, async () => {
      const v1 = await rider.call('POST', `/carpools/${carpoolId}/reports`, { body: { title, content } });
      assert.deepEqual([v1.status, v1.body.code], [400, 'REQUEST-001'], JSON.stringify(v1.body).slice(0, 300));
      const legacy = legacyClient(t, { access: rider.accessToken });
      predecessorError(
        await legacy.send('POST', `/api/report/${carpoolId}`, { reportTitle: title, reportContent: content }),
        '입력값 오류',
      );
      await rejectsAsInvalid(t.services.reports.report(rider.id, carpoolId, { title, content }));
    });
  }

  it('a carpool id in the report path is decimal digits only', async () => {
    const legacy = legacyClient(t, { access: rider.accessToken });
    const body = { reportTitle: '늦었어요', reportContent: '10분 늦게 출발했습니다.' };
    predecessorError(await legacy.send('POST', `/api/report/0x${carpoolId.toString(16)}`, body), '입력값 오류');
    await rejectsAsInvalid(t.services.reports.report(rider.id, String(carpoolId) as never, { title: '늦었어요', content: '내용' }));
    ok(await legacy.send('POST', `/api/report/${carpoolId}`, body), '신고 접수가 완료되었습니다.');
  });
});

describe("the legacy client's departure time: its time of day, placed within the current service day", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ now: MORNING, env: { ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600) } });
  });
  after(() => t.close());

  /** What the client posts: the browser's date of today, the hour and minute picked (7 or 8 o'clock). */
  const post = (driver: TestMember, departureTime: string) =>
    legacyClient(t, { access: driver.accessToken }).send('POST', '/api/carpool', {
      departureCoordinate: '수원시 권선구 오목천동',
      latitude: 37.2431,
      longitude: 126.9534,
      departureTime,
      chatLink: 'https://open.kakao.com/o/mateRide',
      capacity: 3,
      cost: 2000,
    });
  const v1DepartureOf = async (driver: TestMember) => (await driver.call('GET', '/me/carpool')).body.carpool.departureAt;

  it('in the morning (06:00, the service day that began yesterday at 10:00), 08:00 today is this morning', async () => {
    t.clock.set('2026-03-02T06:00:00+09:00');
    const [driver] = await quickMembers(t, 1, { driver: true });
    const posted = ok(await post(driver!, '2026-03-02T08:00:00'), '카풀 생성 성공');
    assert.equal(posted.departureTime, '2026-03-02T08:00:00');
    assert.equal(await v1DepartureOf(driver!), '2026-03-01T23:00:00.000Z');
  });

  it('in the evening (21:00, the service day that began today at 10:00), 07:30 "today" is tomorrow morning, as the picker showed', async () => {
    t.clock.set('2026-03-02T21:00:00+09:00');
    const [driver] = await quickMembers(t, 1, { driver: true });
    const posted = ok(await post(driver!, '2026-03-02T07:30:00'), '카풀 생성 성공');
    assert.equal(posted.departureTime, '2026-03-03T07:30:00');
    assert.equal(await v1DepartureOf(driver!), '2026-03-02T22:30:00.000Z');
    // Only the time of day counts: the date the picker displayed lands on the same instant.
    const [second] = await quickMembers(t, 1, { driver: true });
    assert.equal(ok(await post(second!, '2026-03-03T08:05:00'), '카풀 생성 성공').departureTime, '2026-03-03T08:05:00');
  });

  it('a time already past in the service day is still refused (MATE-009)', async () => {
    t.clock.set('2026-03-03T08:10:00+09:00');
    const [driver] = await quickMembers(t, 1, { driver: true });
    const res = await post(driver!, '2026-03-03T08:00:00');
    assert.deepEqual([res.status, res.body.code], [422, 'MATE-009'], JSON.stringify(res.body));
  });
});
