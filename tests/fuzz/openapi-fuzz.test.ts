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
 *   - if a 2xx with a documented JSON body: valid against its schema (ajv);
 *   - if every input was valid per the document: not refused as invalid
 *     (REQUEST-001), unless the document names a rule beyond its schemas
 *     (`x-refinements`).
 * Bodies also come compressed (really or not, in codings known or not) and
 * as multipart edge cases (a file part without a Content-Type, two files, a
 * long or many text fields, a misnamed part); legacy calls also get the
 * refresh dance with a bad refresh token. Every path is also asked with
 * methods it does not take (405 with its `Allow`), and no upload may leave a
 * file in the app's upload directory. Every violation is collected with one
 * reproducible example, and the test fails listing them all.
 *
 *   FUZZ_RUNS=20   requests per operation and role (default; ~5,000 in all, ~20 s)
 *   FUZZ_SEED=n    replay a run (the seed is printed)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import type { TestMember } from '../../service/src/features/auth/fixtures.js';
import { MORNING, postCarpool, quickMembers } from '../../service/src/features/carpools/fixtures.js';
import { imageForm, JPEG_8x8, PNG_1x1 } from '../../service/src/features/files/fixtures.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { boundary, invalid, mixed, resolve, tagged, valid, type Doc, type Schema, type Tagged } from './schema-arbitraries.js';

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
  'x-refinements'?: string[];
}
type OpenApi = Doc & {
  paths: Record<string, Record<string, Operation>>;
  'x-error-codes': Record<string, { status: number }>;
  'x-legacy-error-codes': Record<string, { status: number }>;
};

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; valid: boolean }
  | { kind: 'raw'; text: string; type: string }
  /** JSON in a Content-Encoding, really compressed or not. */
  | { kind: 'encoded'; coding: string; compressed: boolean; value: unknown; valid: boolean }
  | {
      kind: 'multipart';
      purpose?: string;
      file?: 'png' | 'jpeg' | 'text' | 'empty';
      /** The file part's own Content-Type: optional (RFC 7578). */
      fileType?: 'image/png' | 'application/octet-stream' | 'none';
      extra?: 'second file' | 'long field' | 'many fields' | 'misnamed file';
      valid: boolean;
    };

interface Case {
  method: string;
  template: string;
  op: Operation;
  role: Role;
  params: Record<string, Tagged>;
  query: Array<[string, Tagged]>;
  body: Body;
  /** stale: a bad access token with a bad refresh token beside it (the legacy refresh dance). */
  token: 'own' | 'garbage' | 'stale' | 'none';
}

/** Codings the API reads a JSON body in, as a client may spell them. */
const READ_CODINGS = ['gzip', 'deflate', 'br', 'x-gzip', 'GZIP'];
const compress = (coding: string, text: string): Buffer =>
  coding.toLowerCase().endsWith('gzip')
    ? zlib.gzipSync(text)
    : coding === 'deflate'
      ? zlib.deflateSync(text)
      : zlib.brotliCompressSync(text);

/** A multipart/form-data body written out by hand, so a part can lack its Content-Type. */
function multipartBody(parts: Array<{ name: string; filename?: string; type?: string; data: Buffer | string }>) {
  const boundary = 'mate-fuzz-boundary-2f9c';
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n` +
        `${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`,
    ),
    Buffer.from(p.data),
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

/** A request as node:http sends it: fetch() refuses some methods (TRACE). */
function rawRequest(url: string, method: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
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
  /** The app's own upload directory: nothing may stay in it. */
  const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-fuzz-uploads-'));
  const principals = new Map<Role, TestMember>();
  const pools = { carpools: [] as number[], members: [] as number[], reports: [] as number[], files: [] as string[] };

  const freshPrincipal = async (role: Role) => {
    if (role === 'anonymous') return;
    const [m] = await quickMembers(t, 1, { driver: role === 'driver', admin: role === 'admin' });
    principals.set(role, m!);
    pools.members.push(m!.id);
  };

  before(async () => {
    t = await startTestApp({ now: MORNING, env: { LOG_LEVEL: 'warn', UPLOAD_TEMP_DIR: uploadDir } });
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
  after(async () => {
    await t?.close();
    fs.rmSync(uploadDir, { recursive: true, force: true });
  });

  /** A path parameter's value: a known id or key half of the time, else generated. */
  const paramArb = (template: string, p: Parameter): fc.Arbitrary<Tagged> => {
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
    const generated = mixed(p.schema, doc);
    return known.length ? fc.oneof(tagged(fc.constantFrom(...known), true), generated) : generated;
  };
  const fillPath = (template: string, params: Record<string, Tagged>) =>
    template.replace(/\{(\w+)\}/g, (_, name: string) => segment(params[name]?.value));

  /** Whether the operation's inputs carry a rule beyond their schemas (`x-refinements`), through $refs. */
  const refined = (op: Operation): boolean => {
    const seen = new Set<string>();
    const walk = (value: unknown): boolean => {
      const text = JSON.stringify(value) ?? '';
      if (text.includes('"x-refinements"')) return true;
      return [...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].some(([, name]) => {
        if (seen.has(name!)) return false;
        seen.add(name!);
        return walk(doc.components?.schemas?.[name!]);
      });
    };
    return !!op['x-refinements'] || walk({ parameters: op.parameters, requestBody: op.requestBody });
  };

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

    const bodyArb = (op: Operation): fc.Arbitrary<Body> => {
      const content = op.requestBody?.content ?? {};
      const form = content['multipart/form-data']?.schema;
      if (form) {
        const purposes = (resolve(form, doc).properties?.purpose?.enum as string[] | undefined) ?? [];
        const multipart = (b: Omit<Extract<Body, { kind: 'multipart' }>, 'kind' | 'valid'>): Body => ({
          kind: 'multipart',
          ...b,
          valid: !b.extra && (b.file === 'png' || b.file === 'jpeg') && (purposes.length === 0 || purposes.includes(b.purpose ?? '')),
        });
        return fc.oneof(
          {
            weight: 4,
            arbitrary: fc
              .record({
                purpose: fc.constantFrom('profile', 'car'),
                file: fc.constantFrom('png' as const, 'jpeg' as const),
                fileType: fc.constantFrom('image/png' as const, 'application/octet-stream' as const, 'none' as const),
              })
              .map(multipart),
          },
          {
            weight: 3,
            arbitrary: fc
              .record(
                {
                  purpose: fc.constantFrom('profile', 'car', 'image', '', 'x'.repeat(300)),
                  file: fc.constantFrom('png' as const, 'text' as const, 'empty' as const),
                  fileType: fc.constantFrom('image/png' as const, 'none' as const),
                  extra: fc.constantFrom('second file' as const, 'long field' as const, 'many fields' as const, 'misnamed file' as const),
                },
                { requiredKeys: [] },
              )
              .map(multipart),
          },
          { weight: 1, arbitrary: fc.constant<Body>({ kind: 'json', value: { purpose: 'profile' }, valid: false }) },
        );
      }
      const json = content['application/json']?.schema;
      if (!json) return fc.constant<Body>({ kind: 'none' });
      return fc.oneof(
        { weight: 6, arbitrary: valid(json, doc).map((value): Body => ({ kind: 'json', value, valid: true })) },
        { weight: 3, arbitrary: boundary(json, doc).map((value): Body => ({ kind: 'json', value, valid: false })) },
        { weight: 2, arbitrary: invalid().map((value): Body => ({ kind: 'json', value, valid: false })) },
        {
          weight: 1,
          arbitrary: fc
            .record({
              coding: fc.constantFrom(...READ_CODINGS, 'zstd', 'gzip, br'),
              compressed: fc.boolean(),
              value: valid(json, doc),
            })
            .map((e): Body => ({ kind: 'encoded', ...e, valid: e.compressed && READ_CODINGS.includes(e.coding) })),
        },
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
            const list = (entries as Array<[string, Tagged] | undefined>).filter((e): e is [string, Tagged] => !!e);
            // Now and then a parameter given twice (?size=1&size=2): not a valid input.
            return twice && list[0] ? [...list, [list[0][0], { ...list[0][1], valid: false }] as [string, Tagged]] : list;
          }),
        body: bodyArb(op),
        token:
          role === 'anonymous'
            ? fc.constant('none' as const)
            : fc.constantFrom(
                'own' as const,
                'own' as const,
                'own' as const,
                'own' as const,
                'own' as const,
                'garbage' as const,
                'stale' as const,
              ),
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

    /** Every input from the schemas' valid values, every required one given, a body of the documented shape. */
    const allValid = (c: Case) =>
      Object.values(c.params).every((p) => p.valid && p.value !== '') &&
      c.query.every(([, q]) => q.valid) &&
      (c.op.parameters ?? []).every((p) => p.in !== 'query' || !p.required || c.query.some(([name]) => name === p.name)) &&
      (c.body.kind === 'none' ? !c.op.requestBody : 'valid' in c.body && c.body.valid);

    async function send(c: Case) {
      const path = fillPath(c.template, c.params);
      const search = new URLSearchParams();
      for (const [k, { value: v }] of c.query)
        search.append(k, wellFormed(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).slice(0, MAX_URL_VALUE));
      const url = `${t.url}${path}${c.query.length ? `?${search}` : ''}`;
      const headers: Record<string, string> = {};
      const principal = principals.get(c.role);
      if (c.token === 'own' && principal) headers.authorization = `Bearer ${principal.accessToken}`;
      if (c.token === 'garbage' || c.token === 'stale') headers.authorization = 'Bearer not.a.token';
      if (c.token === 'stale') headers.refreshtoken = 'Bearer not-a-refresh-token';
      let body: BodyInit | undefined;
      if (c.body.kind === 'json') {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(c.body.value) ?? 'null';
      } else if (c.body.kind === 'encoded') {
        const text = JSON.stringify(c.body.value) ?? 'null';
        headers['content-type'] = 'application/json';
        headers['content-encoding'] = c.body.coding;
        body = c.body.compressed ? new Uint8Array(compress(c.body.coding, text)) : text;
      } else if (c.body.kind === 'raw') {
        headers['content-type'] = c.body.type;
        body = c.body.text;
      } else if (c.body.kind === 'multipart') {
        const bytes = { png: PNG_1x1, jpeg: JPEG_8x8, text: Buffer.from('not an image at all'), empty: Buffer.alloc(0) };
        const { purpose, file, fileType, extra } = c.body;
        const type = fileType === 'none' ? undefined : fileType;
        const parts = [
          ...(purpose === undefined ? [] : [{ name: 'purpose', data: purpose }]),
          ...(file ? [{ name: extra === 'misnamed file' ? 'upload' : 'file', filename: 'upload.png', type, data: bytes[file] }] : []),
          ...(extra === 'second file' ? [{ name: 'file', filename: 'second.png', type: 'image/png', data: PNG_1x1 }] : []),
          ...(extra === 'long field' ? [{ name: 'note', data: 'x'.repeat(5000) }] : []),
          ...(extra === 'many fields' ? Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: 'x' })) : []),
        ];
        const form = multipartBody(parts);
        headers['content-type'] = form.type;
        body = new Uint8Array(form.body);
      }
      const res = await fetch(url, { method: c.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      const shown =
        c.body.kind === 'json' || c.body.kind === 'raw'
          ? ` body ${String(body).slice(0, 300)}`
          : c.body.kind === 'none'
            ? ''
            : ` ${c.body.kind} ${JSON.stringify(c.body).slice(0, 300)}`;
      const example = `${c.role}${c.token === 'stale' ? ' (stale tokens)' : ''} ${c.method} ${url.slice(t.url.length)}${shown} → ${res.status} ${text.slice(0, 250)}`;
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
        if (status === 400 && (code === 'REQUEST-001' || code === '입력값 오류') && allValid(c) && !refined(c.op))
          violation('refused as invalid, though valid per the document', c, status, code, example);
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
    assert.deepEqual(fs.readdirSync(uploadDir), [], 'no upload left anything in the upload directory');
  });

  it('answers a method a path does not take with 405, the path’s Allow and its API’s error body', async () => {
    const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', 'SEARCH'];
    const wrong: string[] = [];
    let n = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const declared = Object.keys(ops).map((m) => m.toUpperCase());
      const allowed = new Set([...declared, ...(declared.includes('GET') ? ['HEAD'] : [])]);
      const params = Object.values(ops)[0]!.parameters?.filter((p) => p.in === 'path') ?? [];
      const sample = fc.sample(fc.record(Object.fromEntries(params.map((p) => [p.name, tagged(valid(p.schema, doc), true)]))), {
        numRuns: 1,
        seed: SEED + n,
      })[0]!;
      const methods = fc.sample(fc.constantFrom(...METHODS.filter((m) => !allowed.has(m))), { numRuns: 2, seed: SEED + n++ });
      for (const method of new Set(methods)) {
        const url = `${t.url}${fillPath(template, sample)}`;
        const res = await rawRequest(url, method, { authorization: `Bearer ${principals.get('member')!.accessToken}` });
        let body: { code?: string; type?: string } = {};
        try {
          body = JSON.parse(res.text);
        } catch {
          /* not JSON: reported below */
        }
        const allow = new Set(
          String(res.headers.allow ?? '')
            .split(/,\s*/)
            .filter(Boolean),
        );
        const shape = isLegacy(template)
          ? String(res.headers['content-type']).startsWith('application/json')
          : String(res.headers['content-type']).startsWith('application/problem+json') && typeof body.type === 'string';
        if (res.status !== 405 || body.code !== 'REQUEST-006' || !shape || [...allowed].sort().join() !== [...allow].sort().join())
          wrong.push(`${method} ${url.slice(t.url.length)} → ${res.status} Allow: ${res.headers.allow ?? '-'} ${res.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(wrong, [], `expected 405 REQUEST-006 with the path's methods in Allow (FUZZ_SEED=${SEED})`);
  });
});
