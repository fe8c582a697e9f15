import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import type { TestMember } from '../auth/fixtures.js';
import { MORNING, codeOf, postCarpool, quickMembers, renew } from '../carpools/fixtures.js';

const DAY = 24 * 3_600_000;
const report = { title: '  출발 시간을 지키지 않았어요  ', content: '약속한 시간보다 30분 늦게 출발했습니다. 🚗' };

/** Rule 10: only a passenger of that carpool, not its driver, once, no later than 7 days after its departure. */
describe('reports (MariaDB)', () => {
  let t: TestApp;
  let driver: TestMember, otherDriver: TestMember;
  let rider: TestMember,
    lateRider: TestMember,
    lastMinuteRider: TestMember,
    canceller: TestMember,
    stranger: TestMember,
    jilted: TestMember;
  let carpoolId: number, departure: Date, deletedId: number;

  before(async () => {
    t = await startTestApp({ now: MORNING, env: { ACCESS_TOKEN_TTL_SECONDS: '86400' } });
    const drivers = await quickMembers(t, 2, { driver: true });
    [driver, otherDriver] = [drivers[0]!, drivers[1]!];
    const members = await quickMembers(t, 6);
    [rider, lateRider, lastMinuteRider, canceller, stranger, jilted] = members as [
      TestMember,
      TestMember,
      TestMember,
      TestMember,
      TestMember,
      TestMember,
    ];
    const c = await postCarpool(t, driver, { capacity: 8, inMinutes: 60 });
    carpoolId = c.id;
    departure = new Date(c.departureAt as string);
    for (const m of [rider, lateRider, lastMinuteRider, canceller])
      assert.equal((await m.call('POST', `/carpools/${carpoolId}/reservations`)).status, 201);
    assert.equal((await canceller.call('DELETE', `/carpools/${carpoolId}/reservations/me`)).status, 204);
    deletedId = (await postCarpool(t, otherDriver, { inMinutes: 90 })).id;
    assert.equal((await jilted.call('POST', `/carpools/${deletedId}/reservations`)).status, 201);
    assert.equal((await otherDriver.call('DELETE', `/carpools/${deletedId}`)).status, 204);
    t.clock.set(new Date(departure.getTime() + 3_600_000)); // after the ride
  });
  after(() => t.close());

  it('a passenger reports the carpool it rode: 201 with the trimmed report', async () => {
    const res = await rider.call('POST', `/carpools/${carpoolId}/reports`, { body: report });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.carpoolId, carpoolId);
    assert.equal(res.body.title, '출발 시간을 지키지 않았어요');
    assert.equal(res.body.content, '약속한 시간보다 30분 늦게 출발했습니다. 🚗');
    assert.equal(res.body.reporter.id, rider.id);
    assert.equal(res.body.processed, false);
    const row = await t.deps.db('reports').where('id', res.body.id).first('content');
    assert.equal(row.content, report.content.trim());
  });

  it('once per carpool (REPORT-005), even when sent twice at once (a unique key decides)', async () => {
    assert.equal(codeOf(await rider.call('POST', `/carpools/${carpoolId}/reports`, { body: report })), 'REPORT-005');
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => lastMinuteRider.call('POST', `/carpools/${carpoolId}/reports`, { body: report })),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    assert.deepEqual(results.filter((r) => r.status !== 201).map(codeOf), ['REPORT-005', 'REPORT-005', 'REPORT-005']);
    assert.equal(results.find((r) => r.status !== 201)!.status, 409);
  });

  it('not by its driver (REPORT-003)', async () => {
    const res = await driver.call('POST', `/carpools/${carpoolId}/reports`, { body: report });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'REPORT-003');
  });

  it('not by a member who did not ride it: never reserved, or cancelled (REPORT-004)', async () => {
    for (const m of [stranger, canceller, otherDriver]) {
      const res = await m.call('POST', `/carpools/${carpoolId}/reports`, { body: report });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'REPORT-004');
    }
  });

  it('a deleted or unknown carpool is MATE-001', async () => {
    assert.equal(codeOf(await jilted.call('POST', `/carpools/${deletedId}/reports`, { body: report })), 'MATE-001');
    assert.equal(codeOf(await jilted.call('POST', '/carpools/987654/reports', { body: report })), 'MATE-001');
  });

  it('validates title (1–250) and content (1–2,000)', async () => {
    for (const body of [
      { ...report, title: '   ' },
      { ...report, title: '가'.repeat(251) },
      { ...report, content: '' },
      { ...report, content: '가'.repeat(2001) },
      { title: report.title },
    ]) {
      const res = await lateRider.call('POST', `/carpools/${carpoolId}/reports`, { body });
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.code, 'REQUEST-001');
    }
    const longest = await lateRider.call('POST', `/carpools/${carpoolId}/reports`, {
      body: { title: '가'.repeat(250), content: '나'.repeat(2000) },
    });
    assert.equal(longest.status, 201);
    assert.equal((await t.deps.db('reports').where('id', longest.body.id).first('content')).content, '나'.repeat(2000));
  });

  it('no later than 7 days after departure (REPORT-002)', async () => {
    // Exactly 7 days after departure: still open.
    const other = (await quickMembers(t, 1))[0]!;
    t.clock.set(MORNING);
    assert.equal((await other.call('POST', `/carpools/${carpoolId}/reservations`)).status, 201);
    t.clock.set(new Date(departure.getTime() + 7 * DAY));
    await renew(t, other, canceller);
    assert.equal((await other.call('POST', `/carpools/${carpoolId}/reports`, { body: report })).status, 201);

    // A passenger who did not report in time.
    const late = (await quickMembers(t, 1))[0]!;
    t.clock.set(MORNING);
    assert.equal((await late.call('POST', `/carpools/${carpoolId}/reservations`)).status, 201);
    t.clock.set(new Date(departure.getTime() + 7 * DAY + 1000));
    await renew(t, late);
    const res = await late.call('POST', `/carpools/${carpoolId}/reports`, { body: report });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'REPORT-002');
    // The rider rule still comes first for one who did not ride.
    assert.equal(codeOf(await canceller.call('POST', `/carpools/${carpoolId}/reports`, { body: report })), 'REPORT-004');
  });
});
