/**
 * Generated bad input, driven by the API's own OpenAPI document: for every
 * operation, as every kind of caller (anonymous, member, driver, admin),
 * requests built from the operation's params, query and body schemas, mostly
 * valid, then on and past the bounds, then anything at all (wrong types,
 * malformed JSON, wrong media types, oversized bodies, odd tokens). Every
 * answer must be:
 *   - not a 5xx;
 *   - a status the operation documents;
 *   - if an error: problem details whose code is in `x-error-codes` with that
 *     status (on legacy paths: the legacy error body, its code in
 *     `x-legacy-error-codes` with that status), and among the codes the
 *     operation documents for that status;
 *   - if a 2xx with a documented JSON body: valid against its schema (ajv).
 * Every violation is collected with one reproducible example, and the test
 * fails listing them all.
 *
 *   FUZZ_RUNS=20   requests per operation and role (default; ~5,000 in all, ~20 s)
 *   FUZZ_SEED=n    replay a run (the seed is printed)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import type { TestMember } from '../../service/src/features/auth/fixtures.js';
import { MORNING, postCarpool, quickMembers } from '../../service/src/features/carpools/fixtures.js';
import { imageForm, JPEG_1x1, PNG_1x1 } from '../../service/src/features/files/fixtures.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { boundary, invalid, mixed, resolve, valid, type Doc, type Schema } from './schema-arbitraries.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CONCURRENCY = 4;
const ROLES = ['anonymous', 'member', 'driver', 'admin'] as const;
type Role = (typeof ROLES)[number];

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
  'x-access'?: string;
}
type OpenApi = Doc & {
  paths: Record<string, Record<string, Operation>>;
  'x-error-codes': Record<string, { status: number }>;
  'x-legacy-error-codes': Record<string, { status: number }>;
};

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string; type: string }
  | { kind: 'multipart'; purpose?: string; file?: 'png' | 'jpeg' | 'text' | 'empty' };

interface Case {
  method: string;
  template: string;
  op: Operation;
  role: Role;
  params: Record<string, unknown>;
  query: Array<[string, unknown]>;
  body: Body;
  token: 'own' | 'garbage' | 'none';
}

const isLegacy = (path: string) => (path.startsWith('/api/') && !path.startsWith('/api/v1/')) || path === '/file/upload';
/** Lone surrogates cannot be percent-encoded (URIError): as a client would, send U+FFFD instead. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
/** URLs stay well under Node's 16 KiB header limit (past it, Node's parser answers 431 before the app sees anything). */
const MAX_URL_VALUE = 300;
const segment = (v: unknown) => {
  const s = wellFormed(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined')).slice(0, MAX_URL_VALUE);
  // No empty or dot segments: they would address another route, not this operation.
  return s === '' ? '%20' : encodeURIComponent(s).replace(/\./g, '%2E');
};

describe('OpenAPI-driven fuzzing', () => {
  let t: TestApp;
  let doc: OpenApi;
  const principals = new Map<Role, TestMember>();
  const pools = { carpools: [] as number[], members: [] as number[], reports: [] as number[], files: [] as string[] };

  const freshPrincipal = async (role: Role) => {
    if (role === 'anonymous') return;
    const [m] = await quickMembers(t, 1, { driver: role === 'driver', admin: role === 'admin' });
    principals.set(role, m!);
    pools.members.push(m!.id);
  };

  before(async () => {
    t = await startTestApp({ now: MORNING, env: { LOG_LEVEL: 'warn' } });
    doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as OpenApi;
    for (const role of ROLES) await freshPrincipal(role);
    // Real ids and keys, so valid requests reach past the lookups.
    const drivers = await quickMembers(t, 3, { driver: true });
    const riders = await quickMembers(t, 3);
    for (const d of drivers) pools.carpools.push((await postCarpool(t, d, { capacity: 2 })).id);
    const r0 = riders[0]!;
    assert.equal((await r0.call('POST', `/carpools/${pools.carpools[0]}/reservations`)).status, 201);
    const report = await r0.call('POST', `/carpools/${pools.carpools[0]}/reports`, {
      body: { title: '늦었어요', content: '출발이 20분 늦었습니다.' },
    });
    assert.equal(report.status, 201, JSON.stringify(report.body));
    pools.reports.push(report.body.id);
    const file = await r0.call('POST', '/files', { form: imageForm(PNG_1x1, 'p.png', 'profile') });
    assert.equal(file.status, 201, JSON.stringify(file.body));
    pools.files.push(file.body.key);
    pools.members.push(...drivers.map((d) => d.id), ...riders.map((r) => r.id));
  });
  after(() => t?.close());

  it('answers every generated request as the document says', { timeout: 600_000 }, async () => {
    const xcodes = doc['x-error-codes'];
    const legacyCodes = doc['x-legacy-error-codes'];
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
    ajv.addSchema({ $id: 'mate', components: doc.components });
    const validators = new Map<object, ReturnType<typeof ajv.compile>>();
    const validatorFor = (schema: Schema) => {
      let v = validators.get(schema);
      if (!v) {
        v = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"mate#/components/')));
        validators.set(schema, v);
      }
      return v;
    };

    /** Valid values for ids and keys come from what exists, half of the time. */
    const paramArb = (template: string, p: Parameter): fc.Arbitrary<unknown> => {
      const known =
        p.name === 'key'
          ? pools.files
          : template.includes('/admin/members/')
            ? pools.members
            : template.includes('/admin/reports/')
              ? pools.reports
              : /^(id|carpoolId)$/.test(p.name)
                ? pools.carpools
                : [];
      return known.length ? fc.oneof(fc.constantFrom(...known), mixed(p.schema, doc)) : mixed(p.schema, doc);
    };

    const bodyArb = (op: Operation): fc.Arbitrary<Body> => {
      const content = op.requestBody?.content ?? {};
      if (content['multipart/form-data']) {
        return fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record({
              kind: fc.constant('multipart' as const),
              purpose: fc.constantFrom('profile', 'car'),
              file: fc.constantFrom('png' as const, 'jpeg' as const),
            }),
          },
          {
            weight: 3,
            arbitrary: fc.record(
              {
                kind: fc.constant('multipart' as const),
                purpose: fc.constantFrom('profile', 'car', 'image', '', 'x'.repeat(300)),
                file: fc.constantFrom('png' as const, 'text' as const, 'empty' as const),
              },
              { requiredKeys: ['kind'] },
            ),
          },
          { weight: 1, arbitrary: fc.constant<Body>({ kind: 'json', value: { purpose: 'profile' } }) },
        );
      }
      const json = content['application/json']?.schema;
      if (!json) return fc.constant<Body>({ kind: 'none' });
      return fc.oneof(
        { weight: 6, arbitrary: valid(json, doc).map((value): Body => ({ kind: 'json', value })) },
        { weight: 3, arbitrary: boundary(json, doc).map((value): Body => ({ kind: 'json', value })) },
        { weight: 2, arbitrary: invalid().map((value): Body => ({ kind: 'json', value })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom<Body>(
            { kind: 'raw', text: '{"unterminated": ', type: 'application/json' },
            { kind: 'raw', text: "{'single': 'quotes'}", type: 'application/json' },
            { kind: 'raw', text: '', type: 'application/json' },
            { kind: 'raw', text: 'loginId=a&password=b', type: 'application/x-www-form-urlencoded' },
            { kind: 'raw', text: '{"a":1}', type: 'text/plain' },
            { kind: 'raw', text: JSON.stringify({ pad: 'x'.repeat(110 * 1024) }), type: 'application/json' },
          ),
        },
      );
    };

    const caseArb = (method: string, template: string, op: Operation, role: Role): fc.Arbitrary<Case> => {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path');
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      return fc.record({
        method: fc.constant(method),
        template: fc.constant(template),
        op: fc.constant(op),
        role: fc.constant(role),
        params: fc.record(Object.fromEntries(params.map((p) => [p.name, paramArb(template, p)]))),
        query: fc
          .tuple(
            ...query.map((p) => fc.option(fc.tuple(fc.constant(p.name), mixed(p.schema, doc)), { nil: undefined, freq: 2 })),
            fc.boolean(),
          )
          .map((entries) => {
            const twice = entries.pop() as boolean;
            const list = (entries as Array<[string, unknown] | undefined>).filter((e): e is [string, unknown] => !!e);
            // Now and then a parameter given twice (?size=1&size=2).
            return twice && list[0] ? [...list, list[0]] : list;
          }),
        body: bodyArb(op),
        token:
          role === 'anonymous'
            ? fc.constant('none' as const)
            : fc.constantFrom('own' as const, 'own' as const, 'own' as const, 'own' as const, 'own' as const, 'garbage' as const),
      });
    };

    const cases: Case[] = [];
    let n = 0;
    for (const [template, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const role of ROLES)
          cases.push(...fc.sample(caseArb(method.toUpperCase(), template, op, role), { numRuns: RUNS, seed: SEED + n++ }));

    const violations = new Map<string, { count: number; example: string }>();
    const violation = (kind: string, c: Case, status: number, code: string | undefined, example: string) => {
      const key = `${kind}: ${c.method} ${c.template} → ${status}${code ? ` ${code}` : ''}`;
      const v = violations.get(key);
      if (v) v.count++;
      else violations.set(key, { count: 1, example: example.slice(0, 600) });
    };
    const statusCount: Record<string, number> = {};

    async function send(c: Case) {
      const path = c.template.replace(/\{(\w+)\}/g, (_, name: string) => segment(c.params[name]));
      const search = new URLSearchParams();
      for (const [k, v] of c.query)
        search.append(k, wellFormed(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).slice(0, MAX_URL_VALUE));
      const url = `${t.url}${path}${c.query.length ? `?${search}` : ''}`;
      const headers: Record<string, string> = {};
      const principal = principals.get(c.role);
      if (c.token === 'own' && principal) headers.authorization = `Bearer ${principal.accessToken}`;
      if (c.token === 'garbage') headers.authorization = 'Bearer not.a.token';
      let body: BodyInit | undefined;
      if (c.body.kind === 'json') {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(c.body.value) ?? 'null';
      } else if (c.body.kind === 'raw') {
        headers['content-type'] = c.body.type;
        body = c.body.text;
      } else if (c.body.kind === 'multipart') {
        const bytes = { png: PNG_1x1, jpeg: JPEG_1x1, text: Buffer.from('not an image at all'), empty: Buffer.alloc(0) };
        const form = c.body.file ? imageForm(bytes[c.body.file], 'upload.png', 'profile') : new FormData();
        if (c.body.purpose === undefined) form.delete('purpose');
        else form.set('purpose', c.body.purpose);
        body = form;
      }
      const res = await fetch(url, { method: c.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      const example = `${c.role} ${c.method} ${url.slice(t.url.length)}${body && typeof body === 'string' ? ` body ${body.slice(0, 300)}` : c.body.kind === 'multipart' ? ` multipart ${JSON.stringify(c.body)}` : ''} → ${res.status} ${text.slice(0, 250)}`;
      return { res, text, example };
    }

    async function check(c: Case) {
      const { res, text, example } = await send(c);
      const status = res.status;
      let parsed: any;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const code: string | undefined = status >= 400 ? parsed?.code : undefined;
      statusCount[status] = (statusCount[status] ?? 0) + 1;
      if (status >= 500) violation('5xx', c, status, code, example);
      const documented = c.op.responses[String(status)];
      if (!documented) violation('undocumented status', c, status, code, example);
      if (status >= 400) {
        const legacy = isLegacy(c.template);
        const type = res.headers.get('content-type') ?? '';
        if (legacy) {
          const shape = parsed && typeof parsed.name === 'string' && typeof parsed.message === 'string' && parsed.status === status;
          if (!shape || !type.startsWith('application/json')) violation('not the legacy error body', c, status, code, example);
        } else {
          const shape =
            parsed && ['type', 'title', 'detail', 'requestId'].every((k) => typeof parsed[k] === 'string') && parsed.status === status;
          if (!shape || !type.startsWith('application/problem+json')) violation('not problem details', c, status, code, example);
        }
        const catalogue = legacy ? legacyCodes : xcodes;
        if (!code || !catalogue[code])
          violation(`code not in ${legacy ? 'x-legacy-error-codes' : 'x-error-codes'}`, c, status, code, example);
        else if (catalogue[code].status !== status) violation('status differs from the catalogue', c, status, code, example);
        else if (documented && !(documented.description ?? '').includes(code))
          violation('code not documented for this operation', c, status, code, example);
        // A principal that signed out, was banned or lost its session: a fresh one for what follows.
        if (c.token === 'own' && (code === 'AUTH-001' || code === 'ACCOUNT-006')) await freshPrincipal(c.role);
      } else if (status >= 200 && status < 300) {
        const schema = documented?.content?.['application/json']?.schema;
        if (schema) {
          if (parsed === undefined) violation('2xx body is not JSON', c, status, code, example);
          else {
            const validate = validatorFor(resolve(schema, doc) === schema ? schema : schema);
            if (!validate(parsed))
              violation(`2xx body does not match its schema (${ajv.errorsText(validate.errors)})`, c, status, code, example);
          }
        }
      }
      // A sign-out or a password change as the member: what it revoked is replaced too.
      if (c.token === 'own' && status < 300 && /signout|signOut|password|changePassword/.test(c.template)) await freshPrincipal(c.role);
    }

    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          try {
            await check(c);
          } catch (err) {
            violation(
              `no answer (${(err as Error).name})`,
              c,
              0,
              undefined,
              `${c.role} ${c.method} ${c.template} ${JSON.stringify(c.params)}`,
            );
          }
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `fuzz: ${cases.length} requests (${Object.keys(doc.paths).length} paths, ${ROLES.length} roles, ${RUNS} runs each, seed ${SEED}) in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(statusCount)}`,
    );
    const list = [...violations].map(([k, v]) => `- ${k} (${v.count}×)\n    e.g. ${v.example}`).join('\n');
    assert.equal(violations.size, 0, `the API answered outside its document (FUZZ_SEED=${SEED}):\n${list}`);
  });
});
