/**
 * The dashboards and alert rules against a real Prometheus (Debian's 2.42)
 * scraping a real API (MariaDB, Redis, MinIO, SMTP) every second, after a
 * short scripted session: sign-ups, sign-ins, carpools, reservations (one
 * rejected as full), a report, an image, a recovery mail, 404s, a 500 and a
 * Redis outage. Every PromQL expression of every panel and rule must evaluate
 * without error, every panel must show data (but the allow-listed), every
 * metric name they use must be exposed, and /metrics must pass promtool.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_JOB } from '../../dashboards/src/selectors.js';
import { API_METRICS } from '../../service/src/platform/observability/contract.js';
import { EXTERNAL_SERIES, NO_LOCAL_DATA } from './allow-list.js';
import { scriptedSession, startObservedApi, type ObservedApi } from './session.js';
import {
  annotationQueries,
  eventually,
  exposedNames,
  loadDashboards,
  loadRules,
  panelQueries,
  parsePromQL,
  renderGrafana,
  run,
  tool,
  variableQueries,
  type PanelQuery,
  type RunningPrometheus,
} from './support.js';

/** The API's side of the metrics contract as exposed: series name → label names (a histogram by its buckets). */
const CONTRACT: Record<string, readonly string[]> = Object.fromEntries(
  Object.values(API_METRICS).map((m) => (m.kind === 'histogram' ? [`${m.name}_bucket`, [...m.labels, 'le']] : [m.name, m.labels])),
);

describe('dashboards and alert rules against a real Prometheus scraping the API', { timeout: 240_000 }, () => {
  let api: ObservedApi;
  let prom: RunningPrometheus;
  let metricsText = '';
  const dashboards = loadDashboards();
  const rules = loadRules();
  const panels: PanelQuery[] = dashboards.flatMap((d) => [...panelQueries(d), ...annotationQueries(d)]);
  const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ name: `${g.name} / ${r.record ?? r.alert}`, expr: r.expr })));
  const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));

  before(async () => {
    api = await startObservedApi();
    prom = api.prom;
    console.log(`scripted session: ${(await scriptedSession(api)).join(', ')}`);
    metricsText = await (await fetch(`${api.t.url}/metrics`)).text();
    // Three more scrapes and rule evaluations after the session.
    const total = exposedTotal(metricsText);
    await eventually('Prometheus to have scraped the whole session', async () => {
      const r = await prom.query(`sum(mate_http_requests_total{job="${API_JOB}"})`);
      return Number(r.data?.result[0]?.value[1] ?? 0) >= total;
    });
    await new Promise((r) => setTimeout(r, 3_000));
  });

  after(async () => {
    await api?.close();
  });

  it('parses every panel, annotation, variable and rule expression with the PromQL grammar', () => {
    const bad: string[] = [];
    for (const q of panels)
      for (const e of parsePromQL(renderGrafana(q.expr)).errors) bad.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${e}`);
    for (const r of ruleExprs) for (const e of parsePromQL(r.expr).errors) bad.push(`${r.name}: ${e}`);
    for (const d of dashboards)
      for (const v of variableQueries(d))
        for (const e of parsePromQL(renderGrafana(v.selector)).errors) bad.push(`${d.uid} / $${v.name}: ${e}`);
    assert.deepEqual(bad, []);
    assert.ok(panels.length >= 40, `only ${panels.length} panel queries`);
  });

  it('evaluates every panel and annotation query without error, and each shows data unless allow-listed', async () => {
    const errors: string[] = [];
    const empty: string[] = [];
    const excused: string[] = [];
    for (const q of panels) {
      const r = await prom.query(renderGrafana(q.expr));
      const key = `${q.dashboard} / ${q.panel}`;
      if (r.status !== 'success') errors.push(`${key} / ${q.refId}: ${r.error}`);
      else if (r.data!.result.length === 0) {
        if (NO_LOCAL_DATA[key]) excused.push(`${key}: ${NO_LOCAL_DATA[key]}`);
        else empty.push(`${key} / ${q.refId}: ${q.expr}`);
      }
    }
    for (const e of new Set(excused)) console.log(`no local data (allowed): ${e}`);
    assert.deepEqual(errors, [], 'queries Prometheus rejects');
    assert.deepEqual(empty, [], 'panel queries without data');
    // The allow-list holds only panels that exist and really have no data here.
    const keys = new Set(panels.map((q) => `${q.dashboard} / ${q.panel}`));
    for (const k of Object.keys(NO_LOCAL_DATA)) assert.ok(keys.has(k), `allow-listed panel ${k} does not exist`);
  });

  it('evaluates every variable query: label_values() finds the namespace and the instance', async () => {
    for (const d of dashboards)
      for (const v of variableQueries(d)) {
        const r = await prom.api<string[]>(`/api/v1/label/${v.label}/values`, { 'match[]': renderGrafana(v.selector) });
        assert.equal(r.status, 'success', `${d.uid} $${v.name}: ${r.error}`);
        assert.ok(r.data!.length > 0, `${d.uid} $${v.name}: no values for ${v.label} in ${v.selector}`);
      }
  });

  it('evaluates every alert and recording rule without error, and Prometheus loaded them all healthy', async () => {
    for (const r of ruleExprs) {
      const res = await prom.query(r.expr);
      assert.equal(res.status, 'success', `${r.name}: ${res.error}`);
    }
    const loaded = await prom.api<{ groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> }>(
      '/api/v1/rules',
    );
    const names = loaded.data!.groups.map((g) => g.name).sort();
    assert.deepEqual(names, rules.groups.map((g) => g.name).sort());
    assert.equal(
      loaded.data!.groups.reduce((n, g) => n + g.rules.length, 0),
      ruleExprs.length,
      'Prometheus loaded every rule',
    );
    const unhealthy = loaded.data!.groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name} / ${r.name}: ${r.health} ${r.lastError ?? ''}`),
    );
    assert.deepEqual(unhealthy, []);
    // The SLO ratios exist for the API's namespace: the rules read what the API exposes.
    const ratio = await prom.query('namespace:mate_http_requests_errors:ratio_rate5m{namespace="mate-local"}');
    assert.equal(ratio.data!.result.length, 1, 'the availability ratio is recorded');
    assert.ok(Number(ratio.data!.result[0]!.value[1]) > 0, 'the 500s of the session count as errors');
    const slow = await prom.query('namespace:mate_http_requests_slow:ratio_rate5m{namespace="mate-local"}');
    assert.equal(slow.data!.result.length, 1, 'the latency ratio is recorded');
  });

  it('the Redis outage showed in the dependency metrics, and the 5xx in the request metrics', async () => {
    const down = await prom.query('min_over_time(mate_dependency_up{dependency="redis"}[5m]) == 0');
    assert.equal(down.data!.result.length, 1);
    const fivexx = await prom.query('sum(increase(mate_http_requests_total{status=~"5.."}[5m])) > 0');
    assert.equal(fivexx.data!.result.length, 1);
  });

  it('every metric the dashboards and rules use is exposed by the API, recorded by a rule, or from another exporter', async () => {
    const exposed = exposedNames(metricsText);
    const used = new Map<string, string>();
    for (const q of panels) for (const m of parsePromQL(renderGrafana(q.expr)).metrics) used.set(m, `${q.dashboard} / ${q.panel}`);
    for (const r of ruleExprs) for (const m of parsePromQL(r.expr).metrics) used.set(m, r.name);
    for (const d of dashboards)
      for (const v of variableQueries(d))
        for (const m of parsePromQL(renderGrafana(v.selector)).metrics) used.set(m, `${d.uid} $${v.name}`);
    const missing: string[] = [];
    for (const [m, where] of used) {
      if (exposed.has(m) || recorded.has(m) || EXTERNAL_SERIES[m]) continue;
      if (m === 'up') continue; // made by Prometheus for each target
      missing.push(`${m} (used by ${where})`);
    }
    assert.deepEqual(missing, []);
  });

  it('the API exposes the metrics contract with its labels', () => {
    const labelsOf = new Map<string, Set<string>>();
    for (const line of metricsText.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
      if (!m) continue;
      const set = labelsOf.get(m[1]!) ?? new Set<string>();
      for (const [, k] of (m[2] ?? '').matchAll(/(\w+)="/g)) set.add(k!);
      labelsOf.set(m[1]!, set);
    }
    const problems: string[] = [];
    for (const [name, labels] of Object.entries(CONTRACT)) {
      const got = labelsOf.get(name);
      if (!got) {
        problems.push(`${name} is not exposed`);
        continue;
      }
      const want = new Set(labels);
      if ([...want].some((l) => !got.has(l)) || [...got].some((l) => !want.has(l)))
        problems.push(`${name} has labels {${[...got].join(',')}}, the contract says {${labels.join(',')}}`);
    }
    assert.deepEqual(problems, []);
    assert.match(metricsText, /mate_http_request_duration_seconds_bucket\{[^}]*le="0\.3"/, 'the latency SLO reads the 0.3 s bucket');
  });

  it('the session moved the counters the product and dependency panels read', () => {
    const total = (name: string, labels: Record<string, string> = {}) =>
      metricsText
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const expected: Array<[string, Record<string, string>?]> = [
      ['mate_signups_total', { provider: 'mate' }],
      ['mate_signins_total', { outcome: 'success' }],
      ['mate_signins_total', { outcome: 'wrong_credentials' }],
      ['mate_carpools_posted_total'],
      ['mate_carpools_deleted_total'],
      ['mate_reservations_total', { outcome: 'reserved' }],
      ['mate_reservations_total', { outcome: 'full' }],
      ['mate_reservations_total', { outcome: 'already_in_carpool' }],
      ['mate_reservations_total', { outcome: 'own_carpool' }],
      ['mate_reservations_total', { outcome: 'not_found' }],
      ['mate_reservation_cancellations_total'],
      ['mate_reports_total'],
      ['mate_s3_requests_total', { outcome: 'ok' }],
      ['mate_mail_sends_total', { outcome: 'sent' }],
      ['mate_redis_errors_total'],
      ['mate_db_query_duration_seconds_count'],
      ['mate_redis_operation_duration_seconds_count'],
    ];
    const key = ([n, l]: [string, Record<string, string>?]) => `${n}${l ? JSON.stringify(l) : ''}`;
    const still = expected.filter((e) => total(e[0], e[1]) === 0);
    assert.deepEqual(still.map(key), [], 'counters the session should have moved');
  });

  it('promtool check metrics finds nothing to fix in /metrics', () => {
    const r = run(tool('promtool'), ['check', 'metrics'], { input: metricsText });
    assert.equal(r.code, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  });
});

function exposedTotal(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('mate_http_requests_total{')) sum += Number(line.split(' ').pop());
  return sum;
}
