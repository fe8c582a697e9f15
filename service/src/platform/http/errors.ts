import type { ZodError, ZodType } from 'zod';

/**
 * The error catalogue: every code the API can answer with, its HTTP status,
 * its name and its Korean message. Codes are stable: clients switch on them.
 * (The legacy paths answer the predecessor's status, name and message where
 * it had the code: features/legacy/errors.ts.)
 */
export const ERRORS = {
  'ACCOUNT-001': { status: 404, name: 'USER_NOT_FOUND', title: 'Member not found', ko: '회원을 찾을 수 없습니다.' },
  'ACCOUNT-002': { status: 409, name: 'DUPLICATE_EMAIL', title: 'Email already in use', ko: '이미 사용 중인 이메일입니다.' },
  'ACCOUNT-003': { status: 409, name: 'DUPLICATE_MEMBER_ID', title: 'Login id already in use', ko: '이미 사용 중인 아이디입니다.' },
  'ACCOUNT-004': { status: 409, name: 'DUPLICATE_NICKNAME', title: 'Nickname already in use', ko: '이미 사용 중인 닉네임입니다.' },
  'ACCOUNT-006': { status: 403, name: 'BANNED_MEMBER', title: 'Member is banned', ko: '정지된 회원입니다.' },
  'ACCOUNT-007': { status: 403, name: 'NOT_DRIVER', title: 'Not a driver', ko: '드라이버로 등록되지 않은 회원입니다.' },
  'ACCOUNT-008': { status: 401, name: 'INVALID_PASSWORD', title: 'Wrong credentials', ko: '아이디 또는 비밀번호가 올바르지 않습니다.' },
  'ACCOUNT-010': { status: 400, name: 'CANNOT_BAN_SELF', title: 'An admin cannot ban itself', ko: '자기 자신은 정지할 수 없습니다.' },
  'ACCOUNT-011': { status: 409, name: 'ALREADY_DRIVER', title: 'Already a driver', ko: '이미 드라이버로 등록된 회원입니다.' },
  'MATE-001': { status: 404, name: 'CARPOOL_NOT_FOUND', title: 'Carpool not found', ko: '카풀을 찾을 수 없습니다.' },
  'MATE-002': { status: 409, name: 'CARPOOL_IS_FULL', title: 'Carpool is full', ko: '남은 좌석이 없습니다.' },
  'MATE-003': { status: 409, name: 'ALREADY_IN_CARPOOL', title: 'Already in a carpool today', ko: '오늘 이미 참여 중인 카풀이 있습니다.' },
  'MATE-004': {
    status: 404,
    name: 'RESERVATION_NOT_FOUND',
    title: 'No reservation to cancel',
    ko: '취소할 예약이 없습니다.',
  },
  'MATE-006': {
    status: 403,
    name: 'ONLY_DRIVER_CAN_POST',
    title: 'Only drivers post carpools',
    ko: '드라이버만 카풀을 등록할 수 있습니다.',
  },
  'MATE-007': { status: 403, name: 'ONLY_DRIVER_CAN_DELETE', title: 'Only the driver deletes', ko: '카풀 작성자만 삭제할 수 있습니다.' },
  'MATE-008': { status: 409, name: 'CANNOT_RESERVE_OWN', title: 'Cannot reserve own carpool', ko: '자신의 카풀은 예약할 수 없습니다.' },
  'MATE-009': {
    status: 422,
    name: 'INVALID_DEPARTURE_TIME',
    title: 'Departure outside the service day',
    ko: '출발 시간은 오늘 운행일 안의 미래 시각이어야 합니다.',
  },
  'MATE-010': {
    status: 409,
    name: 'CARPOOL_DEPARTED',
    title: 'Carpool already departed',
    ko: '이미 출발한 카풀입니다.',
  },
  'REPORT-001': { status: 404, name: 'REPORT_NOT_FOUND', title: 'Report not found', ko: '신고를 찾을 수 없습니다.' },
  'REPORT-002': {
    status: 409,
    name: 'REPORT_PERIOD_EXPIRED',
    title: 'Report window (7 days) passed',
    ko: '신고 가능 기간(7일)이 지났습니다.',
  },
  'REPORT-003': { status: 403, name: 'CANNOT_REPORT_OWN', title: 'Cannot report own carpool', ko: '자신의 카풀은 신고할 수 없습니다.' },
  'REPORT-004': { status: 403, name: 'NOT_PASSENGER', title: 'Did not ride this carpool', ko: '탑승한 카풀만 신고할 수 있습니다.' },
  'REPORT-005': { status: 409, name: 'ALREADY_REPORTED', title: 'Already reported', ko: '이미 신고한 카풀입니다.' },
  'AUTH-001': { status: 401, name: 'INVALID_TOKEN', title: 'Invalid token', ko: '유효하지 않은 토큰입니다.' },
  'AUTH-002': { status: 401, name: 'EXPIRED_TOKEN', title: 'Expired token', ko: '만료된 토큰입니다.' },
  'AUTH-005': { status: 401, name: 'MISSING_TOKEN', title: 'Missing token', ko: '토큰이 없습니다.' },
  'AUTH-007': {
    status: 401,
    name: 'REFRESH_TOKEN_REUSED',
    title: 'Refresh token reused; session revoked',
    ko: '재사용된 토큰입니다. 다시 로그인해 주세요.',
  },
  'AUTH-008': { status: 401, name: 'EXPIRED_REFRESH_TOKEN', title: 'Refresh token expired or revoked', ko: '로그인이 만료되었습니다.' },
  'AUTH-009': { status: 400, name: 'OAUTH_FAILED', title: 'Social sign-in failed', ko: '소셜 로그인에 실패했습니다.' },
  'AUTH-011': {
    status: 502,
    name: 'OAUTH_PROVIDER_UNAVAILABLE',
    title: 'Social sign-in provider unavailable',
    ko: '소셜 로그인 서비스에 연결할 수 없습니다.',
  },
  'AUTH-012': {
    status: 404,
    name: 'OAUTH_PROVIDER_DISABLED',
    title: 'Social sign-in provider not configured',
    ko: '지원하지 않는 소셜 로그인입니다.',
  },
  'AUTH-010': {
    status: 400,
    name: 'INVALID_RESET_TOKEN',
    title: 'Reset link invalid or expired',
    ko: '비밀번호 재설정 링크가 유효하지 않습니다.',
  },
  'AUTH-403': { status: 403, name: 'FORBIDDEN', title: 'Forbidden', ko: '권한이 없습니다.' },
  'S3-001': { status: 404, name: 'FILE_NOT_FOUND', title: 'File not found', ko: '파일을 찾을 수 없습니다.' },
  'REQUEST-001': { status: 400, name: 'VALIDATION_FAILED', title: 'Validation failed', ko: '입력값이 올바르지 않습니다.' },
  'REQUEST-002': { status: 400, name: 'MALFORMED_BODY', title: 'Malformed request body', ko: '요청 본문을 해석할 수 없습니다.' },
  'REQUEST-003': { status: 413, name: 'PAYLOAD_TOO_LARGE', title: 'Payload too large', ko: '요청이 너무 큽니다.' },
  'REQUEST-004': { status: 415, name: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type', ko: '지원하지 않는 형식입니다.' },
  'REQUEST-005': { status: 404, name: 'NOT_FOUND', title: 'Not found', ko: '요청한 경로를 찾을 수 없습니다.' },
  'REQUEST-006': { status: 405, name: 'METHOD_NOT_ALLOWED', title: 'Method not allowed', ko: '허용되지 않은 메서드입니다.' },
  'RATE-001': {
    status: 429,
    name: 'TOO_MANY_REQUESTS',
    title: 'Too many requests',
    ko: '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
  },
  'SERVER-001': { status: 500, name: 'INTERNAL_ERROR', title: 'Internal error', ko: '서버 오류가 발생했습니다.' },
  'SERVER-002': { status: 503, name: 'SERVICE_UNAVAILABLE', title: 'Service unavailable', ko: '일시적으로 서비스를 이용할 수 없습니다.' },
} as const satisfies Record<string, { status: number; name: string; title: string; ko: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.status = ERRORS[code].status;
  }
}

/** REQUEST-001 for a schema's verdict: the first issue in the detail, all of them in `errors`. */
export function invalidInput(err: ZodError): AppError {
  const issue = err.issues[0];
  const where = issue?.path.join('.') || 'request';
  return new AppError(
    'REQUEST-001',
    `${where}: ${issue?.message ?? 'invalid'}`,
    {},
    { errors: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  );
}

/** A value that must satisfy a schema (a domain rule): the parsed value, or REQUEST-001. */
export function checked<T>(schema: ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput(result.error);
  return result.data;
}

/** RFC 9457 problem details, with the stable code and the request id. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
  [extra: string]: unknown;
}

export function toProblem(err: AppError, requestId: string, instance?: string): Problem {
  return {
    type: `https://mate.example/problems/${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    requestId,
    instance,
    ...err.extra,
  };
}
