import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import type { Reply } from '../../testing/http.js';
import { newMember, type TestMember } from '../auth/fixtures.js';
import { MORNING, postCarpool, quickMembers } from '../carpools/fixtures.js';
import { LEGACY_ERROR_CODES, PREDECESSOR_ERRORS } from './errors.js';
import { legacyClient, legacyError, predecessorError, type LegacyClient, LEGACY_CARPOOL } from './fixtures.js';

/**
 * The predecessor's HTTP status for each of its codes, as its `ErrorCode` enum
 * had it (written out here again, apart from the table under test).
 */
const PREDECESSOR_STATUS: Record<keyof typeof PREDECESSOR_ERRORS, number> = {
  'ACCOUNT-001': 400,
  'ACCOUNT-002': 400,
  'ACCOUNT-003': 400,
  'ACCOUNT-004': 400,
  'ACCOUNT-006': 401,
  'ACCOUNT-007': 401,
  'ACCOUNT-008': 400,
  'ACCOUNT-011': 400,
  'MATE-001': 404,
  'MATE-002': 400,
  'MATE-003': 400,
  'MATE-006': 400,
  'MATE-007': 400,
  'MATE-008': 400,
  'REPORT-002': 400,
  'REPORT-003': 400,
  'REPORT-004': 400,
  'AUTH-001': 401,
  'AUTH-002': 401,
  'AUTH-005': 401,
  'AUTH-007': 400,
  'AUTH-008': 418,
  'S3-001': 401,
  '입력값 오류': 400,
};

const GRACE_SECONDS = 2;

describe("the predecessor's error table, every entry provoked through the legacy API", () => {
  let t: TestApp;
  let member: TestMember;
  let driver: TestMember;
  let rider: TestMember;
  let carpoolId: number;
  const as = (m: TestMember) => legacyClient(t, { access: m.accessToken, refresh: m.refreshToken });
  /** A token of the member's session signed at the app's clock now (after the test moved it). */
  const freshToken = (m: TestMember) => {
    const claims = t.services.tokens.verify(m.accessToken, { ignoreExpiration: true });
    return t.services.tokens.sign({ sub: claims.sub, sid: claims.sid, role: claims.role });
  };

  before(async () => {
    t = await startTestApp({ now: MORNING, env: { REFRESH_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS), MAIL_MAX_PER_HOUR: '50' } });
    member = await newMember(t);
    driver = (await quickMembers(t, 1, { driver: true }))[0]!;
    rider = (await quickMembers(t, 1))[0]!;
    carpoolId = (await postCarpool(t, driver, { capacity: 1 })).id;
    assert.equal((await as(rider).send('POST', '/api/carpool/reservation', { carpoolId })).status, 200);
  });
  after(() => t.close());

  const provoke: Record<keyof typeof PREDECESSOR_ERRORS, () => Promise<Reply>> = {
    'ACCOUNT-001': () => legacyClient(t).send('POST', '/api/member/findMemberId', { nickname: '없는사람', email: 'nobody@example.com' }),
    'ACCOUNT-002': () => legacyClient(t).send('POST', '/api/member/checkEmail', { email: member.email }),
    'ACCOUNT-003': () => legacyClient(t).send('POST', '/api/member/checkMemberId', { memberId: member.loginId }),
    'ACCOUNT-004': () => legacyClient(t).send('POST', '/api/member/checkNickname', { nickname: member.nickname }),
    'ACCOUNT-006': async () => {
      const banned = await newMember(t);
      await t.services.members.setBanned(banned.id, true);
      return legacyClient(t).send('POST', '/api/member/signIn', { memberId: banned.loginId, password: banned.password });
    },
    'ACCOUNT-007': () => as(member).send('PUT', '/api/member/driver', { carNumber: '12가3456', phoneNumber: '010-1234-5678' }),
    'ACCOUNT-008': () => legacyClient(t).send('POST', '/api/member/signIn', { memberId: member.loginId, password: 'wrong-pass1' }),
    'ACCOUNT-011': () => as(driver).send('POST', '/api/member/driver', { carNumber: '12가3456', phoneNumber: '010-1234-5678' }),
    'MATE-001': () => as(member).send('POST', '/api/carpool/reservation', { carpoolId: 999_999 }),
    'MATE-002': () => as(member).send('POST', '/api/carpool/reservation', { carpoolId }),
    'MATE-003': async () => {
      const [other] = await quickMembers(t, 1, { driver: true });
      const second = await postCarpool(t, other!);
      return as(rider).send('POST', '/api/carpool/reservation', { carpoolId: second.id });
    },
    'MATE-006': () => as(member).send('POST', '/api/carpool', LEGACY_CARPOOL),
    'MATE-007': () => as(rider).send('DELETE', '/api/carpool/deleteCarpool'),
    'MATE-008': () => as(driver).send('POST', '/api/carpool/reservation', { carpoolId }),
    'REPORT-002': async () => {
      t.clock.set('2026-03-10T12:00:00+09:00');
      try {
        return await legacyClient(t, { access: freshToken(rider) }).send('POST', `/api/report/${carpoolId}`, {
          reportTitle: '늦었어요',
          reportContent: '출발이 늦었습니다.',
        });
      } finally {
        t.clock.set(MORNING);
      }
    },
    'REPORT-003': () => as(driver).send('POST', `/api/report/${carpoolId}`, { reportTitle: '제목', reportContent: '내용' }),
    'REPORT-004': () => as(member).send('POST', `/api/report/${carpoolId}`, { reportTitle: '제목', reportContent: '내용' }),
    'AUTH-001': () => legacyClient(t, { access: 'not.a.token' }).send('GET', '/api/member'),
    'AUTH-002': async () => {
      const c = legacyClient(t, { access: freshToken(member) });
      t.clock.advance(16 * 60_000);
      try {
        return await c.send('GET', '/api/member');
      } finally {
        t.clock.set(MORNING);
      }
    },
    'AUTH-005': () => legacyClient(t).send('GET', '/api/member'),
    'AUTH-007': async () => {
      const m = await newMember(t);
      const c = legacyClient(t, { access: m.accessToken, refresh: m.refreshToken });
      t.clock.advance(16 * 60_000);
      try {
        assert.equal((await c.send('GET', '/api/member', undefined, { withRefresh: true })).status, 200);
        t.clock.advance((GRACE_SECONDS + 1) * 1000);
        return await legacyClient(t, { access: m.accessToken, refresh: m.refreshToken }).send('GET', '/api/member', undefined, {
          withRefresh: true,
        });
      } finally {
        t.clock.set(MORNING);
      }
    },
    'AUTH-008': async () => {
      const c: LegacyClient = legacyClient(t, { access: freshToken(member), refresh: 'made.up' });
      t.clock.advance(16 * 60_000);
      try {
        return await c.send('GET', '/api/member', undefined, { withRefresh: true });
      } finally {
        t.clock.set(MORNING);
      }
    },
    'S3-001': () => as(member).send('PUT', '/api/member/member', { profileImage: `https://bucket.example/image-${randomUUID()}.png` }),
    '입력값 오류': () => legacyClient(t).send('POST', '/api/member/signUp', { memberId: 'x' }),
  };

  it('has a provocation for every entry, and the statuses the predecessor gave', () => {
    assert.deepEqual(Object.keys(provoke).sort(), Object.keys(PREDECESSOR_ERRORS).sort());
    for (const [code, e] of Object.entries(PREDECESSOR_ERRORS))
      assert.equal(e.status, PREDECESSOR_STATUS[code as keyof typeof PREDECESSOR_ERRORS], code);
  });

  for (const code of Object.keys(PREDECESSOR_ERRORS) as (keyof typeof PREDECESSOR_ERRORS)[]) {
    it(`${code}: HTTP ${PREDECESSOR_STATUS[code]}, ${PREDECESSOR_ERRORS[code].name}, its message`, async () => {
      predecessorError(await provoke[code](), code);
    });
  }

  it('invalid input names the first field that was wrong, as the predecessor’s @Valid handler did; a malformed body is invalid input too', async () => {
    const res = await legacyClient(t).send('POST', '/api/member/signUp', {
      memberId: 'commuter01',
      email: 'not-an-email',
      password: 'morning2ride',
      nickname: '출근왕',
    });
    predecessorError(res, '입력값 오류');
    assert.equal(res.body.message, '입력값이 올바르지 않습니다. (email)');
    const malformed = await fetch(`${t.url}/api/member/signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"memberId":',
    });
    predecessorError({ status: malformed.status, headers: malformed.headers, body: await malformed.json() }, '입력값 오류');
  });

  it('cancelling without a reservation is CARPOOL_NOT_FOUND, as the predecessor answered it', async () => {
    predecessorError(await as(member).send('POST', '/api/carpool/cancelCarpool'), 'MATE-001');
  });

  it('codes the predecessor lacked keep their own status and name; none of them is a 401 (the client would sign the member out)', async () => {
    const unknown = await fetch(`${t.url}/api/member/nothingHere`);
    legacyError({ status: unknown.status, headers: unknown.headers, body: await unknown.json() }, 404, 'NOT_FOUND', 'REQUEST-005');
    const [other] = await quickMembers(t, 1, { driver: true });
    legacyError(
      await as(other!).send('POST', '/api/carpool', {
        departureCoordinate: '수원역',
        latitude: 37.266,
        longitude: 127.0,
        departureTime: '2026-03-02T05:00:00',
        chatLink: 'https://open.kakao.com/o/mate',
        capacity: 2,
        cost: 0,
      }),
      422,
      'INVALID_DEPARTURE_TIME',
      'MATE-009',
    );
    const sessionCodes = new Set(['AUTH-001', 'AUTH-002', 'AUTH-005', 'ACCOUNT-006', 'ACCOUNT-007', 'S3-001']);
    for (const [code, e] of Object.entries(LEGACY_ERROR_CODES)) if (e.status === 401) assert.ok(sessionCodes.has(code), code);
  });
});
