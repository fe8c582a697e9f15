/**
 * The alert rules with promtool: the rules file is valid, its unit tests
 * (dashboards/tests/*.yaml) pass and cover every alert both firing and not,
 * the PrometheusRule carries the same groups, and every runbook link leads to
 * a section of docs/observability.md.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  PROMETHEUS_RULE_FILE,
  ROOT,
  RULES_FILE,
  TESTS_DIR,
  annotationQueries,
  loadDashboards,
  loadRules,
  panelQueries,
  parsePromQL,
  renderGrafana,
  run,
  tool,
} from './support.js';
import { kubeconfigPath, kubectl } from '../cluster/support.js';
import { API_CONTAINER, API_JOB, API_METRICS, apiTargetLabels } from '../../service/src/platform/observability/contract.js';

const testFiles = fs
  .readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(TESTS_DIR, f));

interface PromtoolTests {
  rule_files: string[];
  tests: Array<{
    name?: string;
    input_series: Array<{ series: string }>;
    alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: unknown[] }>;
  }>;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (m)
      out.add(
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

describe('alert rules', () => {
  const rules = loadRules();
  const alerts = rules.groups.flatMap((g) => g.rules.filter((r) => r.alert));

  it('promtool check rules passes on the rules file', () => {
    const r = run(tool('promtool'), ['check', 'rules', RULES_FILE]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules passes on dashboards/tests/*.yaml', () => {
    assert.ok(testFiles.length > 0);
    const r = run(tool('promtool'), ['test', 'rules', ...testFiles], { cwd: TESTS_DIR });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /FAILED/);
  });

  it("the unit tests' series carry the contract's metrics and labels, on targets labelled as the ServiceMonitor's", () => {
    const targetKeys = Object.keys(apiTargetLabels({ namespace: 'n', service: 's', pod: 'p', address: 'a' })).sort();
    const byName = new Map<string, readonly string[]>();
    for (const m of Object.values(API_METRICS)) {
      if (m.kind !== 'histogram') byName.set(m.name, m.labels);
      else for (const suffix of ['_count', '_sum']) byName.set(m.name + suffix, m.labels);
      if (m.kind === 'histogram') byName.set(`${m.name}_bucket`, [...m.labels, 'le']);
    }
    const series = testFiles.flatMap((f) =>
      (YAML.parse(fs.readFileSync(f, 'utf8')) as PromtoolTests).tests.flatMap((t) => t.input_series.map((s) => s.series)),
    );
    assert.ok(series.length > 0);
    let apiTargets = 0;
    for (const s of series) {
      const metric = /^[a-zA-Z_:][\w:]*/.exec(s)![0];
      const labels = Object.fromEntries([...s.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      const keys = Object.keys(labels).sort();
      if (metric.startsWith('mate_')) {
        const own = byName.get(metric);
        assert.ok(own, `${s}: ${metric} is not a metric of the contract`);
        assert.deepEqual(keys, [...targetKeys, ...own].sort(), s);
        assert.equal(labels.job, API_JOB, s);
      } else if (metric === 'up' && labels.job === API_JOB) {
        assert.deepEqual(keys, targetKeys, s);
        apiTargets++;
      } else if (metric.startsWith('kube_')) assert.ok(labels.container === API_CONTAINER || labels.container === 'filebeat', s);
    }
    assert.ok(apiTargets > 0, "no series of the API's scrape targets");
  });

  it('every API metric a rule or panel selects is in the contract', () => {
    const names = new Set(Object.values(API_METRICS).flatMap((m) => [m.name, `${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`]));
    const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: r.record ?? r.alert!, expr: r.expr }))),
      ...loadDashboards().flatMap((d) =>
        [...panelQueries(d), ...annotationQueries(d)].map((q) => ({ where: `${d.uid} / ${q.panel}`, expr: renderGrafana(q.expr) })),
      ),
    ];
    const unknown = exprs.flatMap(({ where, expr }) =>
      [...parsePromQL(expr).metrics]
        .filter((m) => m.startsWith('mate_') && !names.has(m) && !recorded.has(m))
        .map((m) => `${m} (${where})`),
    );
    assert.deepEqual(unknown, []);
  });

  it('the unit tests read the built rules and cover every alert, firing and not firing', () => {
    const firing = new Map<string, number>();
    const quiet = new Map<string, number>();
    for (const f of testFiles) {
      const doc = YAML.parse(fs.readFileSync(f, 'utf8')) as PromtoolTests;
      assert.deepEqual(doc.rule_files, ['../build/mate-alerts.rules.yaml'], `${path.basename(f)} tests the built rules`);
      for (const t of doc.tests)
        for (const a of t.alert_rule_test ?? []) {
          const m = (a.exp_alerts ?? []).length ? firing : quiet;
          m.set(a.alertname, (m.get(a.alertname) ?? 0) + 1);
        }
    }
    for (const name of new Set(alerts.map((a) => a.alert!))) {
      assert.ok(firing.get(name), `${name}: no test case where it fires`);
      assert.ok(quiet.get(name), `${name}: no test case where it does not fire`);
    }
  });

  it('every alert has a severity, a summary, a description and a runbook section in docs/observability.md', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8');
    const sections = anchors(doc);
    for (const a of alerts) {
      assert.match(a.labels?.severity ?? '', /^(critical|warning)$/, `${a.alert}: severity`);
      assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert}: summary and description`);
      const url = a.annotations?.runbook_url ?? '';
      const [base, anchor] = url.split('#');
      assert.match(base!, /\/docs\/observability\.md$/, `${a.alert}: runbook_url points into docs/observability.md`);
      assert.equal(anchor, a.alert!.toLowerCase(), `${a.alert}: the anchor is the alert's name`);
      assert.ok(sections.has(anchor!), `${a.alert}: docs/observability.md has no section "${a.alert}"`);
    }
  });

  it('the burn-rate alerts read the SLO recording rules, and those read the le="0.3" bucket and the 5xx', () => {
    const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
    for (const a of alerts.filter((x) => /BudgetBurn$/.test(x.alert!)))
      for (const m of parsePromQL(a.expr).metrics) assert.ok(recorded.has(m), `${a.alert} reads ${m}, which no rule records`);
    const exprs = rules.groups.flatMap((g) => g.rules.filter((r) => r.record).map((r) => r.expr)).join('\n');
    assert.match(exprs, /le="0\.3"/);
    assert.match(exprs, /status=~"5\.\."/);
  });

  it('the PrometheusRule holds the same groups as the rules file', () => {
    const pr = YAML.parse(fs.readFileSync(PROMETHEUS_RULE_FILE, 'utf8')) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: { groups: unknown };
    };
    assert.equal(pr.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(pr.kind, 'PrometheusRule');
    assert.ok(pr.metadata.name);
    assert.deepEqual(pr.spec.groups, rules.groups);
  });

  it('the Kubernetes API server accepts the PrometheusRule (server-side dry run against the Prometheus Operator CRD)', async (t) => {
    const up = fs.existsSync(kubeconfigPath) && (await kubectl(['get', '--raw=/readyz']).catch(() => ({ code: 1 }))).code === 0;
    if (!up) return t.skip('the local control plane is not running');
    const r = await kubectl(['apply', '--dry-run=server', '--namespace=default', '-f', PROMETHEUS_RULE_FILE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /prometheusrule\.monitoring\.coreos\.com\/mate-alerts (created|configured|unchanged) \(server dry run\)/);
  });

  it('the PromQL parser finds metric names and syntax errors (so the checks above are not vacuous)', () => {
    const ok = parsePromQL(
      'sum by (route) (rate(a_total{x="1"}[5m])) / on() group_left sum(rate({__name__="b_total"}[5m])) and absent(up)',
    );
    assert.deepEqual([...ok.metrics].sort(), ['a_total', 'b_total', 'up']);
    assert.deepEqual(ok.errors, []);
    assert.ok(parsePromQL('sum(rate(a_total[5m)').errors.length > 0);
    assert.ok(parsePromQL('rate(a_total[$__rate_interval])').errors.length > 0, 'Grafana variables must be rendered first');
  });
});
