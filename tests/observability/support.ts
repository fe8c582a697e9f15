/**
 * Shared by the observability tests: the tools scripts/observability/tools.sh
 * installs, a real Prometheus on a loopback port, the built dashboards and
 * rules, Grafana's variables rendered for a plain Prometheus, and metric names
 * read out of PromQL with Prometheus's own grammar (lezer-promql).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import YAML from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD_DIR = path.join(ROOT, 'dashboards', 'build');
/** The rules' promtool tests, built from dashboards/src/rule-tests.ts. */
export const TESTS_DIR = path.join(ROOT, 'dashboards', 'tests');
export const RULES_FILE = path.join(BUILD_DIR, 'mate-alerts.rules.yaml');
export const PROMETHEUS_RULE_FILE = path.join(BUILD_DIR, 'prometheusrule.yaml');
export const LOGGING_DIR = path.join(ROOT, 'dashboards', 'logging');

const MATE_CACHE = process.env.MATE_CACHE ?? path.join(os.homedir(), '.cache', 'mate');
export const OBS_BIN = process.env.MATE_OBS_BIN ?? path.join(MATE_CACHE, 'tools', 'observability', 'bin');

/** A tool from the observability tool cache; a clear failure when it is missing. */
export function tool(name: 'prometheus' | 'promtool' | 'filebeat'): string {
  const p = path.join(OBS_BIN, name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run scripts/observability/tools.sh (scripts/test.sh does)`);
  return p;
}

export function hasTool(name: 'prometheus' | 'promtool' | 'filebeat'): boolean {
  return fs.existsSync(path.join(OBS_BIN, name));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

// --- Prometheus -----------------------------------------------------------------

export interface PromResponse<T = unknown> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  dir: string;
  log: () => string;
  api<T = unknown>(p: string, params?: Record<string, string>): Promise<PromResponse<T>>;
  query(expr: string): Promise<PromResponse<{ resultType: string; result: Sample[] }>>;
  close(): Promise<void>;
}

export interface ScrapeTarget {
  job: string;
  address: string;
  labels?: Record<string, string>;
}

/** A real Prometheus on a loopback port, with a temporary data directory, scraping every second. */
export async function startPrometheus(opts: { targets: ScrapeTarget[]; ruleFiles?: string[] }): Promise<RunningPrometheus> {
  const dir = tmpDir('mate-prometheus-');
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: opts.targets.map((t) => ({
      job_name: t.job,
      metrics_path: '/metrics',
      static_configs: [{ targets: [t.address], labels: t.labels ?? {} }],
    })),
  };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), YAML.stringify(config));
  const logFile = path.join(dir, 'prometheus.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    tool('prometheus'),
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const log = () => fs.readFileSync(logFile, 'utf8');
  await eventually(
    'Prometheus ready',
    async () => {
      if (exited) throw new Error(`prometheus exited:\n${log()}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    30_000,
  );
  const api = async <T>(p: string, params: Record<string, string> = {}) => {
    const res = await fetch(`${url}${p}?${new URLSearchParams(params)}`);
    const text = await res.text();
    try {
      return JSON.parse(text) as PromResponse<T>;
    } catch {
      throw new Error(`GET ${p}: ${res.status} ${text.slice(0, 200)}`);
    }
  };
  return {
    url,
    dir,
    log,
    api,
    query: (expr) => api('/api/v1/query', { query: expr }),
    async close() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- The build: dashboards and rules ---------------------------------------------

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export interface GrafanaTarget {
  refId: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  datasource?: unknown;
}

export interface GrafanaPanel {
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  interval?: string;
  targets?: GrafanaTarget[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      min?: number;
      max?: number;
      decimals?: number;
      thresholds?: { steps: Array<{ value: number | null; color: string }> };
      mappings?: Array<{ type: string; options: Record<string, { text?: string }> }>;
      custom?: { drawStyle?: string; stacking?: { mode?: string }; thresholdsStyle?: { mode?: string } };
    };
  };
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels?: GrafanaPanel[];
  templating?: { list: Array<{ name: string; type: string; query?: unknown }> };
  annotations?: { list: Array<{ name: string; expr?: string }> };
}

export function loadDashboards(dir = BUILD_DIR): GrafanaDashboard[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as GrafanaDashboard);
}

/** Every PromQL query of every panel (rows have none). */
export function panelQueries(d: GrafanaDashboard): PanelQuery[] {
  return (d.panels ?? []).flatMap((p) =>
    (p.targets ?? []).filter((t) => t.expr).map((t) => ({ dashboard: d.uid, panel: p.title, refId: t.refId, expr: t.expr! })),
  );
}

/** The annotation queries, as panel-like entries ("annotation: <name>"). */
export function annotationQueries(d: GrafanaDashboard): PanelQuery[] {
  return (d.annotations?.list ?? [])
    .filter((a) => a.expr)
    .map((a) => ({ dashboard: d.uid, panel: `annotation: ${a.name}`, refId: 'A', expr: a.expr! }));
}

/** `label_values(<selector>, <label>)` variable queries. */
export function variableQueries(d: GrafanaDashboard): Array<{ dashboard: string; name: string; selector: string; label: string }> {
  return (d.templating?.list ?? [])
    .filter((v) => v.type === 'query' && typeof v.query === 'string')
    .map((v) => {
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query as string);
      if (!m) throw new Error(`${d.uid}: variable ${v.name} is not label_values(selector, label): ${String(v.query)}`);
      return { dashboard: d.uid, name: v.name, selector: m[1]!, label: m[2]! };
    });
}

export interface RuleFile {
  groups: Array<{
    name: string;
    interval?: string;
    rules: Array<{
      record?: string;
      alert?: string;
      expr: string;
      for?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }>;
  }>;
}

export function loadRules(file = RULES_FILE): RuleFile {
  return YAML.parse(fs.readFileSync(file, 'utf8')) as RuleFile;
}

/**
 * Grafana's variables as the dashboards would send them with "All" selected
 * and a 1-second scrape interval behind the data source; a range query over a
 * run shorter than an hour passes intervals of its own.
 */
export function renderGrafana(
  expr: string,
  opts: { keepVariables?: boolean; rateInterval?: string; interval?: string; range?: string } = {},
): string {
  const timed = expr
    .replace(/\$__rate_interval\b/g, opts.rateInterval ?? '1m')
    .replace(/\$__interval\b/g, opts.interval ?? '15s')
    .replace(/\$__range\b/g, opts.range ?? '1h');
  return opts.keepVariables ? timed : timed.replace(/\$(namespace|instance)\b/g, '.*');
}

// --- The dashboards' pictures: pictures.ts draws them, pictures.test.ts checks they are current ---

export const PICTURES_DIR = path.join(ROOT, 'docs', 'observability');
export const PICTURES_MANIFEST = path.join(PICTURES_DIR, 'pictures.json');

export interface PicturedDashboard {
  uid: string;
  title: string;
  /** When the run the picture shows ended. */
  date: string;
  panels: Array<{ title: string; queries: string }>;
}

/** Each panel's title with a hash of its queries (the targets as built, less the data source): what a picture was drawn from. */
export function picturedPanels(d: GrafanaDashboard): PicturedDashboard['panels'] {
  return (d.panels ?? []).map((p) => {
    const queries = (p.targets ?? []).map(({ datasource: _datasource, ...query }) => query);
    return { title: p.title, queries: createHash('sha256').update(JSON.stringify(queries)).digest('hex').slice(0, 16) };
  });
}

// --- PromQL ----------------------------------------------------------------------

export interface Parsed {
  errors: string[];
  metrics: Set<string>;
}

/** Parses PromQL with lezer-promql (the grammar Prometheus's own UI uses): syntax errors and the metric names selected. */
export function parsePromQL(expr: string): Parsed {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics = new Set<string>();
  const cursor = tree.cursor();
  do {
    const node = cursor.node;
    if (node.type.isError) errors.push(`syntax error at ${node.from}: …${expr.slice(Math.max(0, node.from - 20), node.from + 20)}…`);
    if (node.type.name === 'VectorSelector') {
      const id = node.getChild('Identifier');
      if (id) metrics.add(expr.slice(id.from, id.to));
    }
    // {__name__="x"} selects a metric too.
    if (node.type.name === 'UnquotedLabelMatcher') {
      const name = node.getChild('LabelName');
      const op = node.getChild('MatchOp');
      const value = node.getChild('StringLiteral');
      if (name && op && value && expr.slice(name.from, name.to) === '__name__' && expr.slice(op.from, op.to) === '=')
        metrics.add(JSON.parse(expr.slice(value.from, value.to)) as string);
    }
  } while (cursor.next());
  return { errors, metrics };
}

/** The text of every series selector (`name{matchers}`) in an expression. */
export function selectors(expr: string): string[] {
  const out: string[] = [];
  const cursor = parser.parse(expr).cursor();
  do if (cursor.node.type.name === 'VectorSelector') out.push(expr.slice(cursor.from, cursor.to));
  while (cursor.next());
  return out;
}

/** The sample names (series names) in a Prometheus text exposition. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}
