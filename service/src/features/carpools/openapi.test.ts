import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';

interface Operation {
  'x-access'?: string;
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}

/** The carpools, reports, history and admin calls in the OpenAPI document, each with its codes. */
describe('the OpenAPI document: carpools, reports and administration', () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;
  before(async () => {
    t = await startTestApp({ database: 'sqlite' });
    paths = ((await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: typeof paths }).paths;
  });
  after(() => t.close());

  const CALLS: Array<[string, string, string, string[]]> = [
    ['get', '/carpools', 'member', []],
    ['post', '/carpools', 'member', ['MATE-003', 'MATE-006', 'MATE-009', 'REQUEST-001']],
    ['get', '/carpools/{id}', 'member', ['MATE-001']],
    ['delete', '/carpools/{id}', 'member', ['MATE-001', 'MATE-007', 'MATE-010']],
    ['post', '/carpools/{id}/reservations', 'member', ['MATE-001', 'MATE-002', 'MATE-003', 'MATE-008', 'MATE-010']],
    ['delete', '/carpools/{id}/reservations/me', 'member', ['MATE-001', 'MATE-004', 'MATE-010']],
    ['post', '/carpools/{id}/reports', 'member', ['MATE-001', 'REPORT-002', 'REPORT-003', 'REPORT-004', 'REPORT-005']],
    ['get', '/me/carpool', 'member', ['ACCOUNT-006']],
    ['get', '/me/rides', 'member', ['REQUEST-001']],
    ['get', '/me/drives', 'member', ['REQUEST-001']],
    ['get', '/admin/members', 'admin', ['AUTH-403']],
    ['get', '/admin/members/{id}', 'admin', ['ACCOUNT-001']],
    ['put', '/admin/members/{id}/ban', 'admin', ['ACCOUNT-001', 'ACCOUNT-010']],
    ['get', '/admin/carpools', 'admin', ['AUTH-403']],
    ['get', '/admin/carpools/{id}', 'admin', ['MATE-001']],
    ['get', '/admin/reports', 'admin', ['AUTH-403']],
    ['get', '/admin/reports/{id}', 'admin', ['REPORT-001']],
    ['post', '/admin/reports/{id}/process', 'admin', ['REPORT-001']],
  ];

  it('documents every call with its role, its answer schema and its error codes', () => {
    for (const [method, path, access, codes] of CALLS) {
      const op = paths[`/api/v1${path}`]?.[method];
      assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
      assert.equal(op['x-access'], access, `${method} ${path} access`);
      const described = Object.values(op.responses)
        .map((r) => r.description ?? '')
        .join(' ');
      for (const code of codes) assert.ok(described.includes(code), `${method.toUpperCase()} ${path} lists ${code}`);
      const success = Object.entries(op.responses).find(([s]) => s.startsWith('2'));
      assert.ok(success, `${method} ${path} success`);
      if (success[0] !== '204') assert.ok(success[1].content?.['application/json']?.schema, `${method} ${path} answer schema`);
    }
  });

  it('describes the list and page parameters', () => {
    const names = (path: string) => (paths[`/api/v1${path}`]!.get!.parameters ?? []).map((p) => p.name).sort();
    assert.deepEqual(names('/carpools'), ['available', 'cursor', 'size', 'sort']);
    assert.deepEqual(names('/me/rides'), ['cursor', 'size']);
    assert.deepEqual(names('/admin/members'), ['page', 'role', 'size']);
    assert.deepEqual(names('/admin/carpools'), ['from', 'page', 'size', 'to']);
    assert.deepEqual(names('/admin/reports'), ['carpoolId', 'page', 'processed', 'size']);
  });
});
