/**
 * Commute-aware scaling: the morning rush window of the service day, in a
 * time zone, on some days of the week. Pure functions of an instant, so the
 * operator's clock can be injected and the edges computed exactly.
 */
import { wallClock, type LocalParts } from '../platform/clock/index.js';
import type { Weekday } from './types.js';

export interface RushWindow {
  timeZone: string;
  /** 'HH:MM', local to timeZone, inclusive. */
  start: string;
  /** 'HH:MM', local to timeZone, exclusive. */
  end: string;
  days: Weekday[];
}

const WEEKDAYS: Weekday[] = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const wallClocks = new Map<string, (instant: number) => LocalParts>();
function wallClockOf(timeZone: string): (instant: number) => LocalParts {
  let read = wallClocks.get(timeZone);
  if (!read) wallClocks.set(timeZone, (read = wallClock(timeZone)));
  return read;
}

interface Local {
  /** Milliseconds of the wall-clock reading taken as if it were UTC. */
  wall: number;
  weekday: Weekday;
  minuteOfDay: number;
}

function local(instant: number, timeZone: string): Local {
  const l = wallClockOf(timeZone)(instant);
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return { wall: wall + (instant % 1000), weekday: WEEKDAYS[new Date(wall).getUTCDay()]!, minuteOfDay: l.hour * 60 + l.minute };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instant at which the zone's wall clock reads `wall` (two passes settle offset changes). */
function instantOfWall(wall: number, timeZone: string): number {
  const first = wall - (local(wall, timeZone).wall - wall);
  return wall - (local(first, timeZone).wall - first);
}

export function inRushWindow(window: RushWindow, now: Date): boolean {
  const l = local(now.getTime(), window.timeZone);
  const m = l.minuteOfDay;
  return window.days.includes(l.weekday) && m >= minutes(window.start) && m < minutes(window.end);
}

/**
 * The next instant after `now` at which inRushWindow changes value (a window
 * start or end), looking up to eight days ahead; undefined when the window
 * never opens (no days).
 */
export function nextWindowEdge(window: RushWindow, now: Date): Date | undefined {
  if (window.days.length === 0) return undefined;
  const t = now.getTime();
  const l = local(t, window.timeZone);
  const midnight = l.wall - l.minuteOfDay * MINUTE - (l.wall % MINUTE);
  for (let d = 0; d <= 8; d++) {
    const dayStart = midnight + d * DAY;
    const weekday = WEEKDAYS[new Date(dayStart).getUTCDay()]!;
    if (!window.days.includes(weekday)) continue;
    for (const edge of [window.start, window.end]) {
      const at = instantOfWall(dayStart + minutes(edge) * MINUTE, window.timeZone);
      if (at > t) return new Date(at);
    }
  }
  return undefined;
}

export interface ScalingDecision {
  rushHour: boolean;
  minReplicas: number;
  maxReplicas: number;
  window?: string;
  nextTransition?: Date;
}

/** The HorizontalPodAutoscaler's floor and ceiling for a MateApp at an instant. */
export function scalingAt(
  spec: { replicas: { min: number; max: number }; commuteScaling: RushWindow & { enabled: boolean; minReplicas: number } },
  now: Date,
): ScalingDecision {
  const { min, max } = spec.replicas;
  const c = spec.commuteScaling;
  if (!c.enabled) return { rushHour: false, minReplicas: min, maxReplicas: max };
  const rushHour = inRushWindow(c, now);
  return {
    rushHour,
    minReplicas: rushHour ? Math.min(max, Math.max(min, c.minReplicas)) : min,
    maxReplicas: max,
    window: `${c.start}-${c.end} ${c.timeZone} ${c.days.join(',')}`,
    nextTransition: nextWindowEdge(c, now),
  };
}
