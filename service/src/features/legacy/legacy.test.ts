import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
import { MORNING, postCarpool, quickMembers, seatState } from '../carpools/fixtures.js';
import { PNG_1x1 } from '../files/fixtures.js';
import { newMember } from '../auth/fixtures.js';
import { startOAuthProvider } from '../../testing/oauth-provider.js';
import { carpoolListEnvelope, historyEnvelope, memberEnvelope, myCarpoolEnvelope } from './schemas.js';
import { legacyClient, legacyError, ok, ORIGIN, predecessorError } from './fixtures.js';

const GRACE_SECONDS = 5;

describe('the existing web client, end to end through the legacy API', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp({
      now: MORNING,
      env: {
        CORS_ORIGINS: ORIGIN,
        ACCESS_TOKEN_TTL_SECONDS: '600',
        MAIL_MAX_PER_HOUR: '50',
        REFRESH_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS),
      },
    });
    call = httpClient(t.url);
  });
  after(() => t.close());

  const driver = { memberId: 'driverA1', email: 'drivera@example.com', password: 'drive2work', nickname: '운전왕' };
  const rider = { memberId: 'riderB1', email: 'riderb@example.com', password: 'ride2work', nickname: '탑승객' };

  it('plays the whole journey in the client order and shapes, every success HTTP 200 with the predecessor’s status and message', async () => {
    const d = legacyClient(t);
    const r = legacyClient(t);
    t.secrets.add(driver.password).add(rider.password);

    // Duplicate checks, sign up (body status CREATED, HTTP 200: the client moves on on '회원가입 성공'), sign in (tokens from headers).
    assert.equal(ok(await d.send('POST', '/api/member/checkMemberId', { memberId: driver.memberId }), '아이디 체크'), true);
    assert.equal(ok(await d.send('POST', '/api/member/checkEmail', { email: driver.email }), '이메일 체크'), true);
    assert.equal(ok(await d.send('POST', '/api/member/checkNickname', { nickname: driver.nickname }), '닉네임 체크'), true);
    assert.equal(ok(await d.send('POST', '/api/member/signUp', driver), '회원가입 성공', 'CREATED'), true);
    assert.equal(ok(await r.send('POST', '/api/member/signUp', rider), '회원가입 성공', 'CREATED'), true);
    predecessorError(await d.send('POST', '/api/member/checkMemberId', { memberId: driver.memberId }), 'ACCOUNT-003');

    const signIn = await d.send('POST', '/api/member/signIn', { memberId: driver.memberId, password: driver.password });
    const me = ok(signIn, '로그인');
    memberEnvelope.parse(signIn.body);
    assert.match(signIn.headers.get('authorization')!, /^Bearer eyJ/);
    assert.match(signIn.headers.get('refreshtoken')!, /^Bearer \S+\.\S+/);
    assert.equal(me.memberId, driver.memberId);
    assert.equal(me.memberType, 'STANDARD');
    assert.equal(me.providerType, 'MATE');
    assert.equal(me.isDriver, false);
    assert.equal(me.reservation, false);
    assert.match(me.createDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    ok(await r.send('POST', '/api/member/signIn', { memberId: rider.memberId, password: rider.password }), '로그인');

    // No photo yet: the default image, served by the API (the client would otherwise load `/null`).
    const defaultImage: string = me.profileImage;
    assert.equal(defaultImage, `${t.deps.config.PUBLIC_BASE_URL}/api/v1/files/defaults/profile.svg`);
    const image = await fetch(new URL(new URL(defaultImage).pathname, t.url));
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/svg+xml');
    assert.equal(image.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.match(await image.text(), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // The profile form sends the URL back unchanged: nothing changes, the default stays.
    const profile = ok(
      await r.request('PUT', '/api/member/member', { nickname: rider.nickname, profileImage: defaultImage }),
      '프로필 수정',
    );
    assert.deepEqual(profile, { nickname: rider.nickname, profileImage: defaultImage });

    // No carpool today: 404 CARPOOL_NOT_FOUND, as the client's home page expects.
    predecessorError(await r.request('GET', '/api/carpool/myCarpool'), 'MATE-001');

    // Register as driver with an uploaded car image.
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(PNG_1x1)]), 'car.jpg');
    const url: string = ok(await d.request('POST', '/file/upload', undefined, { form }), '이미지 업로드 성공');
    assert.match(url, /image-[0-9a-f-]{36}\.png/);
    const asDriver = ok(
      await d.request('POST', '/api/member/driver', { carNumber: '12가3456', phoneNumber: '010-1234-5678', carImage: url }),
      '드라이버 등록 성공',
    );
    assert.equal(asDriver.isDriver, true);
    assert.equal(asDriver.carNumber, '12가3456');
    assert.match(asDriver.carImage, /image-/);
    const car = ok(
      await d.request('PUT', '/api/member/driver', { carNumber: '34나5678', phoneNumber: '010-1234-5678', carImage: url }),
      '드라이버 수정 성공',
    );
    assert.equal(car.carNumber, '34나5678');

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
      '카풀 생성 성공',
    );
    assert.equal(posted.departureTime, '2026-03-02T08:00:00');
    assert.equal(posted.driverName, driver.nickname);
    assert.equal(posted.driverImg, defaultImage);
    assert.equal(posted.reservationCount, 0);
    const id: number = posted.carpoolId;

    // The rider lists, all four sorts, each with the predecessor's message.
    for (const [path, message] of [
      ['/api/carpool/list', '카풀 조회 성공'],
      ['/api/carpool/active', '모집중인 카풀만 조화'],
      ['/api/carpool/fast', '빠른 시간순 카풀 조회'],
      ['/api/carpool/low', '낮은 가격순 카풀 조회'],
    ] as const) {
      const listed = await r.request('GET', path);
      carpoolListEnvelope.parse(listed.body);
      const list = ok(listed, message);
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
    assert.equal(ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: id }), '카풀 예약 성공'), id);
    const mineAsRider = ok(await r.request('GET', '/api/carpool/myCarpool'), '내 카풀 조회');
    assert.equal(mineAsRider.carpoolInfo.carpoolId, id);
    assert.equal(mineAsRider.amIDriver, false);
    const mineAsDriverReply = await d.request('GET', '/api/carpool/myCarpool');
    myCarpoolEnvelope.parse(mineAsDriverReply.body);
    const mineAsDriver = ok(mineAsDriverReply, '내 카풀 조회');
    assert.equal(mineAsDriver.amIDriver, true);
    assert.deepEqual(mineAsDriver.passengers, [{ passengerName: rider.nickname, passengerImg: defaultImage }]);
    assert.equal(ok(await r.request('GET', '/api/member'), '조회성공').reservation, true);
    assert.equal(ok(await r.request('POST', '/api/carpool/cancelCarpool'), '카풀 취소 성공'), '성공');
    predecessorError(await r.request('GET', '/api/carpool/myCarpool'), 'MATE-001');
    assert.equal(
      ok(await r.request('GET', '/api/carpool/list'), '카풀 조회 성공').find((c: { carpoolId: number }) => c.carpoolId === id)
        .reservationCount,
      0,
    );
    ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: id }), '카풀 예약 성공');

    // The driver deletes: the rider has no carpool today (404, the client's "no reservation" card) and is free again.
    assert.equal(ok(await d.request('DELETE', '/api/carpool/deleteCarpool'), '카풀 삭제 성공'), '성공');
    predecessorError(await r.request('GET', '/api/carpool/myCarpool'), 'MATE-001');
    assert.equal((await r.request('GET', '/api/v1/me/carpool')).body.status, 'cancelled', '/api/v1 tells the deleted case apart');

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
      '카풀 생성 성공',
    ).carpoolId;
    ok(await r.request('POST', '/api/carpool/reservation', { carpoolId: second }), '카풀 예약 성공');
    t.clock.set('2026-03-02T10:30:00+09:00');
    const ridesReply = await r.request('GET', '/api/carpool/history');
    historyEnvelope.parse(ridesReply.body);
    const rides = ok(ridesReply, '탑승 목록 조회 성공');
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
      ok(await d.request('GET', '/api/carpool/driveHis'), '운행 목록 조회 성공').map((x: { carpoolId: number }) => x.carpoolId),
      [second],
    );

    // Report the ride (the predecessor answered this one in plain text; now in the envelope the client parses).
    assert.equal(
      ok(
        await r.request('POST', `/api/report/${second}`, { reportTitle: '늦게 출발했어요', reportContent: '10분 늦게 출발했습니다.' }),
        '신고 접수가 완료되었습니다.',
      ),
      '신고 접수가 완료되었습니다.',
    );
    legacyError(
      await r.request('POST', `/api/report/${second}`, { reportTitle: '또', reportContent: '또' }),
      409,
      'ALREADY_REPORTED',
      'REPORT-005',
    );

    // Change the password: checked first, then changed (data true: the client moves on on it); other sessions end.
    const other = legacyClient(t);
    ok(await other.send('POST', '/api/member/signIn', { memberId: rider.memberId, password: rider.password }), '로그인');
    predecessorError(await r.request('POST', '/api/member/changePassword', { password: 'newride2go' }), 'ACCOUNT-008');
    predecessorError(await r.request('POST', '/api/member/checkPassword', { password: 'not-it-123' }), 'ACCOUNT-008');
    assert.equal(ok(await r.request('POST', '/api/member/checkPassword', { password: rider.password }), '비밀번호 확인 완료'), true);
    assert.equal(ok(await r.request('POST', '/api/member/changePassword', { password: 'newride2go' }), '비밀번호가 변경되었습니다.'), true);
    t.secrets.add('newride2go');
    assert.equal((await other.send('GET', '/api/member')).status, 401, 'the other session ended');
    assert.equal((await r.request('GET', '/api/member')).status, 200, 'this one stays');

    // Find the login id (masked; the full one by mail) and the password (a link, then used).
    const masked: string = ok(
      await call('POST', '/api/member/findMemberId', { body: { nickname: rider.nickname, email: rider.email } }),
      '멤버아이디 조회 성공',
    );
    assert.equal(masked.length, rider.memberId.length);
    assert.match(masked, /\*/);
    assert.notEqual(masked, rider.memberId);
    assert.match((await t.smtp.waitFor(rider.email)).text ?? '', new RegExp(rider.memberId));
    predecessorError(await call('POST', '/api/member/findMemberId', { body: { nickname: '남', email: rider.email } }), 'ACCOUNT-001');

    // The client shows its "mail sent" dialog on exactly '이메일이 발송되었습니다.'; the same answer when the pair does not match.
    const findPassword = (email: string) => call('POST', '/api/member/findPassword', { body: { memberId: rider.memberId, email } });
    assert.equal(ok(await findPassword(rider.email), '이메일이 발송되었습니다.'), true);
    assert.equal(ok(await findPassword('x@example.com'), '이메일이 발송되었습니다.'), true);
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
    ok(await legacyClient(t).send('POST', '/api/member/signIn', { memberId: rider.memberId, password: 'reset2ride' }), '로그인');

    assert.equal(ok(await d.request('DELETE', '/api/member/signOut'), `${driver.nickname} 회원 로그아웃 완료`), '');
    assert.equal((await d.send('GET', '/api/member')).status, 401);
  });

  it('the refresh dance: every call of a page repeated at once with one refresh token succeeds with the same new pair', async () => {
    const m = await newMember(t);
    const c = legacyClient(t);
    const signIn = await c.send('POST', '/api/member/signIn', { memberId: m.loginId, password: m.password });
    ok(signIn, '로그인');
    assert.equal(signIn.headers.get('cache-control'), 'no-store');
    const old = { ...c.session };
    t.clock.advance(11 * 60_000);
    predecessorError(await c.send('GET', '/api/member'), 'AUTH-002');

    // The home page's calls, each 401'd, each repeated with the same (old) pair, in parallel.
    const page = ['/api/member', '/api/carpool/list', '/api/carpool/active', '/api/carpool/history'];
    const retried = await Promise.all(page.map((path) => legacyClient(t, old).send('GET', path, undefined, { withRefresh: true })));
    for (const res of retried) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers.get('cache-control'), 'no-store', 'new tokens in the headers must not be cached');
    }
    const pairs = retried.map((res) => [res.headers.get('authorization'), res.headers.get('refreshtoken')]);
    const refreshTokens = new Set(pairs.map(([, refresh]) => refresh));
    assert.equal(refreshTokens.size, 1, 'one new refresh token for all');
    assert.notEqual([...refreshTokens][0], `Bearer ${old.refresh}`);
    for (const [access] of pairs) {
      t.secrets.add(access!.slice(7));
      assert.equal(ok(await legacyClient(t, { access: access!.slice(7) }).send('GET', '/api/member'), '조회성공').memberId, m.loginId);
    }
    t.secrets.add([...refreshTokens][0]!.slice(7));
  });

  it('after the grace period, the replaced refresh token is a reuse: 400 AUTH-007, and the whole session is revoked (418 after)', async () => {
    const m = await newMember(t);
    const c = legacyClient(t);
    ok(await c.send('POST', '/api/member/signIn', { memberId: m.loginId, password: m.password }), '로그인');
    const old = { ...c.session };
    t.clock.advance(11 * 60_000);
    const repeated = await c.request('GET', '/api/member');
    assert.equal(ok(repeated, '조회성공').memberId, m.loginId);
    assert.notEqual(c.session.refresh, old.refresh, 'a new refresh token came back');
    assert.notEqual(c.session.access, old.access);
    assert.equal(ok(await c.send('GET', '/api/member'), '조회성공').memberId, m.loginId, 'the new access token works');

    t.clock.advance((GRACE_SECONDS + 1) * 1000);
    predecessorError(await legacyClient(t, old).send('GET', '/api/member', undefined, { withRefresh: true }), 'AUTH-007');
    assert.equal((await c.send('GET', '/api/member')).status, 401, 'the new access token ended with the session');
    predecessorError(await c.send('GET', '/api/member', undefined, { withRefresh: true }), 'AUTH-008');
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
    for (const r of losers) predecessorError(r, 'MATE-002');
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
    const body = await res.json();
    assert.equal(ok({ status: res.status, headers: res.headers, body }, '소셜 회원가입 성공').providerType, 'KAKAO');
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
