import type Koa from 'koa';
import { z } from '../../platform/http/zod.js';
import { AppError, ERRORS, type ErrorCode } from '../../platform/http/errors.js';
import type { ErrorFormat } from '../../platform/http/routes.js';

interface WireError {
  status: number;
  name: string;
  message: string;
}

/**
 * The predecessor's error answers, by the code it sent: its `ErrorCode` enum (HTTP status, name,
 * message) for every code this adapter can answer with, and the body its @Valid handler gave
 * invalid input (that code really is `입력값 오류`). The statuses matter: the client repeats a 401
 * with its refresh token and signs the member out when that fails, and on any 418.
 */
export const PREDECESSOR_ERRORS = {
  'ACCOUNT-001': { status: 400, name: 'USER_NOT_FOUND', message: '사용자를 찾을 수 없습니다.' },
  'ACCOUNT-002': { status: 400, name: 'DUPLICATE_EMAIL', message: '존재하는 이메일입니다.' },
  'ACCOUNT-003': { status: 400, name: 'DUPLICATE_MEMBER_ID', message: '존재하는 아이디 입니다.' },
  'ACCOUNT-004': { status: 400, name: 'DUPLICATE_NICKNAME', message: '존재하는 닉네임 입니다.' },
  'ACCOUNT-006': { status: 401, name: 'USER_IS_BANNED', message: '정지된 회원입니다.' },
  'ACCOUNT-007': { status: 401, name: 'DRIVER_NOT_FOUND', message: '드라이버가 아닙니다.' },
  'ACCOUNT-008': { status: 400, name: 'INVALID_PASSWORD', message: '사용자 정보가 일치하지 않습니다.' },
  'ACCOUNT-011': { status: 400, name: 'ALREADY_IS_DRIVER', message: '이미 등록한 아이디입니다.' },
  'MATE-001': { status: 404, name: 'CARPOOL_NOT_FOUND', message: '카풀 정보를 찾을 수 없습니다.' },
  'MATE-002': { status: 400, name: 'CARPOOL_IS_FULL', message: '카풀 좌석이 만석입니다.' },
  'MATE-003': { status: 400, name: 'CARPOOL_ALREADY_RESERVATIONS', message: '예약된 카풀이 있습니다.' },
  'MATE-006': { status: 400, name: 'ONLY_POSSIBLE_DRIVER', message: '드라이버만 카풀을 등록할 수 있습니다.' },
  'MATE-007': { status: 400, name: 'ONLY_DELETE_DRIVER', message: '등록한 드라이버만 카풀을 삭제할 수 있습니다.' },
  'MATE-008': { status: 400, name: 'CAN_NOT_RESERVATION_MY_CARPOOL', message: '자신이 등록한 카풀에는 예약할 수 없습니다.' },
  'REPORT-002': { status: 400, name: 'CARPOOL_REPORT_NOT_ALLOWED', message: '서비스를 이용한 지 7일이 지난 후에는 신고하실 수 없습니다.' },
  'REPORT-003': { status: 400, name: 'CAN_NOT_REPORT_MY_CARPOOL', message: '자신이 등록한 카풀에는 신고할 수 없습니다.' },
  'REPORT-004': { status: 400, name: 'CAN_NOT_REPORT_NOT_USE_CARPOOL', message: '자신이 이용하지 않은 카풀에는 신고할 수 없습니다.' },
  'AUTH-001': { status: 401, name: 'INVALID_TOKEN', message: '유효하지 않은 토큰입니다.' },
  'AUTH-002': { status: 401, name: 'EXPIRED_TOKEN', message: '만료된 토큰입니다.' },
  'AUTH-005': { status: 401, name: 'TOKEN_NOT_FOUND', message: '토큰이 존재하지 않습니다.' },
  'AUTH-007': { status: 400, name: 'NOT_EQUALS_REFRESH_TOKEN', message: '사용자의 로그인 정보가 이전과 다릅니다. 다시 로그인 해주세요' },
  'AUTH-008': { status: 418, name: 'EXPIRED_REFRESH_TOKEN', message: '리프레시 토큰이 만료되었습니다. 다시 로그인 해주세요.' },
  'S3-001': { status: 401, name: 'RESOURCE_NOT_FOUND', message: '이미지가 존재하지 않습니다.' },
  '입력값 오류': { status: 400, name: 'BAD_REQUEST', message: '입력값이 올바르지 않습니다.' },
} as const satisfies Record<string, WireError>;

type PredecessorCode = keyof typeof PREDECESSOR_ERRORS;

/** Our codes the predecessor answered under another one in the same situation. */
const AS_PREDECESSOR: Partial<Record<ErrorCode, PredecessorCode>> = {
  'REQUEST-001': '입력값 오류',
  'REQUEST-002': '입력값 오류',
  // Cancelling without a reservation: the predecessor found no carpool to cancel (its MATE-004 meant something else).
  'MATE-004': 'MATE-001',
};

const wireCode = (code: ErrorCode): string => AS_PREDECESSOR[code] ?? code;

/** What a code looks like on the legacy paths; codes the predecessor lacked keep their own (never a 401). */
function wireError(code: ErrorCode): WireError & { code: string } {
  const c = wireCode(code);
  const known = (PREDECESSOR_ERRORS as Record<string, WireError>)[c];
  return { code: c, ...(known ?? { status: ERRORS[code].status, name: ERRORS[code].name, message: ERRORS[code].ko }) };
}

/** Every code the legacy paths can answer with, and its status and name (the document's `x-legacy-error-codes`). */
export const LEGACY_ERROR_CODES: Record<string, { status: number; name: string }> = Object.fromEntries(
  (Object.keys(ERRORS) as ErrorCode[]).map((code) => {
    const e = wireError(code);
    return [e.code, { status: e.status, name: e.name }];
  }),
);

export const legacyErrorSchema = z
  .object({
    status: z.number().int(),
    name: z.string().openapi({ example: 'CARPOOL_IS_FULL' }),
    code: z.enum(Object.keys(LEGACY_ERROR_CODES) as [string, ...string[]]),
    message: z.string().openapi({ example: '카풀 좌석이 만석입니다.' }),
  })
  .openapi('LegacyError');

export const LEGACY_ERRORS: ErrorFormat = {
  media: 'application/json',
  schema: legacyErrorSchema,
  statusOf: (code) => wireError(code).status,
  describe: (code) => {
    const e = wireError(code);
    return `${e.code} ${e.name}`;
  },
};

export function renderLegacyError(ctx: Koa.Context, err: AppError): void {
  const e = wireError(err.code);
  // Like the predecessor's @Valid handler, invalid input names what was wrong.
  const field = e.code === '입력값 오류' ? (err.extra.errors as { path: string }[] | undefined)?.[0]?.path : undefined;
  ctx.status = e.status;
  ctx.set(err.headers);
  ctx.type = 'application/json';
  ctx.body = { status: e.status, name: e.name, code: e.code, message: field ? `${e.message} (${field})` : e.message };
}

/** The legacy paths: everything under /api except /api/v1, and the upload. */
export const isLegacyPath = (path: string) => (path.startsWith('/api/') && !path.startsWith('/api/v1/')) || path === '/file/upload';

/** Errors on legacy paths leave in the legacy body (set before routing, so 404s are covered too). */
export function legacyErrors(): Koa.Middleware {
  return async (ctx, next) => {
    if (isLegacyPath(ctx.path)) ctx.state.renderError = renderLegacyError;
    await next();
  };
}
