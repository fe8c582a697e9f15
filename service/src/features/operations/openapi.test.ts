import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS } from '../../platform/http/errors.js';
import { startTestApp, type TestApp } from '../../testing/harness.js';

interface Schema {
  type?: string;
  format?: string;
  pattern?: string;
  allOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  description?: string;
  properties?: Record<string, Schema>;
  'x-refinements'?: string[];
}
interface Operation {
  summary?: string;
  tags?: string[];
  'x-access'?: string;
  'x-refinements'?: string[];
  security?: unknown[];
  parameters?: Array<{ name: string; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema; encoding?: Record<string, { contentType?: string }> }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

/** Whether a string satisfies what the document says of it (lengths and every pattern, as JSON Schema reads them). */
function documentAccepts(schema: Schema, value: string): boolean {
  const patterns = [schema.pattern, ...(schema.allOf ?? []).map((s) => s.pattern)].filter((p): p is string => !!p);
  const length = [...value].length;
  return (
    length >= (schema.minLength ?? 0) && length <= (schema.maxLength ?? Infinity) && patterns.every((p) => new RegExp(p, 'u').test(value))
  );
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

  const bodyOf = (path: string, method: string) => doc.paths[path]![method]!.requestBody!.content['application/json']!.schema;

  it('carries what the server checks past the first rule: the email format, every pattern, trims, refinements', async () => {
    const signup = bodyOf('/api/v1/auth/signup', 'post').properties!;
    assert.equal(signup.email!.format, 'email');
    assert.equal(signup.password!.pattern, '[A-Za-z]');
    assert.deepEqual(signup.password!.allOf, [{ pattern: '\\d' }], 'the second regex');
    assert.match(signup.nickname!.description ?? '', /trimmed/);
    const availability = doc.paths['/api/v1/auth/availability']!.get!;
    assert.deepEqual(availability['x-refinements'], ['give exactly one of loginId, email, nickname']);
    assert.deepEqual(bodyOf('/api/v1/me', 'patch')['x-refinements'], ['give a nickname or a profileImageKey']);

    // What the document refuses, the server refuses, and the other way round (for these samples).
    const samples: Array<[keyof typeof signup, string, boolean]> = [
      ['email', 'commuter@example.com', true],
      ['email', 'a"b"@example.com', false],
      ['email', 'no-at-sign.example.com', false],
      ['email', ' commuter@example.com', false],
      ['password', 'morning2ride', true],
      ['password', 'nodigitshere', false],
      ['password', '12345678', false],
      ['nickname', '출근왕', true],
      ['nickname', '   ', false],
      ['nickname', ' 출근왕', false],
      ['loginId', 'commuter01', true],
      ['loginId', 'commuter 01', false],
    ];
    let n = 0;
    for (const [field, value, ok] of samples) {
      assert.equal(documentAccepts(signup[field]!, value), ok, `the document on ${field} ${JSON.stringify(value)}`);
      const id = `doc${++n}${Date.now().toString(36)}`;
      const body = { loginId: id, email: `${id}@example.com`, nickname: id.slice(0, 20), password: 'morning2ride', [field]: value };
      const res = await fetch(`${t.url}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      // A padded value the document refuses is one the server would trim; refused or not, it is not sent.
      if (ok || !/^\s|\s$/.test(value)) assert.equal(res.status, ok ? 201 : 400, `the server on ${field} ${JSON.stringify(value)}`);
    }
  });

  it('shows a file part of a multipart body as binary with any Content-Type, or none', () => {
    for (const path of ['/api/v1/files', '/file/upload']) {
      const media = doc.paths[path]!.post!.requestBody!.content['multipart/form-data']!;
      assert.deepEqual(media.encoding, { file: { contentType: '*/*' } }, path);
      assert.equal(media.schema.properties!.file!.format, 'binary', path);
      assert.match(media.schema.properties!.file!.description ?? '', /Content-Type is optional/, path);
    }
  });

  it('documents the refresh dance on every guarded legacy call: 418 AUTH-008 and 400 AUTH-007', () => {
    const guarded = operations().filter((o) => !o.path.startsWith('/api/v1/') && o.op['x-access'] !== 'public');
    assert.ok(guarded.length > 10);
    for (const { path, method, op } of guarded) {
      assert.match(op.responses['418']?.description ?? '', /AUTH-008/, `${method} ${path}`);
      assert.match(op.responses['400']?.description ?? '', /AUTH-007/, `${method} ${path}`);
    }
    assert.equal(doc.paths['/api/member/signIn']!.post!.responses['418'], undefined, 'not on the public ones');
  });

  it('lists every error code with its status', () => {
    assert.deepEqual(Object.keys(doc['x-error-codes']).sort(), Object.keys(ERRORS).sort());
    for (const [code, e] of Object.entries(ERRORS)) assert.equal(doc['x-error-codes'][code]!.status, e.status);
  });
});
