/**
 * The log pipeline's contract, from the API's lines to Kibana:
 * - the lines the API writes are valid against the Elasticsearch index
 *   template (every mapped field has the mapped type, no object/leaf clashes);
 * - the Filebeat sidecar config the operator renders (the only one) passes
 *   `filebeat test config`, and Filebeat (built from its Go module by
 *   scripts/observability/tools.sh, the version the chart ships) run on it
 *   over the file a real API process wrote with LOG_FILE emits one event per
 *   line with the request id, route, status and duration as typed fields and
 *   the pod's Kubernetes fields from the Downward API;
 * - the Logstash pipeline writes to a data stream the template covers, and the
 *   Kibana export's objects reference each other and mapped fields.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { newMember } from '../../service/src/features/auth/fixtures.js';
import { route } from '../../service/src/platform/http/routes.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { LOGGING_DIR, ROOT, eventually, run, tmpDir, tool } from './support.js';
import { exampleApp } from '../../service/src/operator/fixtures.js';
import { LOG_DIR } from '../../service/src/operator/names.js';
import { filebeatConfig } from '../../service/src/operator/render.js';
import { ACCESS_LOG_FIELDS, LOG_DATASET } from '../../service/src/platform/observability/contract.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const template = JSON.parse(fs.readFileSync(path.join(LOGGING_DIR, 'index-template.json'), 'utf8')) as {
  index_patterns: string[];
  data_stream?: object;
  template: { mappings: { properties: Record<string, Mapping> } };
};
interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

/** The template's mapped leaf fields (dotted path → type) and object fields. */
function mappedFields(props: Record<string, Mapping>, prefix = '', leaves = new Map<string, string>(), objects = new Set<string>()) {
  for (const [k, m] of Object.entries(props)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (m.properties) {
      objects.add(p);
      mappedFields(m.properties, p, leaves, objects);
    } else leaves.set(p, m.type ?? 'object');
  }
  return { leaves, objects };
}
const MAPPED = mappedFields(template.template.mappings.properties);

/** A JSON document's leaves by dotted path; dotted keys ("log.level") count as paths, as Elasticsearch reads them. */
function leaves(doc: Record<string, Json>, prefix = '', out: Array<[string, Json]> = []): Array<[string, Json]> {
  for (const [k, v] of Object.entries(doc)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) leaves(v, p, out);
    else out.push([p, v]);
  }
  return out;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Does this JSON value index cleanly as that Elasticsearch type? (Strictly: no coercion of numbers to strings or back.) */
function fits(type: string, v: Json): boolean {
  const all = Array.isArray(v) ? v : [v];
  return all.every((x) => {
    if (x === null) return true;
    switch (type) {
      case 'keyword':
      case 'wildcard':
      case 'match_only_text':
      case 'text':
        return typeof x === 'string';
      case 'long':
      case 'integer':
        return typeof x === 'number' && Number.isInteger(x);
      case 'double':
      case 'float':
        return typeof x === 'number';
      case 'boolean':
        return typeof x === 'boolean';
      case 'date':
        return typeof x === 'string' && ISO.test(x) && !Number.isNaN(Date.parse(x));
      case 'ip':
        return typeof x === 'string' && net.isIP(x) !== 0;
      default:
        return false;
    }
  });
}

/** Problems indexing one document under the template. */
function checkAgainstTemplate(doc: Record<string, Json>): string[] {
  const problems: string[] = [];
  for (const [p, v] of leaves(doc)) {
    const type = MAPPED.leaves.get(p);
    if (type && !fits(type, v)) problems.push(`${p} is mapped ${type} but is ${JSON.stringify(v)}`);
    if (!type && MAPPED.objects.has(p) && v !== null) problems.push(`${p} is mapped as an object but is ${JSON.stringify(v)}`);
    // A leaf under a mapped leaf ("http.route.x" when http.route is a keyword) cannot be indexed either.
    const parts = p.split('.');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('.');
      if (MAPPED.leaves.has(parent)) problems.push(`${p} is under ${parent}, which is mapped ${MAPPED.leaves.get(parent)}`);
    }
  }
  return problems;
}

/** The ndjson decoding contract of one access line. */
function checkAccessLine(doc: Record<string, Json>): string[] {
  const get = (p: string): Json | undefined =>
    p in doc
      ? doc[p]
      : p.split('.').reduce<Json | undefined>((o, k) => (o && typeof o === 'object' && !Array.isArray(o) ? o[k] : undefined), doc);
  const problems: string[] = [];
  if (typeof get('@timestamp') !== 'string' || !ISO.test(get('@timestamp') as string)) problems.push('@timestamp');
  if (typeof get('log.level') !== 'string') problems.push('log.level');
  if (typeof get('http.request.id') !== 'string') problems.push('http.request.id');
  if (typeof get('http.route') !== 'string') problems.push('http.route');
  if (typeof get('http.response.status_code') !== 'number') problems.push('http.response.status_code is not a number');
  if (typeof get('event.duration') !== 'number') problems.push('event.duration is not a number');
  return problems;
}

/** Filebeat on the sidecar config, writing its events to a file instead of Logstash. */
function startFilebeat(config: string, home: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const outDir = path.join(home, 'out');
  const fb = spawn(
    tool('filebeat'),
    [
      '-e',
      '-c',
      config,
      '--strict.perms=false',
      `--path.home=${home}`,
      `--path.data=${path.join(home, 'data')}`,
      `--path.logs=${path.join(home, 'logs')}`,
      '-E',
      'output.logstash.enabled=false',
      '-E',
      `output.file.path=${outDir}`,
      '-E',
      'output.file.filename=events',
      ...extra,
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  fb.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-50_000)));
  return {
    stderr: () => stderr,
    exited: () => fb.exitCode !== null,
    events: () =>
      fs.existsSync(outDir)
        ? fs
            .readdirSync(outDir)
            .filter((f) => f.startsWith('events'))
            .flatMap((f) => fs.readFileSync(path.join(outDir, f), 'utf8').trim().split('\n').filter(Boolean))
            .map((l) => JSON.parse(l) as Record<string, Json>)
        : [],
    async stop() {
      if (fb.exitCode !== null) return;
      const done = new Promise((r) => fb.once('exit', r));
      fb.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
      if (fb.exitCode === null) fb.kill('SIGKILL');
    },
  };
}

const boom = route({
  method: 'get',
  path: '/test/log-boom',
  tag: 'test',
  summary: 'always fails',
  access: 'public',
  query: z.object({}),
  handler: () => {
    throw new Error('boom (an intended failure of the logging test)');
  },
});

describe('API log lines against the Elasticsearch index template', () => {
  let t: TestApp;
  let memberId = 0;
  before(async () => {
    t = await startTestApp({ extraRoutes: [boom] });
    const m = await newMember(t, { prefix: 'ecs' });
    memberId = m.id;
    await m.call('GET', '/me');
    await fetch(`${t.url}/nope`, { headers: { 'x-request-id': 'ecs-404' } });
    await fetch(`${t.url}/api/v1/test/log-boom`, { headers: { 'x-request-id': 'ecs-500' } });
    await fetch(`${t.url}/api/v1/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'ecs-401' },
      body: JSON.stringify({ loginId: m.loginId, password: 'not-the-password-1' }),
    });
  });
  after(() => t.close());

  it("is an index template for the contract's data stream, mapping each access-line field of the contract to its type", () => {
    assert.deepEqual(template.index_patterns, [`logs-${LOG_DATASET}-*`]);
    assert.ok(template.data_stream, 'a data stream template');
    for (const [field, type] of Object.entries(ACCESS_LOG_FIELDS)) assert.equal(MAPPED.leaves.get(field), type, field);
  });

  it('every line is one JSON object, and every field the template maps has the mapped type', () => {
    assert.ok(t.logs.length > 5, `only ${t.logs.length} lines`);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const line of t.logs) {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), `one line per write: ${line.slice(0, 200)}`);
      const doc = JSON.parse(line) as Json;
      assert.ok(doc && typeof doc === 'object' && !Array.isArray(doc), `a JSON object: ${line.slice(0, 200)}`);
      for (const p of checkAgainstTemplate(doc)) problems.push(`${p} in ${line.slice(0, 160)}`);
      for (const [p] of leaves(doc)) if (MAPPED.leaves.has(p)) seen.add(p);
    }
    assert.deepEqual(problems, []);
    // The lines exercised the mappings that matter (an error line included).
    for (const f of [...Object.keys(ACCESS_LOG_FIELDS), 'error.message', 'error.stack_trace']) assert.ok(seen.has(f), `no line had ${f}`);
  });

  it('each request has one access line with the request id, route, status and duration, typed', () => {
    const access = t.logs
      .map((l) => JSON.parse(l) as Record<string, Json>)
      .filter((d) => leaves(d).some(([p]) => p === 'http.response.status_code'));
    assert.ok(access.length >= 5);
    for (const d of access) assert.deepEqual(checkAccessLine(d), [], JSON.stringify(d).slice(0, 300));
    const byId = (id: string) => access.filter((d) => (d.http as { request: { id: string } }).request.id === id);
    assert.equal(byId('ecs-404').length, 1);
    assert.equal(byId('ecs-500').length, 1);
    assert.equal(byId('ecs-401').length, 1);
    // The signed-in caller is named by id; anonymous calls name nobody.
    const me = access.filter((d) => (d.http as { route: string }).route === '/api/v1/me');
    assert.ok(me.length > 0, 'no access line of GET /me');
    for (const d of me) assert.deepEqual(d.user, { id: String(memberId) });
    assert.equal(byId('ecs-404')[0]!.user, undefined);
    const failed = byId('ecs-500')[0]!;
    assert.equal(failed['log.level'], 'error');
    assert.equal((failed.http as { response: { status_code: number } }).response.status_code, 500);
  });
});

/** scripts/observability/tools.sh leaves Filebeat out when asked to; its tests then say so instead of failing. */
const NO_FILEBEAT = process.env.MATE_OBS_SKIP_FILEBEAT === '1' ? 'MATE_OBS_SKIP_FILEBEAT=1: Filebeat was not installed' : false;

describe('the Filebeat sidecar on a log file the API wrote', { skip: NO_FILEBEAT }, () => {
  const dir = tmpDir('mate-filebeat-');
  const logDir = path.join(dir, 'log');
  // The operator's rendering for the example MateApp; only the log directory is this test's.
  const config = path.join(dir, 'filebeat.yml');
  const app = exampleApp();
  const pod = { namespace: 'mate-test', name: 'mate-api-0', uid: '0b3f8c1e-2d4a-4f6b-9c8d-1e2f3a4b5c6d', node: 'node-0' };
  const env = { ...process.env, POD_NAMESPACE: pod.namespace, POD_NAME: pod.name, POD_UID: pod.uid, NODE_NAME: pod.node };
  const paths = (name: string) => [
    `--path.home=${path.join(dir, name)}`,
    `--path.data=${path.join(dir, name, 'data')}`,
    `--path.logs=${path.join(dir, name, 'logs')}`,
  ];
  let api: ChildProcess | undefined;
  const ids = ['fb-healthz', 'fb-404', 'fb-401', 'fb-signin'];

  before(async () => {
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(config, filebeatConfig(app).replaceAll(`${LOG_DIR}/`, `${logDir}/`));
    // The real entry point (embedded mode: SQLite, no other services), writing LOG_FILE as in the pod.
    const out: string[] = [];
    api = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'service', 'src', 'main', 'api.ts'), '--embedded'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MATE_DATA_DIR: path.join(dir, 'data'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        LOG_FILE: path.join(logDir, 'api.log'),
        DRAIN_DELAY_MS: '0',
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
    api.stderr!.setEncoding('utf8').on('data', (d: string) => out.push(d));
    const url = await eventually(
      'the API to listen',
      async () => {
        if (api!.exitCode !== null) throw new Error(`the API exited: ${out.join('')}`);
        return /listening on 127\.0\.0\.1:\d+ \((http:\/\/127\.0\.0\.1:\d+)\)/.exec(out.join(''))?.[1];
      },
      60_000,
    );
    const h = (id: string) => ({ 'x-request-id': id, 'content-type': 'application/json' });
    await fetch(`${url}/healthz`, { headers: h('fb-healthz') });
    await fetch(`${url}/nope`, { headers: h('fb-404') });
    await fetch(`${url}/api/v1/carpools`, { headers: h('fb-401') });
    await fetch(`${url}/api/v1/auth/signin`, {
      method: 'POST',
      headers: h('fb-signin'),
      body: JSON.stringify({ loginId: 'nobody', password: 'not-a-password-1' }),
    });
    const exited = new Promise((r) => api!.once('exit', r));
    api.kill('SIGTERM');
    await exited;
  });

  after(() => {
    if (api && api.exitCode === null) api.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('filebeat test config passes on the sidecar config, given the Downward API environment', () => {
    const r = run(tool('filebeat'), ['test', 'config', '-c', config, '--strict.perms=false', ...paths('check')], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Config OK/);
  });

  it('the API wrote its ECS lines to LOG_FILE', () => {
    const lines = fs.readFileSync(path.join(logDir, 'api.log'), 'utf8').trim().split('\n');
    for (const id of ids)
      assert.ok(
        lines.some((l) => l.includes(`"${id}"`)),
        `a line for ${id}`,
      );
  });

  it('Filebeat emits one event per line, with the request id, route, status and duration as typed fields', async () => {
    const lines = fs.readFileSync(path.join(logDir, 'api.log'), 'utf8').trim().split('\n');
    const fb = startFilebeat(config, path.join(dir, 'run'), env);
    try {
      await eventually(
        'Filebeat to ship every line',
        async () => {
          if (fb.exited()) throw new Error(`filebeat exited: ${fb.stderr()}`);
          return fb.events().length >= lines.length;
        },
        60_000,
      );
    } finally {
      await fb.stop();
    }
    const events = fb.events();
    assert.equal(events.length, lines.length, 'one event per line');
    for (const e of events) {
      assert.equal((e.error as { type?: string } | undefined)?.type, undefined, `decoded: ${JSON.stringify(e).slice(0, 300)}`);
      assert.equal((e.event as { dataset?: string }).dataset, LOG_DATASET);
      assert.deepEqual(checkAgainstTemplate(e), [], 'the event indexes under the template');
      assert.deepEqual(e.kubernetes, {
        namespace: pod.namespace,
        pod: { name: pod.name, uid: pod.uid },
        node: { name: pod.node },
        container: { name: 'api' },
        labels: {
          'app_kubernetes_io/name': 'mate',
          'app_kubernetes_io/instance': app.metadata.name,
          'app_kubernetes_io/component': 'api',
          'app_kubernetes_io/part-of': 'mate',
          'app_kubernetes_io/managed-by': 'mate-operator',
        },
      });
      assert.equal((e.agent as { ephemeral_id?: string }).ephemeral_id, undefined, 'agent.ephemeral_id is dropped');
    }
    for (const id of ids) {
      const e = events.find((x) => (x.http as { request?: { id?: string } } | undefined)?.request?.id === id);
      assert.ok(e, `an event for ${id}`);
      assert.deepEqual(checkAccessLine(e), [], JSON.stringify(e).slice(0, 400));
      const line = JSON.parse(lines.find((l) => l.includes(`"${id}"`))!) as Record<string, Json>;
      assert.equal(e['@timestamp'], line['@timestamp'], 'the event keeps the line’s time');
      assert.equal((e.log as { level: string }).level, line['log.level']);
      assert.equal((e.http as { route: string }).route, (line.http as { route: string }).route);
      assert.equal((e.log as { file: { path: string } }).file.path, path.join(logDir, 'api.log'));
    }
    const status = (id: string) =>
      (
        events.find((x) => (x.http as { request?: { id?: string } } | undefined)?.request?.id === id)!.http as {
          response: { status_code: number };
        }
      ).response.status_code;
    assert.equal(status('fb-healthz'), 200);
    assert.equal(status('fb-404'), 404);
    assert.equal(status('fb-401'), 401);
  });
});

describe('Logstash pipeline and Kibana objects', () => {
  const pipeline = fs.readFileSync(path.join(LOGGING_DIR, 'logstash', 'mate.conf'), 'utf8');
  const kibana = fs
    .readFileSync(path.join(LOGGING_DIR, 'kibana', 'mate-logs.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);

  it('the pipeline reads beats and writes to a data stream the index template covers', () => {
    assert.match(pipeline, /beats\s*\{\s*port\s*=>\s*5044/);
    const setting = (k: string) => new RegExp(`${k}\\s*=>\\s*"([^"]+)"`).exec(pipeline)?.[1];
    assert.equal(setting('data_stream'), 'true');
    assert.equal(setting('data_stream_dataset'), LOG_DATASET);
    const name = `${setting('data_stream_type')}-${setting('data_stream_dataset')}-prod`;
    const glob = new RegExp(`^${template.index_patterns[0]!.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    assert.match(name, glob);
  });

  it("the dev cluster's Logstash runs this pipeline, byte for byte", () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(ROOT, 'k8s', 'dev', 'logstash.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; data?: Record<string, string> },
    );
    const configMap = docs.find((d) => d.kind === 'ConfigMap');
    assert.equal(
      configMap?.data?.['mate.conf'],
      pipeline,
      'k8s/dev/logstash.yaml: copy dashboards/logging/logstash/mate.conf into the ConfigMap',
    );
  });

  it('the Kibana export holds a data view, saved searches on mapped fields and a dashboard, all references resolving', () => {
    const summary = kibana.pop()!;
    assert.equal(summary.exportedCount, kibana.length);
    const ids = new Map(kibana.map((o) => [`${o.type}:${o.id}`, o]));
    const view = kibana.find((o) => o.type === 'index-pattern')!;
    assert.equal(view.attributes.title, template.index_patterns[0]);
    assert.equal(view.attributes.timeFieldName, '@timestamp');
    const searches = kibana.filter((o) => o.type === 'search');
    assert.ok(searches.some((s) => s.attributes.title === 'MATE API requests'));
    for (const s of searches) {
      for (const c of s.attributes.columns as string[])
        assert.ok(MAPPED.leaves.has(c), `${s.id}: column ${c} is not mapped by the template`);
      JSON.parse(s.attributes.kibanaSavedObjectMeta.searchSourceJSON);
    }
    for (const o of kibana)
      for (const r of o.references) assert.ok(ids.has(`${r.type}:${r.id}`), `${o.id} references missing ${r.type}:${r.id}`);
    const dashboard = kibana.find((o) => o.type === 'dashboard')!;
    const panels = JSON.parse(dashboard.attributes.panelsJSON) as Array<{ panelIndex: string; panelRefName: string }>;
    for (const p of panels)
      assert.ok(
        dashboard.references.some((r: { name: string }) => r.name === `${p.panelIndex}:${p.panelRefName}`),
        `panel ${p.panelIndex} has its reference`,
      );
  });
});
