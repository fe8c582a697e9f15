import type Koa from 'koa';
import { z } from 'zod';
import { AppError, ERRORS, type ErrorCode } from '../../platform/http/errors.js';
import type { ErrorFormat } from '../../platform/http/routes.js';

/**
 * The predecessor's wire format, kept for the existing web client:
 * success `{ message, status: "OK", data }`, error `{ status, name, code, message }`.
 */
const STATUS_NAMES: Record<number, string> = { 200: 'OK', 201: 'CREATED' };

export function envelope<T>(data: T, message: string, status = 200) {
  return { message, status: STATUS_NAMES[status] ?? String(status), data };
}

export const envelopeOf = <T extends z.ZodType>(data: T, name: string) =>
  z.object({ message: z.string(), status: z.string().openapi({ example: 'OK' }), data }).openapi(name);

/** The client signs the user out on 418: a refresh token that is expired, revoked or reused. */
export function legacyStatus(code: ErrorCode): number {
  return code === 'AUTH-007' || code === 'AUTH-008' ? 418 : ERRORS[code].status;
}

export const legacyErrorSchema = z
  .object({
    status: z.number().int(),
    name: z.string().openapi({ example: 'CARPOOL_IS_FULL' }),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string().openapi({ example: '남은 좌석이 없습니다.' }),
  })
  .openapi('LegacyError');

export const LEGACY_ERRORS: ErrorFormat = { media: 'application/json', schema: legacyErrorSchema, statusOf: legacyStatus };

export function renderLegacyError(ctx: Koa.Context, err: AppError): void {
  const status = legacyStatus(err.code);
  ctx.status = status;
  ctx.set(err.headers);
  ctx.body = { status, name: ERRORS[err.code].name, code: err.code, message: ERRORS[err.code].ko };
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
