import Koa from 'koa';
import Router from '@koa/router';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Config } from './platform/config/index.js';
import type { Db } from './platform/db/index.js';
import type { KeyValueStore } from './platform/cache/index.js';
import type { ObjectStorage } from './platform/storage/index.js';
import type { Mailer } from './platform/mail/index.js';
import type { Logger } from './platform/observability/logger.js';
import type { Metrics } from './platform/observability/metrics.js';
import { accessLog, allowedMethods, errors, requestId } from './platform/http/middleware.js';
import { mountRoutes, type RouteSpec } from './platform/http/routes.js';
import { ERRORS } from './platform/http/errors.js';
import { createFeatures, type Features } from './features/index.js';
import { MAX_IMAGE_BYTES } from './features/files/service.js';
import { LEGACY_ERROR_CODES, LEGACY_ERRORS, legacyErrors } from './features/legacy/errors.js';
import { LEGACY_AUTHENTICATION_ERRORS } from './features/legacy/authenticate.js';
import { operationsRouter } from './features/operations/routes.js';
import { API_PREFIX } from './platform/http/paths.js';

export interface Lifecycle {
  /** True from the first SIGTERM: readiness fails so the load balancer stops sending. */
  draining: boolean;
}

/** Everything the app needs from the outside world; tests and the embedded mode pass their own. */
export interface AppDeps {
  config: Config;
  db: Db;
  kv: KeyValueStore;
  storage: ObjectStorage;
  mailer: Mailer;
  logger: Logger;
  metrics: Metrics;
  clock: () => Date;
  lifecycle: Lifecycle;
  readiness: () => Promise<Record<string, string>>;
}

export interface AppOptions {
  /** Services already built over these deps (entry points and tests that also use them directly). */
  features?: Features;
  /** Extra routes, for tests that need a route of their own (a slow one, say). */
  extraRoutes?: RouteSpec[];
}

export function createApp(deps: AppDeps, options: AppOptions = {}) {
  const features = options.features ?? createFeatures(deps);
  const app = new Koa({ proxy: false });
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

  const bodies = {
    jsonLimitBytes: deps.config.BODY_LIMIT_BYTES,
    multipartLimitBytes: MAX_IMAGE_BYTES,
    uploadDir: deps.config.UPLOAD_TEMP_DIR,
  };
  const api = new Router({ prefix: API_PREFIX });
  mountRoutes(api, [...features.routes, ...(options.extraRoutes ?? [])], {
    prefix: API_PREFIX,
    registry,
    authenticate: features.authenticate,
    ...bodies,
  });
  // The predecessor's API for the existing web client: its paths, envelopes and refresh dance.
  const legacy = new Router();
  mountRoutes(legacy, features.legacy.routes, {
    prefix: '',
    registry,
    authenticate: features.legacy.authenticate,
    authenticationErrors: LEGACY_AUTHENTICATION_ERRORS,
    ...bodies,
    errorFormat: LEGACY_ERRORS,
  });

  let document: object | undefined;
  const openapi = () =>
    (document ??= {
      ...new OpenApiGeneratorV31(registry.definitions).generateDocument({
        openapi: '3.1.0',
        info: {
          title: 'MATE API',
          version: '1.0.0',
          description: 'Commuter carpools: accounts, carpools, reservations, reports, administration.',
        },
        servers: [{ url: deps.config.PUBLIC_BASE_URL }],
      }),
      // Every code a client can meet, with its status: clients switch on these.
      'x-error-codes': Object.fromEntries(
        Object.entries(ERRORS).map(([code, e]) => [code, { status: e.status, name: e.name, title: e.title }]),
      ),
      // The legacy paths answer with the predecessor's codes and statuses instead.
      'x-legacy-error-codes': LEGACY_ERROR_CODES,
    });

  const allowed = new Set(deps.config.CORS_ORIGINS);
  const ops = operationsRouter(deps, openapi);

  app.use(requestId());
  app.use(async (ctx, next) => {
    // While draining, keep-alive clients are told to reconnect (to another pod).
    if (deps.lifecycle.draining) ctx.set('Connection', 'close');
    await next();
  });
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(legacyErrors());
  app.use(errors());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'script-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
      },
      crossOriginResourcePolicy: { policy: 'same-site' },
    }),
  );
  app.use(
    cors({
      // Echo an allowed origin, never '*': the web client sends credentials.
      origin: (ctx) => (allowed.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
      credentials: true,
      allowHeaders: ['Authorization', 'Content-Type', 'Refreshtoken', 'X-Request-Id'],
      exposeHeaders: ['Authorization', 'Refreshtoken', 'X-Request-Id'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    }),
  );
  app.use(allowedMethods());
  for (const r of [ops, api, legacy, ...features.pages]) app.use(r.routes());
  return app;
}
