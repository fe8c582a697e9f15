import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTimeZone } from '../platform/clock/index.js';
import { inRushWindow, nextWindowEdge, scalingAt } from './schedule.js';
import type { RushWindow } from './schedule.js';

const every: RushWindow['days'] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const seoul: RushWindow = { timeZone: 'Asia/Seoul', start: '06:30', end: '09:30', days: every };
const at = (iso: string) => new Date(iso);
const spec = (min: number, max: number, floor: number, enabled = true, window = seoul) => ({
  replicas: { min, max },
  commuteScaling: { ...window, enabled, minReplicas: floor },
});

describe('the rush window', () => {
  it('opens at start (inclusive) and closes at end (exclusive), local to its zone', () => {
    assert.equal(inRushWindow(seoul, at('2026-03-02T06:29:59.999+09:00')), false);
    assert.equal(inRushWindow(seoul, at('2026-03-02T06:30:00+09:00')), true);
    assert.equal(inRushWindow(seoul, at('2026-03-02T09:29:59+09:00')), true);
    assert.equal(inRushWindow(seoul, at('2026-03-02T09:30:00+09:00')), false);
    // 07:00 in Seoul is 22:00 UTC the day before.
    assert.equal(inRushWindow(seoul, at('2026-03-01T22:00:00Z')), true);
  });

  it('applies only on its days', () => {
    const weekdays: RushWindow = { ...seoul, days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] };
    assert.equal(inRushWindow(weekdays, at('2026-03-02T07:00:00+09:00')), true); // Monday
    assert.equal(inRushWindow(weekdays, at('2026-03-07T07:00:00+09:00')), false); // Saturday
  });

  it('finds the next edge: the end while open, the next start while closed, skipping other days', () => {
    assert.equal(nextWindowEdge(seoul, at('2026-03-02T06:00:00+09:00'))?.toISOString(), '2026-03-01T21:30:00.000Z');
    assert.equal(nextWindowEdge(seoul, at('2026-03-02T06:30:00+09:00'))?.toISOString(), '2026-03-02T00:30:00.000Z');
    assert.equal(nextWindowEdge(seoul, at('2026-03-02T09:30:00+09:00'))?.toISOString(), '2026-03-02T21:30:00.000Z');
    const weekdays: RushWindow = { ...seoul, days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] };
    // Friday after the window: Monday 06:30.
    assert.equal(nextWindowEdge(weekdays, at('2026-03-06T10:00:00+09:00'))?.toISOString(), '2026-03-08T21:30:00.000Z');
    assert.equal(nextWindowEdge({ ...seoul, days: [] }, at('2026-03-02T06:00:00+09:00')), undefined);
  });

  it('follows daylight saving time in zones that have it', () => {
    const ny: RushWindow = { timeZone: 'America/New_York', start: '06:30', end: '09:30', days: every };
    // 2026-03-08 springs forward: 06:30 EDT is 10:30Z; the day before, 06:30 EST was 11:30Z.
    assert.equal(nextWindowEdge(ny, at('2026-03-07T12:00:00Z'))?.toISOString(), '2026-03-07T14:30:00.000Z');
    assert.equal(nextWindowEdge(ny, at('2026-03-07T15:00:00Z'))?.toISOString(), '2026-03-08T10:30:00.000Z');
    assert.equal(inRushWindow(ny, at('2026-03-08T10:45:00Z')), true);
  });

  it('raises the floor to minReplicas within [min, max] in the window, and says when it changes next', () => {
    const rush = scalingAt(spec(2, 10, 4), at('2026-03-02T07:00:00+09:00'));
    assert.deepEqual(
      { ...rush, nextTransition: rush.nextTransition?.toISOString() },
      {
        rushHour: true,
        minReplicas: 4,
        maxReplicas: 10,
        window: '06:30-09:30 Asia/Seoul Mon,Tue,Wed,Thu,Fri,Sat,Sun',
        nextTransition: '2026-03-02T00:30:00.000Z',
      },
    );
    assert.equal(scalingAt(spec(2, 10, 4), at('2026-03-02T10:00:00+09:00')).minReplicas, 2);
    assert.equal(scalingAt(spec(6, 10, 4), at('2026-03-02T07:00:00+09:00')).minReplicas, 6, 'a floor below min changes nothing');
    assert.equal(scalingAt(spec(2, 3, 4), at('2026-03-02T07:00:00+09:00')).minReplicas, 3, 'the floor is capped by max');
    const off = scalingAt(spec(2, 10, 4, false), at('2026-03-02T07:00:00+09:00'));
    assert.deepEqual(off, { rushHour: false, minReplicas: 2, maxReplicas: 10 });
  });

  it('knows which time zones exist', () => {
    assert.equal(isTimeZone('Asia/Seoul'), true);
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
  });
});
