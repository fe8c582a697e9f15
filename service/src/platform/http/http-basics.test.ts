import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { z } from 'zod';
import { route } from './routes.js';
import { startTestApp, type TestApp } from '../../testing/harness.js';

const echo = route({
  method: 'post',
  path: '/test/echo',
  tag: 'test',
  summary: 'echo',
  access: 'public',
  body: z.object({ name: z.string().min(1) }),
  handler: ({ body }) => body,
});
const boom = route({
  method: 'get',
  path: '/test/boom',
  tag: 'test',
  summary: 'always fails',
  access: 'public',
  handler: () => {
    throw new Error('connection to db-internal.example:3306 refused (password=hunter2)');
  },
});

async function expectProblem(res: Response, status: number, code: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.equal(body.requestId, res.headers.get('x-request-id'));
  assert.equal(typeof body.detail, 'string');
  assert.ok(!JSON.stringify(body).includes('at '), 'no stack trace');
  return body;
}

/** A request fetch() will not send (TRACE is a forbidden method there). */
function rawRequest(url: string, method: string, headers: Record<string, string> = {}, body?: Buffer) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP basics', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ extraRoutes: [echo, boom], env: { BODY_LIMIT_BYTES: '2048' } });
  });
  after(() => t.close());

  const post = (body: string, type = 'application/json') =>
    fetch(`${t.url}/api/v1/test/echo`, { method: 'POST', headers: { 'content-type': type }, body });

  it('accepts a valid body and echoes the request id it was given', async () => {
    const res = await fetch(`${t.url}/api/v1/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-req-42' },
      body: JSON.stringify({ name: '카풀' }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'client-req-42');
    assert.deepEqual(await res.json(), { name: '카풀' });
  });

  it('generates a request id when none or a malformed one is given', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces\t' } });
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('malformed JSON → 400 REQUEST-002', async () => {
    await expectProblem(await post('{"name": '), 400, 'REQUEST-002');
  });

  it('a body over the limit → 413 REQUEST-003', async () => {
    await expectProblem(await post(JSON.stringify({ name: 'x'.repeat(4096) })), 413, 'REQUEST-003');
  });

  it('a body of another content type → 415 REQUEST-004', async () => {
    await expectProblem(await post('name=x', 'text/plain'), 415, 'REQUEST-004');
  });

  it('a body that fails validation → 400 REQUEST-001 naming the field', async () => {
    const body = await expectProblem(await post(JSON.stringify({ name: '' })), 400, 'REQUEST-001');
    assert.match(String(body.detail), /name/);
  });

  it('an unknown route → 404 REQUEST-005', async () => {
    await expectProblem(await fetch(`${t.url}/api/v1/nowhere`), 404, 'REQUEST-005');
    await expectProblem(await fetch(`${t.url}/nowhere`), 404, 'REQUEST-005');
  });

  it('a known route with another method → 405 REQUEST-006 with Allow', async () => {
    const res = await fetch(`${t.url}/api/v1/test/echo`);
    await expectProblem(res, 405, 'REQUEST-006');
    assert.match(res.headers.get('allow') ?? '', /POST/);
  });

  it('any method a known path does not take (TRACE, PROPFIND, PUT, HEAD) → 405 REQUEST-006 problem with its Allow', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'PUT', 'HEAD']) {
      const res = await rawRequest(`${t.url}/api/v1/test/echo`, method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'POST', method);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', method);
      if (method !== 'HEAD') assert.equal(JSON.parse(res.text).code, 'REQUEST-006', method);
    }
    const legacy = await rawRequest(`${t.url}/api/member/signIn`, 'TRACE');
    assert.equal(legacy.status, 405);
    assert.equal(legacy.headers.allow, 'POST');
    assert.equal(JSON.parse(legacy.text).code, 'REQUEST-006', 'in the legacy error body there');
    const get = await rawRequest(`${t.url}/healthz`, 'PROPFIND');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'HEAD, GET');
  });

  it('any method on an unknown path → 404 REQUEST-005; OPTIONS on a known one → 204 with Allow', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'GET']) {
      const res = await rawRequest(`${t.url}/api/v1/nowhere`, method);
      assert.equal(res.status, 404, method);
      assert.equal(JSON.parse(res.text).code, 'REQUEST-005', method);
    }
    const options = await rawRequest(`${t.url}/api/v1/test/echo`, 'OPTIONS');
    assert.equal(options.status, 204);
    assert.equal(options.headers.allow, 'POST');
  });

  const encoded = (coding: string, body: Buffer | string) =>
    fetch(`${t.url}/api/v1/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': coding },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });

  it('a JSON body really compressed with gzip, deflate or br is read', async () => {
    const json = JSON.stringify({ name: '압축' });
    for (const [coding, bytes] of [
      ['gzip', zlib.gzipSync(json)],
      ['deflate', zlib.deflateSync(json)],
      ['br', zlib.brotliCompressSync(json)],
      ['GZip', zlib.gzipSync(json)],
      ['x-gzip', zlib.gzipSync(json)],
    ] as const) {
      const res = await encoded(coding, bytes);
      assert.equal(res.status, 200, coding);
      assert.deepEqual(await res.json(), { name: '압축' }, coding);
    }
  });

  it('a body that is not what its Content-Encoding says → 400 REQUEST-002, nothing logged as an error', async () => {
    const json = JSON.stringify({ name: 'plain' });
    for (const [coding, bytes] of [
      ['gzip', Buffer.from(json)],
      ['deflate', Buffer.from(json)],
      ['br', Buffer.from(json)],
      ['gzip', zlib.gzipSync(json).subarray(0, 12)],
    ] as const) {
      const res = await encoded(coding, bytes);
      const body = await expectProblem(res, 400, 'REQUEST-002');
      assert.match(String(body.detail), new RegExp(`not valid ${coding}`), coding);
      assert.ok(
        !t.logs.some((l) => l.includes(res.headers.get('x-request-id')!) && l.includes('"log.level":"error"')),
        'not an error in the log',
      );
    }
  });

  it('a compressed body that inflates past the limit → 413 REQUEST-003', async () => {
    await expectProblem(await encoded('gzip', zlib.gzipSync(JSON.stringify({ name: 'x'.repeat(100_000) }))), 413, 'REQUEST-003');
  });

  it('an unknown or stacked content coding → 415 REQUEST-004 naming the accepted ones', async () => {
    for (const coding of ['zstd', 'compress', 'gzip, br']) {
      const res = await encoded(coding, '{"name":"x"}');
      const body = await expectProblem(res, 415, 'REQUEST-004');
      assert.equal(res.headers.get('accept-encoding'), 'gzip, deflate, br', coding);
      assert.match(String(body.detail), /Content-Encoding/);
    }
  });

  it('an unexpected error → 500 SERVER-001 without internals, which go to the log only', async () => {
    const res = await fetch(`${t.url}/api/v1/test/boom`);
    const body = await expectProblem(res, 500, 'SERVER-001');
    const text = JSON.stringify(body);
    assert.ok(!text.includes('db-internal') && !text.includes('hunter2'));
    const line = t.logs.find((l) => l.includes(res.headers.get('x-request-id')!) && l.includes('"error"'));
    assert.ok(line, 'the error is logged with its request id');
    assert.ok(line.includes('db-internal'), 'the log keeps the cause');
  });

  it('sets security headers', async () => {
    const res = await fetch(`${t.url}/healthz`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('content-security-policy'));
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/test/echo'], 'routes are described from their definitions');
    const docs = await fetch(`${t.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui/);
    assert.equal((await fetch(`${t.url}/docs/assets/swagger-ui-bundle.js`)).status, 200);
  });

  it('exposes request metrics by route template', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(text, /mate_http_requests_total\{method="POST",route="\/api\/v1\/test\/echo",status="200"\} \d+/);
    assert.match(text, /process_resident_memory_bytes/);
  });
});

describe('CORS', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ database: 'sqlite', env: { CORS_ORIGINS: 'https://web.mate.example' } });
  });
  after(() => t.close());

  it('echoes an allowed origin with credentials, and answers the preflight', async () => {
    const res = await fetch(`${t.url}/healthz`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://web.mate.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,refreshtoken',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://web.mate.example');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Refreshtoken/);
    const get = await fetch(`${t.url}/healthz`, { headers: { origin: 'https://web.mate.example' } });
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /Authorization/);
  });

  it('gives another origin nothing', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });
});
