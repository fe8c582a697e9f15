import fs from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../platform/http/errors.js';
import { route, type RouteSpec } from '../../platform/http/routes.js';
import type { ServiceCalendar } from '../../platform/clock/index.js';
import type { AuthService } from '../auth/service.js';
import type { OAuth } from '../auth/oauth.js';
import type { CarpoolsService } from '../carpools/service.js';
import type { ListSort } from '../carpools/schemas.js';
import { MAX_CURSOR_PAGE_SIZE } from '../carpools/pagination.js';
import type { FilesService } from '../files/service.js';
import type { MembersService } from '../members/service.js';
import { emailSchema, loginIdSchema, nicknameSchema, passwordSchema, carNumberSchema, phoneNumberSchema } from '../members/schemas.js';
import type { ReportsService } from '../reports/service.js';
import { envelope } from './envelope.js';
import {
  carpoolEnvelope,
  carpoolListEnvelope,
  driverEnvelope,
  historyEnvelope,
  memberEnvelope,
  messageEnvelope,
  myCarpoolEnvelope,
  numberEnvelope,
  profileEnvelope,
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
 */
export function legacyRoutes(p: LegacyParts): RouteSpec[] {
  const v = legacyViews(p.calendar);
  const legacy = <P, Q, B>(spec: Omit<RouteSpec<P, Q, B>, 'tag' | 'deprecated'>) => route<P, Q, B>({ ...spec, tag: TAG, deprecated: true });

  async function memberOf(id: number) {
    const [view, today, count] = await Promise.all([
      p.members.require(id).then((m) => p.members.toView(m)),
      p.carpools.participationToday(id),
      p.carpools.participationCount(id),
    ]);
    return v.member(view, { reservation: !!today, carpoolCount: count });
  }

  function setTokenHeaders(ctx: Context, tokens: { accessToken: string; refreshToken: string }) {
    ctx.set('Authorization', `Bearer ${tokens.accessToken}`);
    ctx.set('Refreshtoken', `Bearer ${tokens.refreshToken}`);
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

  const availability =
    (field: 'loginId' | 'email' | 'nickname', code: 'ACCOUNT-003' | 'ACCOUNT-002' | 'ACCOUNT-004') => async (value: string) => {
      if (!(await p.members.isAvailable(field, value))) throw new AppError(code);
      return envelope(true, '사용 가능합니다.');
    };

  const lists: Array<[string, ListSort, boolean, string]> = [
    ['/api/carpool/list', 'latest', false, "Today's carpools, newest first"],
    ['/api/carpool/active', 'latest', true, "Today's carpools with a free seat"],
    ['/api/carpool/fast', 'departure', false, "Today's carpools, earliest departure first"],
    ['/api/carpool/low', 'cost', false, "Today's carpools, cheapest first"],
  ];

  const driverBody = z.object({
    carNumber: carNumberSchema,
    phoneNumber: phoneNumberSchema,
    carImage: z.string().max(2000).optional().nullable(),
  });
  const registerDriver = legacy({
    method: 'post',
    path: '/api/member/driver',
    summary: 'Register as a driver (car number, phone number, car image URL from /file/upload)',
    access: 'member',
    body: driverBody,
    response: memberEnvelope,
    errors: ['S3-001', 'ACCOUNT-011'],
    handler: async ({ principal, body }) => {
      await p.members.registerDriver(principal.id, {
        carNumber: body.carNumber,
        phoneNumber: body.phoneNumber,
        carImageKey: fileKeyFromUrl(body.carImage),
      });
      return envelope(await memberOf(principal.id), '드라이버로 등록되었습니다.');
    },
  });

  return [
    legacy({
      method: 'post',
      path: '/api/member/signUp',
      summary: 'Sign up',
      access: 'public',
      status: 201,
      body: z.object({ memberId: loginIdSchema, email: emailSchema, password: passwordSchema, nickname: nicknameSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-002', 'ACCOUNT-003', 'ACCOUNT-004'],
      handler: async ({ body }) => {
        await p.auth.signup({ loginId: body.memberId, email: body.email, nickname: body.nickname, password: body.password });
        return envelope(true, '회원가입이 완료되었습니다.', 201);
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/signIn',
      summary: 'Sign in; the tokens come back in the Authorization and Refreshtoken headers',
      access: 'public',
      body: z.object({ memberId: z.string().trim().min(1).max(64), password: z.string().min(1).max(128) }),
      response: memberEnvelope,
      errors: ['ACCOUNT-008', 'ACCOUNT-006'],
      handler: async ({ body, ctx }) => {
        const { member, tokens } = await p.auth.signin({ loginId: body.memberId, password: body.password }, p.clientIp(ctx));
        setTokenHeaders(ctx, tokens);
        return envelope(await memberOf(Number(member.id)), '로그인되었습니다.');
      },
    }),
    legacy({
      method: 'delete',
      path: '/api/member/signOut',
      summary: 'Sign out (revokes the session)',
      access: 'member',
      response: messageEnvelope,
      handler: async ({ principal }) => {
        await p.auth.signout(principal.sessionId, principal.id);
        return envelope('로그아웃되었습니다.', '로그아웃되었습니다.');
      },
    }),
    legacy({
      method: 'get',
      path: '/api/member',
      summary: 'My member record',
      access: 'member',
      response: memberEnvelope,
      handler: async ({ principal }) => envelope(await memberOf(principal.id), '회원 정보입니다.'),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkEmail',
      summary: 'true when the email is free; DUPLICATE_EMAIL when taken',
      access: 'public',
      body: z.object({ email: emailSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-002'],
      handler: ({ body }) => availability('email', 'ACCOUNT-002')(body.email),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkMemberId',
      summary: 'true when the login id is free; DUPLICATE_MEMBER_ID when taken',
      access: 'public',
      body: z.object({ memberId: loginIdSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-003'],
      handler: ({ body }) => availability('loginId', 'ACCOUNT-003')(body.memberId),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkNickname',
      summary: 'true when the nickname is free; DUPLICATE_NICKNAME when taken',
      access: 'public',
      body: z.object({ nickname: nicknameSchema }),
      response: trueEnvelope,
      errors: ['ACCOUNT-004'],
      handler: ({ body }) => availability('nickname', 'ACCOUNT-004')(body.nickname),
    }),
    legacy({
      method: 'post',
      path: '/api/member/checkPassword',
      summary: 'true when it is the current password (then changePassword is allowed for 5 minutes)',
      access: 'member',
      body: z.object({ password: z.string().min(1).max(128) }),
      response: trueEnvelope,
      errors: ['ACCOUNT-008'],
      handler: async ({ principal, body }) => {
        await p.auth.confirmPassword(principal.id, principal.sessionId, body.password);
        return envelope(true, '비밀번호가 확인되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/changePassword',
      summary: 'Change the password after checkPassword; ends every other session',
      description:
        'The legacy client confirms the current password with checkPassword first; this call needs that confirmation (same session, within 5 minutes), so the rule "changing the password requires the current one" holds here too.',
      access: 'member',
      body: z.object({ password: passwordSchema }),
      response: messageEnvelope,
      errors: ['ACCOUNT-008'],
      handler: async ({ principal, body }) => {
        await p.auth.changeConfirmedPassword(principal.id, principal.sessionId, body.password);
        return envelope('비밀번호가 변경되었습니다.', '비밀번호가 변경되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/findMemberId',
      summary: 'The login id, masked; the full id is mailed to that address',
      access: 'public',
      body: z.object({ nickname: z.string().trim().min(1).max(20), email: z.string().trim().min(3).max(254) }),
      response: stringEnvelope,
      errors: ['ACCOUNT-001'],
      handler: async ({ body, ctx }) => {
        const member = await p.auth.forgotLoginId(body.email, p.clientIp(ctx), body.nickname);
        if (!member) throw new AppError('ACCOUNT-001');
        return envelope(maskLoginId(member.login_id!), '아이디를 이메일로 보냈습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/member/findPassword',
      summary: 'true whether or not they match; on a match a single-use reset link is mailed',
      access: 'public',
      body: z.object({ memberId: z.string().trim().min(1).max(64), email: z.string().trim().min(3).max(254) }),
      response: trueEnvelope,
      handler: async ({ body, ctx }) => {
        await p.auth.forgotPassword({ loginId: body.memberId, email: body.email }, p.clientIp(ctx));
        return envelope(true, '비밀번호 재설정 링크를 이메일로 보냈습니다.');
      },
    }),
    registerDriver,
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
        const { member } = await p.members.upsertDriver(principal.id, {
          carNumber: body.carNumber,
          phoneNumber: body.phoneNumber,
          carImageKey: fileKeyFromUrl(body.carImage),
        });
        const view = await p.members.toView(member);
        return envelope(
          { carNumber: view.driver!.carNumber, phoneNumber: view.driver!.phoneNumber, carImage: view.driver!.carImageUrl },
          '차량 정보가 수정되었습니다.',
        );
      },
    }),
    legacy({
      method: 'put',
      path: '/api/member/member',
      summary: 'Update my nickname and profile image URL',
      access: 'member',
      body: z.object({ nickname: nicknameSchema.optional(), profileImage: z.string().max(2000).optional().nullable() }),
      response: profileEnvelope,
      errors: ['ACCOUNT-004', 'S3-001'],
      handler: async ({ principal, body }) => {
        const member = await p.members.updateProfile(principal.id, {
          nickname: body.nickname,
          profileImageKey: fileKeyFromUrl(body.profileImage),
        });
        const view = await p.members.toView(member);
        return envelope({ nickname: view.nickname, profileImage: view.profileImageUrl }, '회원 정보가 수정되었습니다.');
      },
    }),
    ...lists.map(([path, sort, available, summary]) =>
      legacy({
        method: 'get',
        path,
        summary,
        access: 'member',
        response: carpoolListEnvelope,
        handler: async () => envelope(await allToday(sort, available), '카풀 목록입니다.'),
      }),
    ),
    legacy({
      method: 'post',
      path: '/api/carpool',
      summary: 'Post a carpool (drivers only); departureTime is a local date-time in the service time zone',
      access: 'member',
      status: 201,
      body: z.object({
        departureCoordinate: z.string(),
        latitude: z.number(),
        longitude: z.number(),
        departureTime: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'a local date-time such as 2025-02-23T08:00:00'),
        chatLink: z.string(),
        capacity: z.number(),
        cost: z.number(),
      }),
      response: carpoolEnvelope,
      errors: ['MATE-006', 'MATE-003', 'MATE-009'],
      handler: async ({ principal, body }) => {
        const carpool = await p.carpools.post(principal.id, {
          departurePlace: body.departureCoordinate,
          latitude: body.latitude,
          longitude: body.longitude,
          departureAt: p.calendar.fromLocalDateTime(body.departureTime).toISOString(),
          chatLink: body.chatLink,
          capacity: body.capacity,
          cost: body.cost,
        });
        return envelope(v.carpool(carpool), '카풀이 등록되었습니다.', 201);
      },
    }),
    legacy({
      method: 'post',
      path: '/api/carpool/reservation',
      summary: 'Reserve a seat; data is the carpool id',
      access: 'member',
      body: z.object({ carpoolId: z.coerce.number().int().positive() }),
      response: numberEnvelope,
      errors: ['MATE-001', 'MATE-002', 'MATE-003', 'MATE-008', 'MATE-010'],
      handler: async ({ principal, body }) => {
        const r = await p.carpools.reserve(principal.id, body.carpoolId);
        return envelope(r.carpoolId, '예약되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/api/carpool/cancelCarpool',
      summary: 'Cancel my reservation of today',
      access: 'member',
      response: messageEnvelope,
      errors: ['MATE-001', 'MATE-004', 'MATE-010'],
      handler: async ({ principal }) => {
        await p.carpools.cancelReservation(principal.id);
        return envelope('예약이 취소되었습니다.', '예약이 취소되었습니다.');
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
        await p.carpools.deleteCarpool(principal.id);
        return envelope('카풀이 삭제되었습니다.', '카풀이 삭제되었습니다.');
      },
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/myCarpool',
      summary: "Today's carpool with its passengers, and whether I drive it",
      access: 'member',
      response: myCarpoolEnvelope,
      handler: async ({ principal }) => {
        const mine = await p.carpools.myCarpool(principal.id);
        return envelope(
          {
            carpoolInfo: mine.status === 'active' && mine.carpool ? v.carpool(mine.carpool) : null,
            passengers: mine.passengers.map((x) => ({ passengerName: x.nickname, passengerImg: x.profileImageUrl })),
            amIDriver: mine.amIDriver,
          },
          mine.status === 'cancelled' ? '운전자가 카풀을 삭제했습니다. 다른 카풀을 예약할 수 있습니다.' : '오늘의 카풀입니다.',
        );
      },
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/history',
      summary: 'My rides of earlier days, newest first',
      access: 'member',
      response: historyEnvelope,
      handler: async ({ principal }) => envelope(await allHistory(principal.id, 'rides'), '탑승 기록입니다.'),
    }),
    legacy({
      method: 'get',
      path: '/api/carpool/driveHis',
      summary: 'My drives of earlier days, newest first',
      access: 'member',
      response: historyEnvelope,
      handler: async ({ principal }) => envelope(await allHistory(principal.id, 'drives'), '운행 기록입니다.'),
    }),
    legacy({
      method: 'post',
      path: '/api/report/{carpoolId}',
      summary: 'Report a carpool I rode',
      access: 'member',
      params: z.object({ carpoolId: z.coerce.number().int().positive() }),
      body: z.object({ reportTitle: z.string(), reportContent: z.string() }),
      response: messageEnvelope,
      errors: ['MATE-001', 'REPORT-002', 'REPORT-003', 'REPORT-004', 'REPORT-005'],
      handler: async ({ principal, params, body }) => {
        await p.reports.report(principal.id, params.carpoolId, { title: body.reportTitle, content: body.reportContent });
        return envelope('신고가 접수되었습니다.', '신고가 접수되었습니다.');
      },
    }),
    legacy({
      method: 'post',
      path: '/file/upload',
      summary: 'Upload an image (JPEG, PNG or WebP, at most 5 MiB); data is its URL',
      access: 'member',
      bodyType: 'multipart',
      body: z.object({
        file: z
          .custom<{ filepath: string }>((x) => !!x && typeof x === 'object' && 'filepath' in x, 'a file part named `file`')
          .openapi({ type: 'string', format: 'binary' }),
      }),
      response: stringEnvelope,
      errors: ['REQUEST-003', 'REQUEST-004'],
      handler: async ({ principal, body }) => {
        try {
          const stored = await p.files.upload(principal.id, 'image', await fs.readFile(body.file.filepath));
          return envelope(stored.url, '업로드되었습니다.');
        } finally {
          await fs.rm(body.file.filepath, { force: true });
        }
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
        query: z.object({ code: z.string().min(1).max(1000) }),
        response: memberEnvelope,
        errors: ['AUTH-009', 'AUTH-011', 'AUTH-012', 'ACCOUNT-006'],
        handler: async ({ query, ctx }) => {
          const member = await p.oauth.signInWithCode(provider, query.code, { legacy: true });
          setTokenHeaders(ctx, await p.auth.issue(member));
          return envelope(await memberOf(Number(member.id)), '로그인되었습니다.');
        },
      }),
    ),
  ];
}
