/**
 * Time, in one place: the clock the service reads (tests move it) and the
 * service day ("block") every carpool and participation belongs to.
 *
 * A service day is named by the calendar date on which it starts: with the
 * default start hour 10 and Asia/Seoul, the day '2026-03-02' runs from
 * 2026-03-02T10:00+09:00 until 2026-03-03T10:00+09:00. The day is stored as
 * a DATE column with each row, so "today" is a query, and the day rolls over
 * when the clock passes the start hour, with no job to run.
 */
import { AppError } from '../http/errors.js';

export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export interface ServiceDaySettings {
  /** Hour of the day (0–23, local to timeZone) at which a service day starts. */
  startHour: number;
  /** IANA time zone, e.g. 'Asia/Seoul'. */
  timeZone: string;
}

/** 'YYYY-MM-DD' */
export type ServiceDay = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

/** True when Intl knows the zone (validates configuration). */
export function isTimeZone(zone: string): boolean {
  try {
    wallClock(zone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function formatDay(year: number, month: number, day: number): ServiceDay {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Adds whole calendar days to a 'YYYY-MM-DD' date. */
export function addDays(day: ServiceDay, days: number): ServiceDay {
  const m = DAY.exec(day);
  if (!m) throw new Error(`not a day: ${day}`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return formatDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** A DATE column as the driver returns it (mysql2: a Date at UTC midnight; SQLite: the string). */
export function asServiceDay(value: unknown): ServiceDay {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value).slice(0, 10);
}

/** What a wall clock in `timeZone` reads at an instant (epoch ms); throws RangeError for an unknown zone. */
export function wallClock(timeZone: string): (instant: number) => LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return (instant) => {
    const p: Record<string, number> = {};
    for (const { type, value } of parts.formatToParts(instant)) if (type !== 'literal') p[type] = Number(value);
    return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! };
  };
}

export function createServiceCalendar(settings: ServiceDaySettings, clock: Clock) {
  const { startHour, timeZone } = settings;
  const readWallClock = wallClock(timeZone);

  // formatToParts is slow and nearly every request asks what day it is. Within one UTC minute the wall
  // clock is that minute's plus the seconds (zone offsets are whole minutes), so the last minute is kept.
  let lastMinute = { epochMinute: NaN, parts: {} as LocalParts };
  function local(instant: Date): LocalParts {
    const ms = instant.getTime();
    const epochMinute = Math.floor(ms / 60_000);
    if (epochMinute !== lastMinute.epochMinute) lastMinute = { epochMinute, parts: readWallClock(epochMinute * 60_000) };
    return { ...lastMinute.parts, second: Math.floor((ms - epochMinute * 60_000) / 1000) };
  }

  /** Offset of the zone from UTC at an instant, in milliseconds. */
  function offsetAt(instant: Date): number {
    const l = local(instant);
    const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
    return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
  }

  /** The instant at which the zone's wall clock shows this date and time. */
  function wallClockToInstant(day: ServiceDay, hour: number, minute = 0, second = 0, ms = 0): Date {
    const m = DAY.exec(day);
    if (!m) throw new Error(`not a day: ${day}`);
    const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour, minute, second, ms);
    const first = guess - offsetAt(new Date(guess));
    // A second pass settles instants near an offset change (DST zones).
    return new Date(guess - offsetAt(new Date(first)));
  }

  function dayOf(instant: Date): ServiceDay {
    const l = local(instant);
    const date = formatDay(l.year, l.month, l.day);
    return l.hour < startHour ? addDays(date, -1) : date;
  }

  return {
    settings,
    now: () => clock(),
    /** The service day an instant belongs to. */
    dayOf,
    /** The current service day. */
    today: (): ServiceDay => dayOf(clock()),
    /** [start, end) of a service day. */
    bounds(day: ServiceDay): { start: Date; end: Date } {
      return { start: wallClockToInstant(day, startHour), end: wallClockToInstant(addDays(day, 1), startHour) };
    },
    addDays,
    /**
     * The instant a wall-clock time of the zone names ('YYYY-MM-DDTHH:mm[:ss[.SSS]]', the legacy
     * client's format); 400 REQUEST-001 when it is not one.
     */
    fromLocalDateTime(local: string): Date {
      const m = LOCAL_DATE_TIME.exec(local.trim());
      if (!m || addDays(m[1]!, 0) !== m[1] || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) {
        throw new AppError('REQUEST-001', `not a local date-time such as 2026-03-02T08:00:00: ${local.slice(0, 40)}`);
      }
      return wallClockToInstant(m[1]!, Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number((m[5] ?? '0').padEnd(3, '0')));
    },
    /** 'YYYY-MM-DDTHH:mm:ss' on the zone's wall clock (the legacy client's format). */
    localDateTime(instant: Date): string {
      const l = local(instant);
      return `${formatDay(l.year, l.month, l.day)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}`;
    },
  };
}

export type ServiceCalendar = ReturnType<typeof createServiceCalendar>;
