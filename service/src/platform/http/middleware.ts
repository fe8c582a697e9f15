import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { RouterContext } from '@koa/router';
import { ZodError } from 'zod';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { AppError, type ErrorCode, invalidInput, toProblem } from './errors.js';
import type { Principal } from './routes.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Accepts a well-formed X-Request-Id or makes one; echoes it back. */
export function requestId(): Koa.Middleware {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    ctx.state.requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}

/** The route template @koa/router matched, never the raw path: bounded label values. */
export function routeOf(ctx: Koa.Context): string {
  return (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'REQUEST-002',
  404: 'REQUEST-005',
  405: 'REQUEST-006',
  413: 'REQUEST-003',
  415: 'REQUEST-004',
  429: 'RATE-001',
  503: 'SERVER-002',
};

const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
const OUTAGE_MESSAGES =
  /enableOfflineQueue|Connection is closed|Command timed out|Reached the max retries|Timeout acquiring a connection|connect ETIMEDOUT/;

/** A dependency (database, Redis, S3, SMTP) that cannot be reached: 503, not 500. */
export function isDependencyOutage(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string; errno?: string };
  return (
    OUTAGE_CODES.has(e.code ?? '') ||
    OUTAGE_CODES.has(e.errno ?? '') ||
    e.name === 'KnexTimeoutError' ||
    e.name === 'MaxRetriesPerRequestError' ||
    OUTAGE_MESSAGES.test(e.message ?? '')
  );
}

/** An answer that carries credentials (tokens): no cache may keep it (RFC 6749 §5.1, RFC 9111). */
export function noStore(ctx: Koa.Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** Turns anything thrown into an AppError; unknown errors become a bare 500. */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDependencyOutage(err))
    return new AppError('SERVER-002', 'a dependency of this call is unavailable; try again shortly', { 'Retry-After': '5' });
  if (err instanceof ZodError) return invalidInput(err);
  const e = err as { status?: number; httpCode?: number; expose?: boolean; message?: string; type?: string };
  if (e.type === 'entity.too.large') return new AppError('REQUEST-003');
  if (e.type === 'entity.parse.failed') return new AppError('REQUEST-002', 'the JSON body could not be parsed');
  // koa-body reports formidable's limits as httpCode.
  const status = e.status ?? e.httpCode;
  const code = status ? STATUS_CODES[status] : undefined;
  if (code) return new AppError(code, e.expose && e.message ? e.message : undefined);
  return new AppError('SERVER-001', 'an unexpected error occurred');
}

/**
 * A path some route serves, asked with a method none of its routes takes (TRACE, PROPFIND or
 * PUT alike): 405 with `Allow` (RFC 9110 §15.5.6); OPTIONS: 204 with `Allow`. A path no route
 * serves stays 404. One middleware after all routers, in place of @koa/router's allowedMethods,
 * which answers 501 to every method outside its own list and, being per router, would say so for
 * a path another router serves: `ctx.matched` collects the layers of every router.
 */
export function allowedMethods(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || (ctx.body !== undefined && ctx.body !== null)) return;
    const allowed = new Set(((ctx as unknown as RouterContext).matched ?? []).flatMap((layer) => layer.methods));
    // A route of this method ran and found nothing: its 404 stands.
    if (allowed.size === 0 || allowed.has(ctx.method)) return;
    ctx.set('Allow', [...allowed].join(', '));
    ctx.status = ctx.method === 'OPTIONS' ? 204 : 405;
  };
}

export type ErrorRenderer = (ctx: Koa.Context, err: AppError) => void;

export const renderProblem: ErrorRenderer = (ctx, err) => {
  ctx.status = err.status;
  ctx.set(err.headers);
  ctx.type = 'application/problem+json; charset=utf-8';
  ctx.body = toProblem(err, ctx.state.requestId, ctx.path);
};

/**
 * Every error leaves as problem details (or, under the legacy adapter, its
 * own envelope: `ctx.state.renderError`). Internals stay in the log.
 */
export function errors(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // A status set without a body (no route, a method the route lacks) still gets a problem body.
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) throw new AppError('REQUEST-005', `no route for ${ctx.method} ${ctx.path}`);
        if (ctx.status === 405) {
          throw new AppError('REQUEST-006', `${ctx.method} is not allowed here; allowed: ${ctx.response.get('Allow')}`);
        }
      }
    } catch (err) {
      const appErr = asAppError(err);
      if (appErr.status >= 500) ctx.state.error = err;
      ctx.state.errorCode = appErr.code;
      const render: ErrorRenderer = ctx.state.renderError ?? renderProblem;
      render(ctx, appErr);
    }
  };
}

const principal = (ctx: Koa.Context) => ctx.state.principal as Principal | undefined;

/** One ECS log line and the HTTP metrics per request. */
export function accessLog(logger: Logger, metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    // Lines a handler writes carry the request id too; the child logger is made only for a handler that writes one.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (log ??= logger.child({ http: { request: { id: ctx.state.requestId } } })),
      enumerable: true,
    });
    try {
      await next();
    } finally {
      const ns = process.hrtime.bigint() - start;
      const route = routeOf(ctx);
      const labels = { method: ctx.method, route, status: String(ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(ns) / 1e9);
      const fields = {
        event: { kind: 'event', category: ['web'], duration: Number(ns) },
        http: {
          request: { id: ctx.state.requestId, method: ctx.method },
          response: { status_code: ctx.status },
          route,
        },
        url: { path: ctx.path },
        client: { ip: ctx.ip },
        user_agent: { original: ctx.get('User-Agent') || undefined },
        // The caller, once a route authenticated one (routes.ts); never the token.
        user: principal(ctx) ? { id: String(principal(ctx)!.id) } : undefined,
        err: ctx.state.error,
      };
      const level = ctx.status >= 500 ? 'error' : 'info';
      logger[level](fields, `${ctx.method} ${route} ${ctx.status}`);
    }
  };
}
