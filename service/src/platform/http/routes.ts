import type Koa from 'koa';
import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { ZodType } from 'zod';
import { z } from './zod.js';
import { jsonBody, multipartBody, multipartEncoding } from './body.js';
import { AppError, ERRORS, type ErrorCode } from './errors.js';
import { noStore } from './middleware.js';
import { documentConstraints, refinementsOf } from './openapi.js';

/**
 * `schema | null` for a registered (named) schema. zod-to-openapi 9 renders
 * `schema.nullable()` as `allOf: [{$ref}, {type: [object, null]}]`, which null
 * never satisfies (and marks the component itself nullable when it is first met
 * that way); a union renders as `anyOf: [{$ref}, {type: 'null'}]`.
 */
export const nullableRef = <T extends ZodType>(schema: T) => z.union([schema, z.null()]);

/** Who may call a route. Declared with the route, so the OpenAPI document shows it. */
export type Access = 'public' | 'member' | 'admin';

export interface Principal {
  id: number;
  role: 'member' | 'admin';
  sessionId: string;
}

/** Resolves the caller from the request, or throws AUTH-xxx / ACCOUNT-006. */
export type Authenticate = (ctx: Koa.Context) => Promise<Principal>;

export interface RouteInput<P, Q, B, E = undefined> {
  ctx: Koa.Context;
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  /** What the route's `early` started. */
  early: E;
}

export interface RouteSpec<P = any, Q = any, B = any, E = any> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI-style path, `{id}` for parameters. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /** Multipart bodies are parsed only on routes that take them. */
  bodyType?: 'json' | 'multipart';
  status?: number;
  response?: ZodType;
  /** Non-JSON answers (redirects, files, HTML). */
  responseDescription?: string;
  /** Success answers besides `status`, for handlers that set `ctx.status` themselves. */
  alsoResponds?: Record<number, SuccessAnswer>;
  errors?: ErrorCode[];
  deprecated?: boolean;
  /** The answer carries tokens: sent with `Cache-Control: no-store` (noStore). */
  issuesTokens?: boolean;
  /**
   * Started beside the authentication, before the caller is known, so that a store read the
   * handler needs goes to Redis with the session check, in one round trip (auto-pipelining),
   * instead of one round trip after it. Only for reads that are the same for every caller and
   * reveal nothing; what it returns must not reject unawaited (a refused call never awaits it).
   */
  early?: () => E;
  handler: (input: RouteInput<P, Q, B, E>) => Promise<unknown> | unknown;
}

export interface SuccessAnswer {
  description: string;
  response?: ZodType;
  /** Header name → what it holds (e.g. a redirect's `Location`). */
  headers?: Record<string, string>;
}

/** A typed route; the identity function only lets TypeScript infer P, Q, B and E. */
export function route<P = undefined, Q = undefined, B = undefined, E = undefined>(spec: RouteSpec<P, Q, B, E>): RouteSpec<P, Q, B, E> {
  return spec;
}

const NO_STORE_HEADERS = { 'Cache-Control': 'no-store: the answer carries tokens', Pragma: 'no-cache' };

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    instance: z.string().optional(),
  })
  .openapi('Problem');

const ACCESS_ERRORS: Record<Access, ErrorCode[]> = {
  public: [],
  member: ['AUTH-001', 'AUTH-002', 'AUTH-005', 'ACCOUNT-006'],
  admin: ['AUTH-001', 'AUTH-002', 'AUTH-005', 'ACCOUNT-006', 'AUTH-403'],
};

const COMMON_ERRORS: ErrorCode[] = ['REQUEST-001', 'RATE-001', 'SERVER-001', 'SERVER-002'];

/** How a route table's errors look on the wire (problem details, or the legacy envelope). */
export interface ErrorFormat {
  media: string;
  schema: ZodType;
  statusOf: (code: ErrorCode) => number;
  /** How the document names what a client receives for a code (its code on the wire first). */
  describe: (code: ErrorCode) => string;
}

const PROBLEM_FORMAT: ErrorFormat = {
  media: 'application/problem+json',
  schema: problemSchema,
  statusOf: (code) => ERRORS[code].status,
  describe: (code) => `${code} ${ERRORS[code].title}`,
};

function errorResponses(codes: ErrorCode[], format: ErrorFormat) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = format.statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: [...new Set(list.map(format.describe))].join('; '),
        content: { [format.media]: { schema: format.schema } },
      },
    ]),
  );
}

function successResponse({ description, response, headers }: SuccessAnswer) {
  return {
    description,
    headers:
      headers &&
      Object.fromEntries(Object.entries(headers).map(([name, what]) => [name, { description: what, schema: { type: 'string' } }])),
    content: response ? { 'application/json': { schema: response } } : undefined,
  };
}

export interface RouteTableOptions {
  prefix: string;
  registry: OpenAPIRegistry;
  authenticate: Authenticate;
  /** Codes `authenticate` answers besides the usual ones (the legacy refresh dance's). */
  authenticationErrors?: ErrorCode[];
  jsonLimitBytes: number;
  multipartLimitBytes: number;
  /** Where multipart bodies put their files while a call runs. */
  uploadDir: string;
  errorFormat?: ErrorFormat;
}

/**
 * Mounts route specs on a router and describes each one in the OpenAPI registry. A call is
 * authenticated before its body is read (nobody uploads anything unauthenticated), then its
 * params, query and body are validated before the handler runs.
 */
export function mountRoutes(router: Router, specs: RouteSpec[], opts: RouteTableOptions): void {
  const readJson = jsonBody(opts.jsonLimitBytes);
  const readMultipart = multipartBody({ fileBytes: opts.multipartLimitBytes, uploadDir: opts.uploadDir });
  for (const spec of specs) {
    const status = spec.status ?? 200;
    const codes = [
      ...(spec.errors ?? []),
      ...ACCESS_ERRORS[spec.access],
      ...(spec.access === 'public' ? [] : (opts.authenticationErrors ?? [])),
      ...COMMON_ERRORS,
      ...(spec.body ? (['REQUEST-002', 'REQUEST-003', 'REQUEST-004'] as ErrorCode[]) : []),
    ];
    for (const schema of [spec.params, spec.query, spec.body, spec.response]) if (schema) documentConstraints(schema);
    // Rules on the query or params object as a whole have no schema of their own in the document.
    const rules = [...refinementsOf(spec.params), ...refinementsOf(spec.query)];
    const multipart = spec.bodyType === 'multipart';
    const bodyMedia = multipart ? 'multipart/form-data' : 'application/json';
    const success: SuccessAnswer = {
      description: spec.responseDescription ?? spec.summary,
      response: spec.response,
      headers: spec.issuesTokens ? NO_STORE_HEADERS : undefined,
    };
    opts.registry.registerPath({
      method: spec.method,
      path: opts.prefix + spec.path,
      tags: [spec.tag],
      summary: spec.summary,
      description: [spec.description, rules.length ? `Also checked: ${rules.join('; ')}.` : '', `Access: ${spec.access}.`]
        .filter(Boolean)
        .join('\n\n'),
      deprecated: spec.deprecated,
      security: spec.access === 'public' ? [] : [{ bearer: [] }],
      'x-access': spec.access,
      ...(rules.length ? { 'x-refinements': rules } : {}),
      request: {
        params: spec.params as never,
        query: spec.query as never,
        body: spec.body
          ? {
              required: true,
              content: { [bodyMedia]: { schema: spec.body, encoding: multipart ? multipartEncoding(spec.body) : undefined } },
            }
          : undefined,
      },
      responses: {
        [status]: successResponse(success),
        ...Object.fromEntries(Object.entries(spec.alsoResponds ?? {}).map(([other, answer]) => [other, successResponse(answer)])),
        ...errorResponses(codes, opts.errorFormat ?? PROBLEM_FORMAT),
      },
    } as never);

    const readBody = spec.body ? (multipart ? readMultipart : readJson) : undefined;
    const handler: RouterMiddleware = async (ctx) => {
      const early = spec.early?.();
      const principal = spec.access === 'public' ? (undefined as unknown as Principal) : await opts.authenticate(ctx);
      if (spec.access === 'admin' && principal.role !== 'admin') throw new AppError('AUTH-403', 'this call needs the admin role');
      ctx.state.principal = principal;
      // The caller is known and the params and query are valid before the body is read.
      const params = spec.params ? spec.params.parse(ctx.params) : undefined;
      const query = spec.query ? spec.query.parse(ctx.query) : undefined;
      const respond = async () => {
        const body = spec.body
          ? spec.body.parse(multipart ? { ...(ctx.request.body as object), ...ctx.request.files } : ctx.request.body)
          : undefined;
        if (spec.issuesTokens) noStore(ctx);
        const result = await spec.handler({ ctx, principal, params, query, body, early } as RouteInput<unknown, unknown, unknown, unknown>);
        if (result !== undefined) {
          ctx.status = status;
          ctx.body = result;
        } else if (!ctx.body && ctx.status === 404) {
          ctx.status = 204;
        }
      };
      await (readBody ? readBody(ctx, respond) : respond());
    };
    const koaPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    router[spec.method](koaPath, handler);
  }
}
