import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';

interface Operation {
  'x-access'?: string;
  'x-refinements'?: string[];
  parameters?: Array<{ name: string; in: string; schema?: { 'x-refinements'?: string[] } }>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}

/** The carpools, reports, history and admin calls in the OpenAPI document, each with its codes. */
describe('the OpenAPI document: carpools, reports and administration', () => {
  let t: TestApp;
  let paths: Record<string, Record<string, Operation>>;
  let schemas: Record<
    string,
    { properties: Record<string, { format?: string; allOf?: Array<{ pattern: string }>; description?: string }> }
  >;
  before(async () => {
    t = await startTestApp({ database: 'sqlite' });
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: typeof paths; components: { schemas: typeof schemas } };
    paths = doc.paths;
    schemas = doc.components.schemas;
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

  it('carries the rules of a new carpool past what zod-to-openapi renders: an https URI, trimmed text, an offset date-time', () => {
    const { chatLink, departurePlace, departureAt } = schemas.NewCarpool!.properties;
    assert.equal(chatLink!.format, 'uri');
    const patterns = (chatLink!.allOf ?? []).map((p) => new RegExp(p.pattern, 'u'));
    assert.ok(patterns.length >= 2, 'the trim and the scheme');
    for (const [value, ok] of [
      ['https://open.kakao.com/o/mate', true],
      ['http://open.kakao.com/o/mate', false],
      [' https://open.kakao.com/o/mate', false],
    ] as const)
      assert.equal(
        patterns.every((p) => p.test(value)),
        ok,
        value,
      );
    assert.match(chatLink!.description ?? '', /domain name/);
    assert.ok(departurePlace!.allOf?.length, 'trimmed');
    assert.ok(!new RegExp(departureAt!.allOf![0]!.pattern, 'u').test('2026-02-30T08:00:00Z'), "zod's date-time rule, not only the format");
  });

  it('names the rules no schema can say: a range whose ends are in order, a day that exists', () => {
    const adminCarpools = paths['/api/v1/admin/carpools']!.get!;
    assert.deepEqual(adminCarpools['x-refinements'], ['from must not be after to']);
    const from = adminCarpools.parameters!.find((p) => p.name === 'from')!;
    assert.deepEqual(from.schema!['x-refinements'], ['must be a calendar date']);
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
