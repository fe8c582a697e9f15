import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call, type Reply } from '../../testing/http.js';
import { MORNING, postCarpool, quickMembers, seatState } from '../carpools/fixtures.js';
import { PNG_1x1 } from '../files/fixtures.js';
import { newMember } from '../auth/fixtures.js';
import { startOAuthProvider } from '../../testing/oauth-provider.js';
import { carpoolListEnvelope, historyEnvelope, memberEnvelope, myCarpoolEnvelope } from './schemas.js';

const ORIGIN = 'https://web.mate.example';

/** The web client: its paths, its headers, its refresh dance. */
function legacyClient(t: TestApp) {
  const call = httpClient(t.url);
  const session = { access: '', refresh: '' };
  const take = (res: Reply) => {
    const a = res.headers.get('authorization');
    const r = res.headers.get('refreshtoken');
    if (a) session.access = a.replace(/^Bearer /, '');
    if (r) session.refresh = r.replace(/^Bearer /, '');
    if (a) t.secrets.add(session.access).add(session.refresh);
    return res;
  };
  return {
    session,
    async send(method: string, path: string, body?: unknown, opts: { form?: FormData; withRefresh?: boolean } = {}) {
      const headers: Record<string, string> = { origin: ORIGIN };
      if (session.access) headers.authorization = `Bearer ${session.access}`;
      if (opts.withRefresh) headers.refreshtoken = `Bearer ${session.refresh}`;
      return take(await call(method, path, { body, headers, form: opts.form }));
    },
    /** What the client does: on 401, the same call again with its refresh token. */
    async request(method: string, path: string, body?: unknown, opts: { form?: FormData } = {}) {
      const first = await this.send(method, path, body, opts);
      return first.status === 401 ? this.send(method, path, body, { ...opts, withRefresh: true }) : first;
    },
  };
}

function ok(res: Reply, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.status, status === 201 ? 'CREATED' : 'OK');
  assert.equal(typeof res.body.message, 'string');
  return res.body.data;
}

function legacyError(res: Reply, status: number, name: string, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['code', 'message', 'name', 'status']);
  assert.equal(res.body.status, status);
  assert.equal(res.body.name, name);
  assert.equal(res.body.code, code);
  assert.match(res.body.message, /[가-힣]/, 'a Korean message');
  assert.doesNotMatch(JSON.stringify(res.body), /\bat \w+ \(|node_modules/, 'no stack trace');
}

describe('the existing web client, end to end through the legacy API', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp({ now: MORNING, env: { CORS_ORIGINS: ORIGIN, ACCESS_TOKEN_TTL_SECONDS: '600', MAIL_MAX_PER_HOUR: '50' } });
    call = httpClient(t.url);
  });
  after(() => t.close());

  const driver = { memberId: 'driverA1', email: 'drivera@example.com', password: 'drive2work', nickname: '운전왕' };
  const rider = { memberId: 'riderB1', email: 'riderb@example.com', password: 'ride2work', nickname: '탑승객' };

  it('plays the whole journey in the client order and shapes', async () => {
    const d = legacyClient(t);
    const r = legacyClient(t);
    t.secrets.add(driver.password).add(rider.password);

    // Duplicate checks, sign up, sign in (tokens from headers).
    assert.equal(ok(await d.send('POST', '/api/member/checkMemberId', { memberId: driver.memberId })), true);
    assert.equal(ok(await d.send('POST', '/api/member/checkEmail', { email: driver.email })), true);
    assert.equal(ok(await d.send('POST', '/api/member/checkNickname', { nickname: driver.nickname })), true);
    assert.equal(ok(await d.send('POST', '/api/member/signUp', driver), 201), true);
    assert.equal(ok(await r.send('POST', '/api/member/signUp', rider), 201), true);
    legacyError(
      await d.send('POST', '/api/member/checkMemberId', { memberId: driver.memberId }),
      409,
      'DUPLICATE_MEMBER_ID',
      'ACCOUNT-003',
    );
    legacyError(await d.send('POST', '/api/member/checkEmail', { email: driver.email }), 409, 'DUPLICATE_EMAIL', 'ACCOUNT-002');
    legacyError(await d.send('POST', '/api/member/checkNickname', { nickname: driver.nickname }), 409, 'DUPLICATE_NICKNAME', 'ACCOUNT-004');

    const signIn = await d.send('POST', '/api/member/signIn', { memberId: driver.memberId, password: driver.password });
    const me = ok(signIn);
    memberEnvelope.parse(signIn.body);
    assert.match(signIn.headers.get('authorization')!, /^Bearer eyJ/);
    assert.match(signIn.headers.get('refreshtoken')!, /^Bearer \S+\.\S+/);
    assert.equal(me.memberId, driver.memberId);
    assert.equal(me.memberType, 'STANDARD');
    assert.equal(me.providerType, 'MATE');
    assert.equal(me.isDriver, false);
    assert.equal(me.reservation, false);
    assert.match(me.createDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    ok(await r.send('POST', '/api/member/signIn', { memberId: rider.memberId, password: rider.password }));

    // Register as driver with an uploaded car image.
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(PNG_1x1)]), 'car.jpg');
    const url: string = ok(await d.request('POST', '/file/upload', undefined, { form }));
    assert.match(url, /image-[0-9a-f-]{36}\.png/);
    const asDriver = ok(
      await d.request('POST', '/api/member/driver', { carNumber: '12가3456', phoneNumber: '010-1234-5678', carImage: url }),
    );
    assert.equal(asDriver.isDriver, true);
    assert.equal(asDriver.carNumber, '12가3456');
    assert.match(asDriver.carImage, /image-/);

    // Post a carpool (local time, service time zone): 08:00 this morning.
    const posted = ok(
      await d.request('POST', '/api/carpool', {
        departureCoordinate: '수원시 권선구 오목천동',
        latitude: 37.2431,
        longitude: 126.9534,
        departureTime: '2026-03-02T08:00:00',
        chatLink: 'https://open.kakao.com/o/mateRide',
        capacity: 2,
        cost: 3000,
      }),
      201,
    );
    assert.equal(posted.departureTime, '2026-03-02T08:00:00');
    assert.equal(posted.driverName, driver.nickname);
    assert.equal(posted.reservationCount, 0);
    const id: number = posted.carpoolId;

    // The rider lists, all four sorts.
    for (const path of ['/api/carpool/list', '/api/carpool/active', '/api/carpool/fast', '/api/carpool/low']) {
      const listed = await r.request('GET', path);
      carpoolListEnvelope.parse(listed.body);
      const list = ok(listed);
      assert.ok(Array.isArray(list));
      const item = list.find((c: { carpoolId: number }) => c.carpoolId === id);
      assert.ok(item, `${path} lists the carpool`);
      assert.deepEqual(Object.keys(item).sort(), [
        'capacity',
        'carImg',
        'carNumber',
        'carpoolId',
        'chatLink',
        'cost',
        'createAt',
        'departureCoordinate',
        'departureTime',
        'driverImg',
        'driverName',
        'latitude',
        'longitude',
        'reservationCount',
      ]);
    }

    // Reserve, my carpool from both sides, cancel, reserve again.
    assert.equal(ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: id })), id);
    const mineAsRider = ok(await r.request('GET', '/api/carpool/myCarpool'));
    assert.equal(mineAsRider.carpoolInfo.carpoolId, id);
    assert.equal(mineAsRider.amIDriver, false);
    const mineAsDriverReply = await d.request('GET', '/api/carpool/myCarpool');
    myCarpoolEnvelope.parse(mineAsDriverReply.body);
    const mineAsDriver = ok(mineAsDriverReply);
    assert.equal(mineAsDriver.amIDriver, true);
    assert.deepEqual(mineAsDriver.passengers, [{ passengerName: rider.nickname, passengerImg: null }]);
    assert.equal(ok(await r.request('GET', '/api/member')).reservation, true);
    ok(await r.request('POST', '/api/carpool/cancelCarpool'));
    assert.equal(
      ok(await r.request('GET', '/api/carpool/list')).find((c: { carpoolId: number }) => c.carpoolId === id).reservationCount,
      0,
    );
    ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: id }));

    // The driver deletes: the rider is told, and is free again.
    ok(await d.request('DELETE', '/api/carpool/deleteCarpool'));
    const afterDelete = await r.request('GET', '/api/carpool/myCarpool');
    assert.equal(ok(afterDelete).carpoolInfo, null);
    assert.match(afterDelete.body.message, /삭제/);

    // A second carpool the same day, ridden, then history after the rollover.
    const second = ok(
      await d.request('POST', '/api/carpool', {
        departureCoordinate: '수원역',
        latitude: 37.266,
        longitude: 127.0,
        departureTime: '2026-03-02T09:00:00',
        chatLink: 'https://open.kakao.com/o/mateRide2',
        capacity: 3,
        cost: 2500,
      }),
      201,
    ).carpoolId;
    ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: second }));
    t.clock.set('2026-03-02T10:30:00+09:00');
    const ridesReply = await r.request('GET', '/api/carpool/history');
    historyEnvelope.parse(ridesReply.body);
    const rides = ok(ridesReply);
    assert.deepEqual(
      rides.map((x: { carpoolId: number }) => x.carpoolId),
      [second],
    );
    assert.deepEqual(Object.keys(rides[0]).sort(), [
      'capacity',
      'carpoolId',
      'cost',
      'createAt',
      'departureCoordinate',
      'departureTime',
      'driverImg',
      'reservationCount',
    ]);
    assert.equal(rides[0].reservationCount, 1);
    assert.deepEqual(
      ok(await d.request('GET', '/api/carpool/driveHis')).map((x: { carpoolId: number }) => x.carpoolId),
      [second],
    );

    // Report the ride.
    ok(await r.request('POST', `/api/report/${second}`, { reportTitle: '늦게 출발했어요', reportContent: '10분 늦게 출발했습니다.' }));
    legacyError(
      await r.request('POST', `/api/report/${second}`, { reportTitle: '또', reportContent: '또' }),
      409,
      'ALREADY_REPORTED',
      'REPORT-005',
    );

    // Change the password: other sessions end.
    const other = legacyClient(t);
    ok(await other.send('POST', '/api/member/signIn', { memberId: rider.memberId, password: rider.password }));
    legacyError(await r.request('POST', '/api/member/changePassword', { password: 'newride2go' }), 401, 'INVALID_PASSWORD', 'ACCOUNT-008');
    legacyError(await r.request('POST', '/api/member/checkPassword', { password: 'not-it-123' }), 401, 'INVALID_PASSWORD', 'ACCOUNT-008');
    assert.equal(ok(await r.request('POST', '/api/member/checkPassword', { password: rider.password })), true);
    ok(await r.request('POST', '/api/member/changePassword', { password: 'newride2go' }));
    t.secrets.add('newride2go');
    assert.equal((await other.send('GET', '/api/member')).status, 401, 'the other session ended');
    assert.equal((await r.request('GET', '/api/member')).status, 200, 'this one stays');

    // Find the login id (masked; the full one by mail) and the password (a link, then used).
    const masked: string = ok(await call('POST', '/api/member/findMemberId', { body: { nickname: rider.nickname, email: rider.email } }));
    assert.equal(masked.length, rider.memberId.length);
    assert.match(masked, /\*/);
    assert.notEqual(masked, rider.memberId);
    assert.match((await t.smtp.waitFor(rider.email)).text ?? '', new RegExp(rider.memberId));
    legacyError(
      await call('POST', '/api/member/findMemberId', { body: { nickname: '남', email: rider.email } }),
      404,
      'USER_NOT_FOUND',
      'ACCOUNT-001',
    );

    assert.equal(ok(await call('POST', '/api/member/findPassword', { body: { memberId: rider.memberId, email: rider.email } })), true);
    assert.equal(ok(await call('POST', '/api/member/findPassword', { body: { memberId: rider.memberId, email: 'x@example.com' } })), true);
    await t.services.mail.idle();
    const resetMail = t.smtp.messages.find((m) => m.subject?.includes('비밀번호'))!;
    const link = new URL(/https?:\/\/\S+reset-password\?token=\S+/.exec(resetMail.text ?? '')![0]);
    const page = await fetch(new URL(`${link.pathname}${link.search}`, t.url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /비밀번호 재설정/);
    const reset = await call('POST', '/api/v1/auth/password/reset', {
      body: { token: link.searchParams.get('token'), password: 'reset2ride' },
    });
    assert.equal(reset.status, 204);
    t.secrets.add('reset2ride');
    ok(await legacyClient(t).send('POST', '/api/member/signIn', { memberId: rider.memberId, password: 'reset2ride' }));

    ok(await d.request('DELETE', '/api/member/signOut'));
    assert.equal((await d.send('GET', '/api/member')).status, 401);
  });

  it('the refresh dance: an expired access token plus a valid refresh token answers and rotates; the old refresh token then gets 418', async () => {
    const m = await newMember(t);
    const c = legacyClient(t);
    ok(await c.send('POST', '/api/member/signIn', { memberId: m.loginId, password: m.password }));
    const old = { ...c.session };
    t.clock.advance(11 * 60_000);
    const expired = await c.send('GET', '/api/member');
    legacyError(expired, 401, 'EXPIRED_TOKEN', 'AUTH-002');
    const repeated = await c.send('GET', '/api/member', undefined, { withRefresh: true });
    assert.equal(ok(repeated).memberId, m.loginId);
    assert.notEqual(c.session.refresh, old.refresh, 'a new refresh token came back');
    assert.notEqual(c.session.access, old.access);
    assert.equal(ok(await c.send('GET', '/api/member')).memberId, m.loginId, 'the new access token works');

    const thief = legacyClient(t);
    thief.session.access = old.access;
    thief.session.refresh = old.refresh;
    legacyError(await thief.send('GET', '/api/member', undefined, { withRefresh: true }), 418, 'REFRESH_TOKEN_REUSED', 'AUTH-007');
    const ended = await c.send('GET', '/api/member', undefined, { withRefresh: true });
    assert.equal(ended.status, 418, 'the whole session ended');
  });

  it('errors the client can meet come in the legacy body with their status, name and code', async () => {
    const c = legacyClient(t);
    legacyError(await c.send('GET', '/api/member'), 401, 'MISSING_TOKEN', 'AUTH-005');
    legacyError(
      await c.send('POST', '/api/member/signIn', { memberId: 'nobody', password: 'wrong-pass1' }),
      401,
      'INVALID_PASSWORD',
      'ACCOUNT-008',
    );
    const m = await newMember(t);
    ok(await c.send('POST', '/api/member/signIn', { memberId: m.loginId, password: m.password }));
    legacyError(await c.send('POST', '/api/carpool/reservation', { carpoolId: 999999 }), 404, 'CARPOOL_NOT_FOUND', 'MATE-001');
    legacyError(
      await c.send('POST', '/api/carpool', {
        departureCoordinate: 'x',
        latitude: 1,
        longitude: 1,
        departureTime: '2026-03-02T11:00:00',
        chatLink: 'https://a.example',
        capacity: 1,
        cost: 0,
      }),
      403,
      'ONLY_DRIVER_CAN_POST',
      'MATE-006',
    );
    legacyError(await c.send('POST', '/api/member/signUp', { memberId: 'x' }), 400, 'VALIDATION_FAILED', 'REQUEST-001');
    const malformed = await fetch(`${t.url}/api/member/signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"memberId":',
    });
    legacyError(
      { status: malformed.status, headers: malformed.headers, body: await malformed.json() },
      400,
      'MALFORMED_BODY',
      'REQUEST-002',
    );
    const unknown = await fetch(`${t.url}/api/member/nothingHere`);
    legacyError({ status: unknown.status, headers: unknown.headers, body: await unknown.json() }, 404, 'NOT_FOUND', 'REQUEST-005');
  });

  it('CORS: the allowed origin gets credentials and the token headers exposed; another origin gets none', async () => {
    const pre = await fetch(`${t.url}/api/member/signIn`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization,refreshtoken',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-methods')!, /DELETE/);
    const res = await fetch(`${t.url}/api/member/checkEmail`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'free@example.com' }),
    });
    assert.match(res.headers.get('access-control-expose-headers')!, /Authorization/);
    assert.match(res.headers.get('access-control-expose-headers')!, /Refreshtoken/);
    const evil = await fetch(`${t.url}/api/member/checkEmail`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'free@example.com' }),
    });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-expose-headers'), null);
  });
});

describe('one set of rules behind both APIs', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ now: MORNING });
  });
  after(() => t.close());

  const legacyHeaders = (token: string) => ({ authorization: `Bearer ${token}` });

  it('a seat reserved through the legacy path counts in /api/v1 lists, and the reverse', async () => {
    const [driver] = await quickMembers(t, 1, { driver: true });
    const [a, b] = await quickMembers(t, 2);
    const carpool = await postCarpool(t, driver!, { capacity: 3 });
    const call = httpClient(t.url);
    assert.equal(
      (await call('POST', '/api/carpool/reservation', { body: { carpoolId: carpool.id }, headers: legacyHeaders(a!.accessToken) })).status,
      200,
    );
    const v1 = await b!.call('GET', '/carpools');
    assert.equal(v1.body.items.find((c: { id: number }) => c.id === carpool.id).seatsTaken, 1);
    assert.equal((await b!.call('POST', `/carpools/${carpool.id}/reservations`)).status, 201);
    const legacy = await call('GET', '/api/carpool/list', { headers: legacyHeaders(a!.accessToken) });
    assert.equal(legacy.body.data.find((c: { carpoolId: number }) => c.carpoolId === carpool.id).reservationCount, 2);
  });

  it('under contention through the legacy path, exactly `capacity` reservations win', async () => {
    const [driver] = await quickMembers(t, 1, { driver: true });
    const riders = await quickMembers(t, 60);
    const carpool = await postCarpool(t, driver!, { capacity: 3 });
    const call = httpClient(t.url);
    const results = await Promise.all(
      riders.map((m) =>
        call('POST', '/api/carpool/reservation', { body: { carpoolId: carpool.id }, headers: legacyHeaders(m.accessToken) }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 3);
    const losers = results.filter((r) => r.status !== 200);
    assert.equal(losers.length, 57);
    for (const r of losers) assert.deepEqual([r.status, r.body.name, r.body.code], [409, 'CARPOOL_IS_FULL', 'MATE-002']);
    const state = await seatState(t, carpool.id);
    assert.equal(state.seatsTaken, 3);
    assert.equal(state.activePassengers, 3);
  });
});

describe('social sign-in of the legacy client', () => {
  let t: TestApp;
  let kakao: Awaited<ReturnType<typeof startOAuthProvider>>;
  const redirect = 'https://web.mate.example/oauth/kakao';
  before(async () => {
    kakao = await startOAuthProvider('kakao');
    t = await startTestApp({ env: { ...kakao.env, LEGACY_KAKAO_REDIRECT_URI: redirect } });
  });
  after(async () => {
    await t.close();
    await kakao.close();
  });

  it('exchanges the code the client received with its registered redirect URI; tokens in the headers', async () => {
    kakao.behaviour.user = 'user-77';
    const res = await fetch(`${t.url}/api/social/kakao/callback?code=${kakao.issueCode(redirect)}`);
    const body = (await res.json()) as { data: { providerType: string; memberId: null } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.data.providerType, 'KAKAO');
    assert.match(res.headers.get('authorization')!, /^Bearer eyJ/);
    assert.match(res.headers.get('refreshtoken')!, /^Bearer /);
    t.secrets.add(res.headers.get('authorization')!.slice(7)).add(res.headers.get('refreshtoken')!.slice(7));
  });

  it('a code issued for another redirect URI, or a made-up one, is a legacy AUTH-009 error', async () => {
    const wrong = await fetch(`${t.url}/api/social/kakao/callback?code=${kakao.issueCode('https://elsewhere.example/cb')}`);
    const body = (await wrong.json()) as { status: number; name: string; code: string };
    assert.equal(wrong.status, 400);
    assert.deepEqual([body.name, body.code], ['OAUTH_FAILED', 'AUTH-009']);
    assert.equal((await fetch(`${t.url}/api/social/kakao/callback?code=made-up`)).status, 400);
  });
});
