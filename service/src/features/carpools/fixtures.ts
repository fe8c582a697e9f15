import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestApp } from '../../testing/harness.js';
import { httpClient } from '../../testing/http.js';
import type { TestMember } from '../auth/fixtures.js';
import type { NewCarpool } from './rules.js';

/** The instant tests start at: 06:00 in Seoul, so the service day is the one that began the day before at 10:00. */
export const MORNING = '2026-03-02T06:00:00+09:00';
export const MORNING_DAY = '2026-03-01';

let counter = 0;

/**
 * Members made quickly, for tests that need hundreds: created through the
 * members and sessions services (no password hashing), with a real session
 * and a signed access token, so every call they make goes through the API
 * and its authentication like anyone's.
 */
export async function quickMembers(t: TestApp, n: number, opts: { driver?: boolean; admin?: boolean } = {}): Promise<TestMember[]> {
  const call = httpClient(t.url);
  const batch = randomBytes(3).toString('hex');
  const made: TestMember[] = [];
  for (let i = 0; i < n; i++) {
    const tag = `q${batch}${++counter}`;
    const m = await t.services.members.create({
      loginId: tag,
      email: `${tag}@example.com`,
      nickname: `닉${tag}`.slice(0, 20),
      role: opts.admin ? 'admin' : 'member',
    });
    const id = Number(m.id);
    if (opts.driver)
      await t.services.members.upsertDriver(id, { carNumber: `${10 + (i % 89)}가${1000 + (i % 8999)}`, phoneNumber: '010-1234-5678' });
    const session = await t.services.sessions.create(id);
    const member: TestMember = {
      id,
      loginId: tag,
      email: `${tag}@example.com`,
      nickname: m.nickname,
      password: '',
      accessToken: t.services.tokens.sign({ sub: String(id), sid: session.sid, role: opts.admin ? 'admin' : 'member' }),
      refreshToken: session.refreshToken,
      call: (method, path, o = {}) => call(method, path, { token: member.accessToken, ...o }),
    };
    made.push(member);
  }
  return made;
}

/** A fresh access token at the app's current clock (after the test moved it by days), through POST /auth/refresh. */
export async function renew(t: TestApp, ...members: TestMember[]): Promise<void> {
  const call = httpClient(t.url);
  for (const m of members) {
    const res = await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    m.accessToken = res.body.accessToken;
    m.refreshToken = res.body.refreshToken;
  }
}

/** A valid carpool body departing `inMinutes` after the app's clock. */
export function carpoolBody(t: TestApp, overrides: Partial<NewCarpool> & { inMinutes?: number } = {}): NewCarpool {
  const { inMinutes = 60, ...rest } = overrides;
  return {
    departurePlace: '수원시 권선구 오목천동',
    latitude: 37.2431,
    longitude: 126.9534,
    departureAt: new Date(t.clock.now().getTime() + inMinutes * 60_000).toISOString(),
    chatLink: 'https://open.kakao.com/o/gMateRide',
    capacity: 3,
    cost: 3000,
    ...rest,
  };
}

/** Posts a carpool through the API and answers it (asserting 201). */
export async function postCarpool(t: TestApp, driver: TestMember, overrides: Partial<NewCarpool> & { inMinutes?: number } = {}) {
  const res = await driver.call('POST', '/carpools', { body: carpoolBody(t, overrides) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: number; seatsTaken: number; capacity: number; [k: string]: unknown };
}

/** Passenger participations that stand, and the carpool's seat count: rule 3's invariant. */
export async function seatState(t: TestApp, carpoolId: number) {
  const row = await t.deps.db('carpools').where('id', carpoolId).first('seats_taken', 'capacity');
  const [count] = await t.deps
    .db('participations')
    .where({ carpool_id: carpoolId, role: 'passenger' })
    .whereNotNull('active_day')
    .count({ n: '*' });
  return { seatsTaken: Number(row.seats_taken), capacity: Number(row.capacity), activePassengers: Number(count?.n) };
}

export const codeOf = (res: { status: number; body: { code?: string } }) => res.body?.code ?? String(res.status);
