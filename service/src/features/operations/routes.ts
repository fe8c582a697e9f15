import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { AppDeps } from '../../app.js';

const require = createRequire(import.meta.url);
const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png']);

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MATE API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body></html>`;

/** Kept in a file of its own so the page needs no inline script (CSP). */
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });`;

/** Operations endpoints, outside /api/v1: probes, metrics and the API's own description. */
export function operationsRouter(deps: AppDeps, openapi: () => object): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks = await deps.readiness();
    const ready = !deps.lifecycle.draining && Object.values(checks).every((c) => c === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not ready', draining: deps.lifecycle.draining, checks };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi();
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = DOCS_HTML;
  });
  router.get('/docs/assets/:name', (ctx) => {
    if (ctx.params.name === 'docs-init.js') {
      ctx.type = 'application/javascript';
      ctx.body = DOCS_INIT;
      return;
    }
    if (!SWAGGER_ASSETS.has(ctx.params.name!)) return;
    ctx.type = path.extname(ctx.params.name!);
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fs.createReadStream(path.join(swaggerDir, ctx.params.name!));
  });
  return router;
}
