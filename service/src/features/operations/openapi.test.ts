import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS } from '../../platform/http/errors.js';
import { startTestApp, type TestApp } from '../../testing/harness.js';

interface Operation {
  summary?: string;
  tags?: string[];
  'x-access'?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: { paths: Record<string, Record<string, Operation>>; 'x-error-codes': Record<string, { status: number }> };
  before(async () => {
    t = await startTestApp({ database: 'sqlite' });
    doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as typeof doc;
  });
  after(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  it('covers the calls of the accounts, profile and files areas', () => {
    const have = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.path}`));
    for (const call of [
      'POST /api/v1/auth/signup',
      'POST /api/v1/auth/signin',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/signout',
      'GET /api/v1/auth/availability',
      'POST /api/v1/auth/password/forgot',
      'POST /api/v1/auth/password/reset',
      'POST /api/v1/auth/login-id/forgot',
      'GET /api/v1/auth/oauth/{provider}/authorize',
      'GET /api/v1/auth/oauth/{provider}/callback',
      'GET /api/v1/me',
      'PATCH /api/v1/me',
      'PUT /api/v1/me/password',
      'PUT /api/v1/me/driver',
      'POST /api/v1/files',
      'GET /api/v1/files/{key}',
    ]) {
      assert.ok(have.has(call), `${call} is documented`);
    }
  });

  it('gives every operation a summary, a tag, its role, its request schema and its answers with error codes', () => {
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.summary, `${where} summary`);
      assert.ok(op.tags?.length, `${where} tag`);
      assert.ok(['public', 'member', 'admin'].includes(op['x-access'] ?? ''), `${where} role`);
      assert.equal(op.security?.length ? 'guarded' : 'public', op['x-access'] === 'public' ? 'public' : 'guarded', `${where} security`);
      if (['post', 'put', 'patch'].includes(method) && op.requestBody) {
        const media = Object.values(op.requestBody.content)[0];
        assert.ok(media?.schema, `${where} request schema`);
      }
      const statuses = Object.keys(op.responses);
      assert.ok(
        statuses.some((s) => s.startsWith('2') || s.startsWith('3')),
        `${where} success answer`,
      );
      const errors = statuses.filter((s) => Number(s) >= 400);
      assert.ok(errors.length > 0, `${where} error answers`);
      const legacy = !path.startsWith('/api/v1/');
      for (const s of errors)
        assert.ok(op.responses[s]!.content?.[legacy ? 'application/json' : 'application/problem+json'], `${where} ${s} error body`);
    }
  });

  it('shows the legacy adapter as its own tag, deprecated, with every call of the web client', () => {
    const legacy = operations().filter((o) => !o.path.startsWith('/api/v1/'));
    for (const { path, method, op } of legacy) {
      assert.equal((op as { deprecated?: boolean }).deprecated, true, `${method} ${path} is deprecated`);
      assert.match(op.tags?.[0] ?? '', /^legacy/);
    }
    const have = new Set(legacy.map((o) => `${o.method.toUpperCase()} ${o.path}`));
    for (const call of [
      'POST /api/member/signUp',
      'POST /api/member/signIn',
      'DELETE /api/member/signOut',
      'GET /api/member',
      'POST /api/member/checkEmail',
      'POST /api/member/checkMemberId',
      'POST /api/member/checkNickname',
      'POST /api/member/checkPassword',
      'POST /api/member/changePassword',
      'POST /api/member/findMemberId',
      'POST /api/member/findPassword',
      'POST /api/member/driver',
      'PUT /api/member/driver',
      'PUT /api/member/member',
      'GET /api/carpool/list',
      'GET /api/carpool/active',
      'GET /api/carpool/fast',
      'GET /api/carpool/low',
      'POST /api/carpool',
      'POST /api/carpool/reservation',
      'POST /api/carpool/cancelCarpool',
      'DELETE /api/carpool/deleteCarpool',
      'GET /api/carpool/myCarpool',
      'GET /api/carpool/history',
      'GET /api/carpool/driveHis',
      'POST /api/report/{carpoolId}',
      'POST /file/upload',
      'GET /api/social/kakao/callback',
      'GET /api/social/line/callback',
    ])
      assert.ok(have.has(call), `${call} is documented`);
  });

  it('lists every error code with its status', () => {
    assert.deepEqual(Object.keys(doc['x-error-codes']).sort(), Object.keys(ERRORS).sort());
    for (const [code, e] of Object.entries(ERRORS)) assert.equal(doc['x-error-codes'][code]!.status, e.status);
  });
});
