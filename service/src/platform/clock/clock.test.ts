import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addDays, asServiceDay, createServiceCalendar, isTimeZone } from './index.js';
import { loadConfig } from '../config/index.js';

const seoul = (at: string) => createServiceCalendar({ startHour: 10, timeZone: 'Asia/Seoul' }, () => new Date(at));

describe('the service day', () => {
  it('starts at 10:00 Asia/Seoul: 09:59 belongs to the day before, 10:00 to the new day', () => {
    assert.equal(seoul('2026-03-02T09:59:59.999+09:00').today(), '2026-03-01');
    assert.equal(seoul('2026-03-02T10:00:00+09:00').today(), '2026-03-02');
    assert.equal(seoul('2026-03-02T23:30:00+09:00').today(), '2026-03-02');
    assert.equal(seoul('2026-03-03T00:30:00+09:00').today(), '2026-03-02');
    // Across a month and a year end.
    assert.equal(seoul('2026-03-01T06:00:00+09:00').today(), '2026-02-28');
    assert.equal(seoul('2027-01-01T09:00:00+09:00').today(), '2026-12-31');
  });

  it('knows its bounds', () => {
    const { start, end } = seoul('2026-03-02T06:00:00+09:00').bounds('2026-03-01');
    assert.equal(start.toISOString(), '2026-03-01T01:00:00.000Z');
    assert.equal(end.toISOString(), '2026-03-02T01:00:00.000Z');
  });

  it('takes its hour and zone from configuration, daylight saving time included', () => {
    const ny = createServiceCalendar({ startHour: 6, timeZone: 'America/New_York' }, () => new Date('2026-03-08T12:00:00Z'));
    // 2026-03-08 is the spring-forward day in New York: 06:00 EDT is 10:00Z (the day before, 06:00 EST was 11:00Z).
    assert.equal(ny.bounds('2026-03-08').start.toISOString(), '2026-03-08T10:00:00.000Z');
    assert.equal(ny.bounds('2026-03-07').start.toISOString(), '2026-03-07T11:00:00.000Z');
    assert.equal(ny.bounds('2026-03-07').end.toISOString(), '2026-03-08T10:00:00.000Z');
    assert.equal(ny.today(), '2026-03-08');
    assert.equal(ny.dayOf(new Date('2026-03-08T09:59:00Z')), '2026-03-07');
    const utcMidnight = createServiceCalendar({ startHour: 0, timeZone: 'UTC' }, () => new Date('2026-03-02T00:00:00Z'));
    assert.equal(utcMidnight.today(), '2026-03-02');
  });

  it('formats and reads local wall-clock times, and converts DATE columns', () => {
    const cal = seoul('2026-03-02T06:00:00+09:00');
    assert.equal(cal.localDateTime(new Date('2026-03-01T23:00:00Z')), '2026-03-02T08:00:00');
    assert.equal(cal.fromLocalDateTime('2026-03-02T08:00:00').toISOString(), '2026-03-01T23:00:00.000Z');
    assert.equal(cal.fromLocalDateTime('2026-03-02T08:30').toISOString(), '2026-03-01T23:30:00.000Z');
    assert.equal(cal.fromLocalDateTime('2026-03-02T08:30:15.25').toISOString(), '2026-03-01T23:30:15.250Z');
    for (const bad of ['2026-02-30T08:00:00', '2026-03-02T24:00:00', '2026-03-02 08:00', 'tomorrow', '2026-03-02T08:00:00Z'])
      assert.throws(() => cal.fromLocalDateTime(bad), /REQUEST-001|not a local date-time/, bad);
    assert.equal(asServiceDay(new Date('2026-03-01T00:00:00Z')), '2026-03-01');
    assert.equal(asServiceDay('2026-03-01'), '2026-03-01');
    assert.equal(addDays('2026-02-28', 1), '2026-03-01');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  });

  it('is configured by SERVICE_DAY_START_HOUR and SERVICE_TIME_ZONE, validated at start', () => {
    const base = { MATE_MODE: 'embedded', MATE_DATA_DIR: '/tmp/mate-clock-test' };
    const c = loadConfig(base);
    assert.equal(c.SERVICE_DAY_START_HOUR, 10);
    assert.equal(c.SERVICE_TIME_ZONE, 'Asia/Seoul');
    assert.equal(c.CARPOOL_LIST_CACHE_TTL_SECONDS, 30);
    assert.equal(loadConfig({ ...base, SERVICE_DAY_START_HOUR: '6', SERVICE_TIME_ZONE: 'Asia/Tokyo' }).SERVICE_TIME_ZONE, 'Asia/Tokyo');
    assert.throws(() => loadConfig({ ...base, SERVICE_DAY_START_HOUR: '24' }), /SERVICE_DAY_START_HOUR/);
    assert.throws(() => loadConfig({ ...base, SERVICE_TIME_ZONE: 'Mars/Olympus' }), /SERVICE_TIME_ZONE/);
    assert.equal(isTimeZone('Asia/Seoul'), true);
  });
});
