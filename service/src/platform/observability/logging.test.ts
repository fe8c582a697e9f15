import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { route } from '../http/routes.js';
import { assertNoSecretsLogged, startTestApp, type TestApp } from '../../testing/harness.js';
import { redact } from './logger.js';

const SECRET_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXNlY3JldA';
const SECRET_PASSWORD = 'correct-horse-battery-9';

/** A route that logs its whole input, as careless code might. */
const careless = route({
  method: 'post',
  path: '/test/careless',
  tag: 'test',
  summary: 'logs what it got',
  access: 'public',
  body: z.object({ loginId: z.string(), password: z.string(), nested: z.object({ refreshToken: z.string() }) }),
  handler: ({ ctx, body }) => {
    ctx.state.log.info({ body, headers: ctx.headers }, 'got a sign-in');
    return { ok: true };
  },
});

describe('logging', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ extraRoutes: [careless] });
  });
  after(() => t.close());

  it('writes one ECS line per request with the request id, method, route, status and duration', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'log-test-1' } });
    assert.equal(res.status, 200);
    const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.http?.request?.id === 'log-test-1');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line['log.level'], 'info');
    assert.match(line['@timestamp'], /^\d{4}-\d\d-\d\dT/);
    assert.equal(line.http.request.method, 'GET');
    assert.equal(line.http.route, '/healthz');
    assert.equal(line.http.response.status_code, 200);
    assert.equal(typeof line.event.duration, 'number');
  });

  it('never writes an Authorization header, a token or a password', async () => {
    const res = await fetch(`${t.url}/api/v1/test/careless`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SECRET_TOKEN}`,
        cookie: `sid=${SECRET_TOKEN}`,
        'content-type': 'application/json',
        'x-request-id': 'log-test-2',
      },
      body: JSON.stringify({ loginId: 'someone', password: SECRET_PASSWORD, nested: { refreshToken: SECRET_TOKEN } }),
    });
    assert.equal(res.status, 200);
    const mine = t.logs.filter((l) => l.includes('log-test-2'));
    assert.ok(
      mine.some((l) => l.includes('got a sign-in')),
      'the careless line was written',
    );
    assert.ok(
      mine.some((l) => l.includes('someone')),
      'ordinary fields are kept',
    );
    const all = t.logs.join('\n');
    assert.ok(!all.includes(SECRET_TOKEN), 'no token');
    assert.ok(!all.includes(SECRET_PASSWORD), 'no password');
  });

  it('the harness check that guards every test app catches a leak', () => {
    assert.throws(
      () => assertNoSecretsLogged(['{"message":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}'], new Set()),
      /leaks/,
    );
    assert.throws(() => assertNoSecretsLogged(['{"url":"/reset-password?token=abcdefghijklmnop"}'], new Set()), /leaks/);
    assert.throws(() => assertNoSecretsLogged(['{"x":"my-password-1"}'], new Set(['my-password-1'])), /leaks/);
    assert.doesNotThrow(() => assertNoSecretsLogged(t.logs, new Set([SECRET_PASSWORD, SECRET_TOKEN])));
  });

  it('redacts secrets at any depth', () => {
    assert.deepEqual(redact({ a: { b: [{ Password: 'x', ok: 1 }] }, Authorization: 'y' }), {
      a: { b: [{ Password: '[REDACTED]', ok: 1 }] },
      Authorization: '[REDACTED]',
    });
  });

  it('copies only what it redacts, and never changes what it was given', () => {
    const clean = { http: { request: { id: 'r1' } }, url: { path: '/x' } };
    assert.equal(redact(clean), clean);
    const given = { http: { request: { id: 'r1' } }, headers: { cookie: 'c' } };
    const out = redact(given) as typeof given;
    assert.deepEqual(out, { http: { request: { id: 'r1' } }, headers: { cookie: '[REDACTED]' } });
    assert.equal(out.http, given.http, 'the untouched part is shared');
    assert.equal(given.headers.cookie, 'c');
  });
});
