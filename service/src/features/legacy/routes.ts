import fs from 'node:fs/promises';
import { z } from '../../platform/http/zod.js';
import { uploadedFile } from '../../platform/http/body.js';
import { AppError } from '../../platform/http/errors.js';
import { route, type RouteSpec } from '../../platform/http/routes.js';
import type { ServiceCalendar } from '../../platform/clock/index.js';
import type { AuthService } from '../auth/service.js';
import type { OAuth } from '../auth/oauth.js';
import type { CarpoolsService } from '../carpools/service.js';
import { idParams, type ListSort } from '../carpools/schemas.js';
import { MAX_CURSOR_PAGE_SIZE } from '../carpools/pagination.js';
import type { FilesService } from '../files/service.js';
import type { MembersService } from '../members/service.js';
import { emailSchema, loginIdSchema, nicknameSchema } from '../members/schemas.js';
import type { ReportsService } from '../reports/service.js';
import { envelope } from './envelope.js';
import { sendTokens } from './authenticate.js';
import {
  carpoolBody,
  carpoolEnvelope,
  carpoolListEnvelope,
  changePasswordBody,
  checkPasswordBody,
  driverBody,
  driverEnvelope,
  findMemberIdBody,
  findPasswordBody,
  historyEnvelope,
  memberEnvelope,
  messageEnvelope,
  myCarpoolEnvelope,
  newCarpoolBody,
  numberEnvelope,
  profileBody,
  profileEnvelope,
  reportBody,
  reservationBody,
  signInBody,
  signUpBody,
  stringEnvelope,
  trueEnvelope,
} from './schemas.js';
import { fileKeyFromUrl, legacyViews, maskLoginId } from './views.js';
import type { Context } from 'koa';

export interface LegacyParts {
  auth: AuthService;
  oauth: OAuth;
  members: MembersService;
  files: FilesService;
  carpools: CarpoolsService;
  reports: ReportsService;
  calendar: ServiceCalendar;
  clientIp: (ctx: Context) => string;
}

const TAG = 'legacy (deprecated: use /api/v1)';
/** A legacy list is one array; it is read page by page up to this many items. */
const MAX_LEGACY_ITEMS = 500;

/**
 * The predecessor's API for the existing web client: the same services as
 * /api/v1 (no rule is written twice), the old paths, bodies and envelopes.
 * Every success is HTTP 200 with the `status` and `message` the predecessor's
 * service put in the body (the client matches on some of the messages).
 */
/** The driver fields of a legacy body, with the car image URL turned back into its file key. */
const driverInput = (body: { carNumber: string; phoneNumber: string; carImage?: string | null }) => ({
  carNumber: body.carNumber,
  phoneNumber: body.phoneNumber,
  carImageKey: fileKeyFromUrl(body.carImage),
});

export function legacyRoutes(p: LegacyParts): RouteSpec[] {
  const v = legacyViews(p.calendar, p.files.defaultProfileImageUrl);
  const legacy = <P, Q, B, E>(spec: Omit<RouteSpec<P, Q, B, E>, 'tag' | 'deprecated' | 'status'>) =>
    route<P, Q, B, E>({ ...spec, tag: TAG, deprecated: true });

  async function memberOf(id: number) {
    const [view, today, count] = await Promise.all([
      p.members.require(id).then((m) => p.members.toView(m)),
      p.carpools.participationToday(id),
      p.carpools.participationCount(id),
    ]);
    return v.member(view, { reservation: !!today, carpoolCount: count });
  }

  async function allToday(sort: ListSort, available: boolean) {
    const items = [];
    let cursor: string | undefined;
    do {
      const page = await p.carpools.listToday({ sort, available, size: MAX_CURSOR_PAGE_SIZE, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < MAX_LEGACY_ITEMS);
    return items.map(v.carpool);
  }

  async function allHistory(memberId: number, kind: 'rides' | 'drives') {
    const items = [];
    let cursor: string | undefined;
    do {
      const page = await p.carpools.history(memberId, kind, { size: MAX_CURSOR_PAGE_SIZE, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < MAX_LEGACY_ITEMS);
    return items.map(v.history);
  }

  /**
   * The client's departure picker offers 7 or 8 o'clock and shows tomorrow's date, but sends the
   * browser's date of today with the chosen time. Only the time of day counts: the carpool leaves
   * at that time within the current service day (before the day's start hour, that is on the
   * service day's second calendar date). A time already past there is still MATE-009.
   */
  function departureInServiceDay(localDateTime: string): string {
    const time = localDateTime.slice(11);
    const day = p.calendar.today();
    const date = Number(time.slice(0, 2)) >= p.calendar.settings.startHour ? day : p.calendar.addDays(day, 1);
    return p.calendar.fromLocalDateTime(`${date}T${time}`).toISOString();
  }

  const availability =
    (field: 'loginId' | 'email' | 'nickname', code: 'ACCOUNT-003' | 'ACCOUNT-002' | 'ACCOUNT-004', message: string) =>
    async (value: string, ctx: Context) => {
      if (!(await p.auth.isAvailable(field, value, p.clientIp(ctx)))) throw new AppError(code);
      return envelope(true, message);
    };

  const lists: Array<[string, ListSort, boolean, string, string]> = [
    ['/api/carpool/list', 'latest', false, "Today's carpools, newest first", '카풀 조회 성공'],
    ['/api/carpool/active', 'latest', true, "Today's carpools with a free seat", '모집중인 카풀만 조화'],
    ['/api/carpool/fast', 'departure', false, "Today's carpools, earliest departure first", '빠른 시간순 카풀 조회'],
    ['/api/carpool/low', 'cost', false, "Today's carpools, cheapest first", '낮은 가격순 카풀 조회'],
  ];

  return [
    legacy({
      method: 'post',
      path: '/api/member/signUp',
      summary: 'Sign up (HTTP 200, body status CREATED)',
      access: 'public',
      body: signUpBody.body,
      response: trueEnvelope,
      errors: ['ACCOUNT-002', 'ACCOUNT-003', 'ACCOUNT-004'],
      handler: async ({ body }) => {
        await p.auth.signup(signUpBody.toV1(body));
        return envelope(true, '회원가입 성공', 'CREATED');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/signIn',
      summary: 'Sign in; the tokens come back in the Authorization and Refreshtoken headers',
      access: 'public',
      issuesTokens: true,
      body: signInBody.body,
      response: memberEnvelope,
      errors: ['ACCOUNT-008', 'ACCOUNT-006'],
      handler: async ({ body, ctx }) => {
        const { member, tokens } = await p.auth.signin(signInBody.toV1(body), p.clientIp(ctx));
        sendTokens(ctx, tokens);
        return envelope(await memberOf(Number(member.id)), '로그인');
      },
    }),
    legacy({
      method: 'delete',
      path: '/api/member/signOut',
      summary: 'Sign out (revokes the session)',
      access: 'member',
      response: messageEnvelope,
      handler: async ({ principal }) => {
        const { nickname } = await p.members.require(principal.id);
        await p.auth.signout(principal.sessionId, principal.id);
        return envelope('', `${nickname} 회원 로그아웃 완료`);
      },
    }),
    legacy({
      method: 'get',
      path: '/api/member',
      summary: 'My member record',
      access: 'member',
      response: memberEnvelope,
      handler: async ({ principal }) => envelope(await memberOf(principal.id), '조회성공'),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkEmail',
      summary: 'true when the email is free; DUPLICATE_EMAIL when taken',
      access: 'public',
      body: z.object({ email: emailSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-002', 'RATE-001'],
      handler: ({ body, ctx }) => availability('email', 'ACCOUNT-002', '이메일 체크')(body.email, ctx),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkMemberId',
      summary: 'true when the login id is free; DUPLICATE_MEMBER_ID when taken',
      access: 'public',
      body: z.object({ memberId: loginIdSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-003', 'RATE-001'],
      handler: ({ body, ctx }) => availability('loginId', 'ACCOUNT-003', '아이디 체크')(body.memberId, ctx),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkNickname',
      summary: 'true when the nickname is free; DUPLICATE_NICKNAME when taken',
      access: 'public',
      body: z.object({ nickname: nicknameSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-004', 'RATE-001'],
      handler: ({ body, ctx }) => availability('nickname', 'ACCOUNT-004', '닉네임 체크')(body.nickname, ctx),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkPassword',
      summary: 'true when it is the current password (then changePassword is allowed for 5 minutes)',
      access: 'member',
      body: checkPasswordBody,
      response: trueEnvelope,
      errors: ['ACCOUNT-008', 'RATE-001'],
      handler: async ({ principal, body, ctx }) => {
        await p.auth.confirmPassword(principal.id, principal.sessionId, body.password, p.clientIp(ctx));
        return envelope(true, '비밀번호 확인 완료');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/changePassword',
      summary: 'Change the password after checkPassword; ends every other session',
      description:
        'The legacy client confirms the current password with checkPassword first; this call needs that confirmation (same session, within 5 minutes), so the rule "changing the password requires the current one" holds here too.',
      access: 'member',
      body: changePasswordBody,
      response: trueEnvelope,
      errors: ['ACCOUNT-008'],
      handler: async ({ principal, body }) => {
        await p.auth.changeConfirmedPassword(principal.id, principal.sessionId, body.password);
        return envelope(true, '비밀번호가 변경되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/findMemberId',
      summary: 'The login id, masked; the full id is mailed to that address',
      access: 'public',
      body: findMemberIdBody,
      response: stringEnvelope,
      errors: ['ACCOUNT-001'],
      handler: async ({ body, ctx }) => {
        // The predecessor showed the (masked) id when email and nickname matched; it also goes by mail.
        const member = await p.auth.forgotLoginId(body.email, p.clientIp(ctx), body.nickname);
        if (!member) throw new AppError('ACCOUNT-001');
        return envelope(maskLoginId(member.login_id!), '멤버아이디 조회 성공');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/findPassword',
      summary: 'true whether or not they match; on a match a single-use reset link is mailed',
      access: 'public',
      body: findPasswordBody.body,
      response: trueEnvelope,
      handler: async ({ body, ctx }) => {
        await p.auth.forgotPassword(findPasswordBody.toV1(body), p.clientIp(ctx));
        return envelope(true, '이메일이 발송되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/driver',
      summary: 'Register as a driver (car number, phone number, car image URL from /file/upload)',
      access: 'member',
      body: driverBody,
      response: memberEnvelope,
      errors: ['S3-001', 'ACCOUNT-011'],
      handler: async ({ principal, body }) => {
        await p.members.registerDriver(principal.id, driverInput(body));
        return envelope(await memberOf(principal.id), '드라이버 등록 성공');
      },
    }),
    legacy({
      method: 'put',
      path: '/api/member/driver',
      summary: 'Update my car',
      access: 'member',
      body: driverBody,
      response: driverEnvelope,
      errors: ['S3-001', 'ACCOUNT-007'],
      handler: async ({ principal, body }) => {
        if (!(await p.members.isDriver(principal.id))) throw new AppError('ACCOUNT-007');
        const { member } = await p.members.upsertDriver(principal.id, driverInput(body));
        const view = await p.members.toView(member);
        return envelope(
          { carNumber: view.driver!.carNumber, phoneNumber: view.driver!.phoneNumber, carImage: view.driver!.carImageUrl },
          '드라이버 수정 성공',
        );
      },
    }),
    legacy({
      method: 'put',
      path: '/api/member/member',
      summary: 'Update my nickname and profile image URL',
      access: 'member',
      body: profileBody,
      response: profileEnvelope,
      errors: ['ACCOUNT-004', 'S3-001'],
      handler: async ({ principal, body }) => {
        const before = await p.members.require(principal.id);
        const profileImageKey = fileKeyFromUrl(body.profileImage);
        const member = await p.members.updateProfile(principal.id, { nickname: body.nickname, profileImageKey });
        const view = await p.members.toView(member);
        const newImage = profileImageKey !== undefined && profileImageKey !== before.profile_image_key;
        return envelope(
          { nickname: view.nickname, profileImage: v.profileImage(view.profileImageUrl) },
          newImage ? '프로필 수정 성공' : '프로필 수정',
        );
      },
    }),
    ...lists.map(([path, sort, available, summary, message]) =>
      legacy({
        method: 'get',
        path,
        summary,
        access: 'member',
        response: carpoolListEnvelope,
        early: p.carpools.earlyListVersion,
        // The whole answer (every page of today, reshaped) is rendered once per list version, then sent as bytes.
        handler: async ({ ctx, early }) => {
          ctx.type = 'application/json';
          return p.carpools.todayRendered(
            `legacy:${path}`,
            async () => JSON.stringify(envelope(await allToday(sort, available), message)),
            early,
          );
        },
      }),
    ),
    legacy({
      method: 'post',
      path: '/api/carpool',
      summary: "Post a carpool (drivers only); it leaves at departureTime's time of day within the current service day",
      access: 'member',
      body: newCarpoolBody,
      response: carpoolEnvelope,
      errors: ['MATE-006', 'MATE-003', 'MATE-009'],
      handler: async ({ principal, body }) => {
        const { departureTime, ...rest } = body;
        const carpool = await p.carpools.post(principal.id, {
          ...carpoolBody.toV1(rest),
          departureAt: departureInServiceDay(departureTime),
        });
        return envelope(v.carpool(carpool), '카풀 생성 성공');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/carpool/reservation',
      summary: 'Reserve a seat; data is the carpool id',
      access: 'member',
      body: reservationBody,
      response: numberEnvelope,
      errors: ['MATE-001', 'MATE-002', 'MATE-003', 'MATE-008', 'MATE-010'],
      handler: async ({ principal, body }) => {
        const r = await p.carpools.reserve(principal.id, body.carpoolId);
        return envelope(r.carpoolId, '카풀 예약 성공');
      },
    }),
    // The predecessor's cancel and delete name no carpool: they act on today's.
    legacy({
      method: 'post',
      path: '/api/carpool/cancelCarpool',
      summary: 'Cancel my reservation of today',
      access: 'member',
      response: messageEnvelope,
      errors: ['MATE-001', 'MATE-004', 'MATE-010'],
      handler: async ({ principal }) => {
        const today = await p.carpools.participationToday(principal.id);
        // Nothing to cancel was CARPOOL_NOT_FOUND for the predecessor too.
        if (today?.role !== 'passenger')
          throw new AppError('MATE-001', today ? 'you drive this carpool: delete it instead' : 'you hold no reservation today');
        await p.carpools.cancelReservation(principal.id, today.carpoolId);
        return envelope('성공', '카풀 취소 성공');
      },
    }),
    legacy({
      method: 'delete',
      path: '/api/carpool/deleteCarpool',
      summary: 'Delete my carpool of today (its reservations end with it)',
      access: 'member',
      response: messageEnvelope,
      errors: ['MATE-001', 'MATE-007', 'MATE-010'],
      handler: async ({ principal }) => {
        const today = await p.carpools.participationToday(principal.id);
        if (!today) throw new AppError('MATE-001', 'you take part in no carpool today');
        if (today.role !== 'driver') throw new AppError('MATE-007', 'you ride this carpool: cancel your reservation instead');
        await p.carpools.deleteCarpool(principal.id, today.carpoolId);
        return envelope('성공', '카풀 삭제 성공');
      },
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/myCarpool',
      summary: "Today's carpool with its passengers, and whether I drive it; CARPOOL_NOT_FOUND when I have none",
      description:
        'No carpool today (never had one, cancelled, or the driver deleted it) is 404 CARPOOL_NOT_FOUND, as the predecessor answered: the client shows its "no reservation" card on it. /api/v1/me/carpool tells the deleted case apart.',
      access: 'member',
      response: myCarpoolEnvelope,
      errors: ['MATE-001'],
      handler: async ({ principal }) => {
        const mine = await p.carpools.myCarpool(principal.id);
        if (mine.status !== 'active' || !mine.carpool) throw new AppError('MATE-001', mine.detail);
        return envelope(
          {
            carpoolInfo: v.carpool(mine.carpool),
            passengers: mine.passengers.map((x) => ({ passengerName: x.nickname, passengerImg: v.profileImage(x.profileImageUrl) })),
            amIDriver: mine.amIDriver,
          },
          '내 카풀 조회',
        );
      },
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/history',
      summary: 'My rides of earlier days, newest first',
      access: 'member',
      response: historyEnvelope,
      handler: async ({ principal }) => envelope(await allHistory(principal.id, 'rides'), '탑승 목록 조회 성공'),
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/driveHis',
      summary: 'My drives of earlier days, newest first',
      access: 'member',
      response: historyEnvelope,
      handler: async ({ principal }) => envelope(await allHistory(principal.id, 'drives'), '운행 목록 조회 성공'),
    }),
    legacy({
      method: 'post',
      path: '/api/report/{carpoolId}',
      summary: 'Report a carpool I rode',
      access: 'member',
      params: z.object({ carpoolId: idParams.shape.id }),
      body: reportBody.body,
      response: messageEnvelope,
      errors: ['MATE-001', 'REPORT-002', 'REPORT-003', 'REPORT-004', 'REPORT-005'],
      handler: async ({ principal, params, body }) => {
        await p.reports.report(principal.id, params.carpoolId, reportBody.toV1(body));
        return envelope('신고 접수가 완료되었습니다.', '신고 접수가 완료되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/file/upload',
      summary: 'Upload an image (JPEG, PNG or WebP, at most 5 MiB); data is its URL',
      access: 'member',
      bodyType: 'multipart',
      body: z.object({ file: uploadedFile }),
      response: stringEnvelope,
      errors: ['REQUEST-003', 'REQUEST-004'],
      handler: async ({ principal, body }) => {
        const stored = await p.files.upload(principal.id, 'image', await fs.readFile(body.file.filepath));
        return envelope(stored.url, '이미지 업로드 성공');
      },
    }),
    ...(['kakao', 'line'] as const).map((provider) =>
      legacy({
        method: 'get',
        path: `/api/social/${provider}/callback`,
        summary: `${provider === 'kakao' ? 'Kakao' : 'LINE'} sign-in with the code the client received; tokens in the headers`,
        description:
          'The legacy client runs the provider redirect itself, so there is no server-side state or PKCE on this path; the code is exchanged with the redirect URI the client registered (LEGACY_<PROVIDER>_REDIRECT_URI).',
        access: 'public',
        issuesTokens: true,
        query: z.object({ code: z.string().min(1).max(1000) }),
        response: memberEnvelope,
        errors: ['AUTH-009', 'AUTH-011', 'AUTH-012', 'ACCOUNT-006'],
        handler: async ({ query, ctx }) => {
          const member = await p.oauth.signInWithCode(provider, query.code, { legacy: true });
          sendTokens(ctx, await p.auth.issue(member));
          return envelope(await memberOf(Number(member.id)), '소셜 회원가입 성공');
        },
      }),
    ),
  ];
}
