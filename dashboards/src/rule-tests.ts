/**
 * The promtool unit tests of the alert and recording rules, built to
 * dashboards/tests/*.test.yaml (build.ts). Their series carry the labels a
 * real cluster gives them: the API's metrics and label names from the
 * metrics contract, each on a target labelled as the Prometheus Operator
 * labels the ServiceMonitor's targets (apiTargetLabels), so a rule that
 * selects a label the cluster does not produce, or keeps one it should have
 * aggregated away, fails here. Each alert has a case that fires (and
 * resolves once the cause is gone) and a case that must not fire.
 */
import { API_METRICS, apiTargetLabels, type ApiMetric, type MetricSpec } from '../../service/src/platform/observability/contract.js';
import { API_CONTAINER, runbook } from './selectors.js';

type Labels = Record<string, string>;
interface InputSeries {
  series: string;
  values: string;
}
interface ExpAlert {
  exp_labels: Labels;
  exp_annotations: { summary: string; description: string; runbook_url: string };
}
interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpAlert[];
}
interface ExprCase {
  expr: string;
  eval_time: string;
  exp_samples: Array<{ labels: string; value: number }>;
}
interface RuleTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  promql_expr_test?: ExprCase[];
  alert_rule_test: AlertCase[];
}

/** Two API pods of the release `mate` in namespace `prod`. */
const PODS = { a: '10.0.0.1:8080', b: '10.0.0.2:8080' } as const;
function target(pod: keyof typeof PODS, namespace = 'prod'): Labels {
  return apiTargetLabels({ namespace, service: 'mate', pod: `mate-api-${pod}`, address: PODS[pod] });
}

function selector(name: string, labels: Labels): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** A series of one of the API's metrics, scraped from `on`; a histogram's series by its suffix (and `le`). */
function api<L extends string>(
  metric: MetricSpec<ApiMetric['kind'], L>,
  labels: Record<L, string>,
  values: string,
  on: Labels = target('a'),
  histogram?: { suffix: '_bucket' | '_count'; le?: string },
): InputSeries {
  const name = metric.name + (histogram?.suffix ?? '');
  return { series: selector(name, { ...on, ...labels, ...(histogram?.le ? { le: histogram.le } : {}) }), values };
}

/** Prometheus' own `up` of a target. */
const up = (on: Labels, values: string): InputSeries => ({ series: selector('up', on), values });

/** kube-state-metrics' restart counter of a container of an API pod, as its own target reports it. */
const restarts = (container: string, values: string): InputSeries => ({
  series: selector('kube_pod_container_status_restarts_total', {
    job: 'kube-state-metrics',
    namespace: 'prod',
    pod: 'mate-api-a',
    uid: '0f3c1a52-5b1e-4a4e-9a0a-1d2c3b4a5f60',
    container,
  }),
  values,
});

/** Another exporter's target, which the API's alerts must ignore. */
const OTHER_TARGET = { job: 'node-exporter', instance: '10.0.0.9:9100' };

const quiet = (eval_time: string, alertname: string): AlertCase => ({ eval_time, alertname, exp_alerts: [] });
function fires(
  eval_time: string,
  alertname: string,
  ...alerts: Array<{ labels: Labels; summary: string; description: string }>
): AlertCase {
  return {
    eval_time,
    alertname,
    exp_alerts: alerts.map((a) => ({
      exp_labels: a.labels,
      exp_annotations: { summary: a.summary, description: a.description, runbook_url: runbook(alertname) },
    })),
  };
}

const DEPENDENCY_DOWN = {
  summary: 'A MATE API pod cannot reach its redis.',
  description:
    'At least one API pod in namespace prod has failed its redis health check for 2 minutes; those pods are not ready and calls that need it answer 503.',
};
const METRICS_ABSENT = {
  labels: { severity: 'critical' },
  summary: 'No MATE API pod has been scraped for 10 minutes.',
  description:
    'Prometheus has no successful scrape of job mate-api at all: the API is down everywhere, or its ServiceMonitor is gone or broken.',
};
const { dependencyUp, dbPoolConnections, reservations, httpRequests, httpDuration } = API_METRICS;

function causeTests(): RuleTest[] {
  return [
    {
      name: 'MateDependencyDown fires while one pod cannot reach Redis, and resolves when it can',
      interval: '1m',
      input_series: [
        api(dependencyUp, { dependency: 'redis' }, '1x10 0x10 1x10', target('a')),
        api(dependencyUp, { dependency: 'redis' }, '1x30', target('b')),
        api(dependencyUp, { dependency: 'database' }, '1x30', target('a')),
      ],
      alert_rule_test: [
        // Down since minute 11: still pending at 12.
        quiet('12m', 'MateDependencyDown'),
        fires('15m', 'MateDependencyDown', {
          labels: { severity: 'critical', namespace: 'prod', dependency: 'redis' },
          ...DEPENDENCY_DOWN,
        }),
        quiet('25m', 'MateDependencyDown'),
      ],
    },
    {
      name: 'MateDependencyDown stays quiet through a blip shorter than its 2 minutes',
      interval: '1m',
      input_series: [api(dependencyUp, { dependency: 'database' }, '1x10 0 1x10')],
      alert_rule_test: [quiet('11m', 'MateDependencyDown'), quiet('13m', 'MateDependencyDown')],
    },
    {
      name: 'MateDatabasePoolExhausted fires when queries wait for connections without a break, and resolves',
      interval: '1m',
      input_series: [api(dbPoolConnections, { state: 'pending' }, '0x5 3x30 0x20')],
      alert_rule_test: [
        quiet('12m', 'MateDatabasePoolExhausted'),
        fires('25m', 'MateDatabasePoolExhausted', {
          labels: { severity: 'warning', ...target('a'), state: 'pending' },
          summary: 'MATE API requests keep waiting for a database connection.',
          description:
            'Pod mate-api-a (prod) has had queries waiting for a pooled connection without a break for 15 minutes (3 waiting now).',
        }),
        quiet('45m', 'MateDatabasePoolExhausted'),
      ],
    },
    {
      name: 'MateDatabasePoolExhausted ignores bursts of waiting',
      interval: '1m',
      input_series: [api(dbPoolConnections, { state: 'pending' }, '0 4 0 0 6 2 0 5 0 0 0 8 0 0 1 0 0 0 3 0 0 0 0 0 9 0 0 0 0 0 0')],
      alert_rule_test: [quiet('30m', 'MateDatabasePoolExhausted')],
    },
    {
      name: 'MateReservationsRejectedFull fires when 40% of attempts find the carpool full, and resolves',
      interval: '1m',
      input_series: [api(reservations, { outcome: 'full' }, '0+4x60 240x60'), api(reservations, { outcome: 'reserved' }, '0+6x120')],
      alert_rule_test: [
        quiet('5m', 'MateReservationsRejectedFull'),
        fires('40m', 'MateReservationsRejectedFull', {
          labels: { severity: 'warning', namespace: 'prod' },
          summary: 'Many MATE reservations are rejected because the carpool is full.',
          description:
            '40% of reservation attempts in namespace prod over the last 30 minutes found the carpool already full: riders want more seats than drivers offer.',
        }),
        quiet('110m', 'MateReservationsRejectedFull'),
      ],
    },
    {
      name: 'MateReservationsRejectedFull needs both a high share and enough attempts',
      interval: '1m',
      input_series: [
        // A high share of very few attempts (about 18 in 30 minutes).
        api(reservations, { outcome: 'full' }, '0+0.5x60', target('a', 'quiet')),
        api(reservations, { outcome: 'reserved' }, '0+0.1x60', target('a', 'quiet')),
        // Many attempts, 10% full.
        api(reservations, { outcome: 'full' }, '0+1x60', target('a', 'busy')),
        api(reservations, { outcome: 'reserved' }, '0+9x60', target('a', 'busy')),
      ],
      alert_rule_test: [quiet('50m', 'MateReservationsRejectedFull')],
    },
    {
      name: 'MatePodRestarting fires on repeated restarts of the API container, and resolves',
      interval: '1m',
      input_series: [restarts(API_CONTAINER, '0x10 1x5 2x5 3x5 3x60')],
      alert_rule_test: [
        quiet('10m', 'MatePodRestarting'),
        fires('25m', 'MatePodRestarting', {
          labels: { severity: 'warning', namespace: 'prod', pod: 'mate-api-a' },
          summary: 'A MATE API container keeps restarting.',
          description: 'The API container of pod mate-api-a (prod) restarted about 3 times in 30 minutes.',
        }),
        quiet('70m', 'MatePodRestarting'),
      ],
    },
    {
      name: 'MatePodRestarting ignores a single restart and other containers',
      interval: '1m',
      input_series: [restarts(API_CONTAINER, '0x10 1x50'), restarts('filebeat', '0+1x60')],
      alert_rule_test: [quiet('30m', 'MatePodRestarting')],
    },
    {
      name: 'MateScrapeFailing fires when a target stays down for 5 minutes, and resolves',
      interval: '1m',
      input_series: [up(target('a'), '1x5 0x10 1x10'), up(target('b'), '1x25')],
      alert_rule_test: [
        quiet('8m', 'MateScrapeFailing'),
        fires('13m', 'MateScrapeFailing', {
          labels: { severity: 'warning', ...target('a') },
          summary: 'Prometheus cannot scrape a MATE API pod.',
          description: 'The scrape of 10.0.0.1:8080 (prod) has failed for 5 minutes.',
        }),
        quiet('20m', 'MateScrapeFailing'),
        // One pod up: the API as a whole is still scraped.
        quiet('13m', 'MateMetricsAbsent'),
      ],
    },
    {
      name: 'MateScrapeFailing ignores other jobs',
      interval: '1m',
      input_series: [up(OTHER_TARGET, '0x20'), up(target('a'), '1x20')],
      alert_rule_test: [quiet('15m', 'MateScrapeFailing')],
    },
    {
      name: 'MateMetricsAbsent fires when no API target is scraped at all, and resolves when one is',
      interval: '1m',
      // Every target down for 20 minutes, then one comes back.
      input_series: [up(target('a'), '1x5 0x20 1x10')],
      alert_rule_test: [
        quiet('12m', 'MateMetricsAbsent'),
        fires('20m', 'MateMetricsAbsent', METRICS_ABSENT),
        quiet('30m', 'MateMetricsAbsent'),
      ],
    },
    {
      name: 'MateMetricsAbsent fires when the targets are gone (no ServiceMonitor)',
      interval: '1m',
      input_series: [up(OTHER_TARGET, '1x20')],
      alert_rule_test: [quiet('5m', 'MateMetricsAbsent'), fires('15m', 'MateMetricsAbsent', METRICS_ABSENT)],
    },
  ];
}

const CARPOOLS = { method: 'GET', route: '/api/v1/carpools', status: '200' };
const burn = (slo: 'availability' | 'latency', severity: 'critical' | 'warning', ratio: string) => {
  const objective = slo === 'availability' ? '99.9% of requests answered without a 5xx' : '99% of requests answered within 300 ms';
  const budget = slo === 'availability' ? '0.1%' : '1.0%';
  const windows =
    severity === 'critical'
      ? 'burning at 14.4x over 1h and 5m (2% of the 30-day budget), or 6x over 6h and 30m (5% of the 30-day budget)'
      : 'burning at 3x over 1d and 2h (10% of the 30-day budget), or 1x over 3d and 6h (10% of the 30-day budget)';
  return {
    labels: { severity, slo, namespace: 'prod' },
    summary: `MATE API is burning its ${slo} error budget ${severity === 'critical' ? 'fast' : 'steadily'} (SLO: ${objective}).`,
    description: `In namespace prod the share of bad requests is ${ratio} over the long window, against a budget of ${budget}: ${windows}.`,
  };
};
const latency = (labels: typeof CARPOOLS, suffix: '_bucket' | '_count', values: string) =>
  api(httpDuration, labels, values, target('a'), { suffix, ...(suffix === '_bucket' ? { le: '0.3' } : {}) });

/** Traffic is 1000 requests a minute in namespace prod; each test breaks the SLO for a while, then mends it. */
function sloTests(): RuleTest[] {
  return [
    // Availability: 2% of requests fail for an hour (20x the 0.1% budget), then none.
    {
      name: 'availability fast burn fires both alerts, then the page resolves first and the ticket later',
      interval: '1m',
      input_series: [
        api(httpRequests, CARPOOLS, '0+980x60 59800+1000x419'),
        api(httpRequests, { ...CARPOOLS, status: '500' }, '0+20x60 1200x420'),
      ],
      promql_expr_test: [
        {
          expr: 'namespace:mate_http_requests_errors:ratio_rate5m',
          eval_time: '30m',
          exp_samples: [{ labels: 'namespace:mate_http_requests_errors:ratio_rate5m{namespace="prod"}', value: 0.02 }],
        },
        // No 5xx in the window: the ratio is 0 (a value), not absent.
        {
          expr: 'namespace:mate_http_requests_errors:ratio_rate5m',
          eval_time: '90m',
          exp_samples: [{ labels: 'namespace:mate_http_requests_errors:ratio_rate5m{namespace="prod"}', value: 0 }],
        },
      ],
      alert_rule_test: [
        // Before the page's `for: 2m` has passed: nothing yet.
        quiet('2m', 'MateAvailabilityBudgetBurn'),
        fires('30m', 'MateAvailabilityBudgetBurn', burn('availability', 'critical', '2%'), burn('availability', 'warning', '2%')),
        // 50 minutes after the fix the short windows are clean: the page resolves, the ticket stays.
        fires('110m', 'MateAvailabilityBudgetBurn', burn('availability', 'warning', '1.091%')),
        // Once the bad hour has left the 6-hour window as well, the ticket resolves.
        quiet('7h30m', 'MateAvailabilityBudgetBurn'),
      ],
    },
    {
      name: 'availability within budget, and failing probes, raise nothing',
      interval: '1m',
      input_series: [
        api(httpRequests, CARPOOLS, '0+1000x480'),
        // 0.05% 5xx: half the budget.
        api(httpRequests, { method: 'POST', route: '/api/v1/carpools/:id/reservations', status: '503' }, '0+0.5x480'),
        // Probes and scrapes are not traffic: a failing readiness probe spends no budget.
        api(httpRequests, { method: 'GET', route: '/readyz', status: '503' }, '0+100x480'),
      ],
      promql_expr_test: [
        // 0.5 of 1000.5 a minute: 0.05% (in thousandths of a percent, rounded).
        {
          expr: 'round(namespace:mate_http_requests_errors:ratio_rate1h * 100000)',
          eval_time: '2h',
          exp_samples: [{ labels: '{namespace="prod"}', value: 50 }],
        },
      ],
      alert_rule_test: [quiet('1h', 'MateAvailabilityBudgetBurn'), quiet('8h', 'MateAvailabilityBudgetBurn')],
    },
    // Latency: 20% of requests take longer than 300 ms for an hour (20x the 1% budget), then none.
    {
      name: 'latency fast burn fires both alerts, then the page resolves first and the ticket later',
      interval: '1m',
      input_series: [latency(CARPOOLS, '_bucket', '0+800x60 49000+1000x419'), latency(CARPOOLS, '_count', '0+1000x480')],
      promql_expr_test: [
        // 20% slow (in tenths of a percent, rounded).
        {
          expr: 'round(namespace:mate_http_requests_slow:ratio_rate1h * 1000)',
          eval_time: '1h',
          exp_samples: [{ labels: '{namespace="prod"}', value: 200 }],
        },
      ],
      alert_rule_test: [
        fires('30m', 'MateLatencyBudgetBurn', burn('latency', 'critical', '20%'), burn('latency', 'warning', '20%')),
        fires('110m', 'MateLatencyBudgetBurn', burn('latency', 'warning', '10.91%')),
        quiet('7h30m', 'MateLatencyBudgetBurn'),
      ],
    },
    {
      name: 'latency within budget, and slow scrapes, raise nothing',
      interval: '1m',
      input_series: [
        // 0.5% slower than 300 ms: half the budget.
        latency(CARPOOLS, '_bucket', '0+995x480'),
        latency(CARPOOLS, '_count', '0+1000x480'),
        // /metrics is excluded from the SLO: all of its scrapes being slow changes nothing.
        latency({ ...CARPOOLS, route: '/metrics' }, '_bucket', '0x480'),
        latency({ ...CARPOOLS, route: '/metrics' }, '_count', '0+100x480'),
      ],
      alert_rule_test: [quiet('1h', 'MateLatencyBudgetBurn'), quiet('8h', 'MateLatencyBudgetBurn')],
    },
  ];
}

/** The promtool test files: name → document; each reads the built rules file. */
export function ruleTestFiles(): Map<string, { comment: string; doc: object }> {
  const file = (tests: RuleTest[]) => ({ rule_files: ['../build/mate-alerts.rules.yaml'], evaluation_interval: '1m', tests });
  return new Map([
    [
      'alerts.test.yaml',
      {
        comment: 'The cause alerts: dependencies, the database pool, reservations rejected as full, restarts and scraping.',
        doc: file(causeTests()),
      },
    ],
    ['slo.test.yaml', { comment: 'The SLO recording rules and burn-rate alerts.', doc: file(sloTests()) }],
  ]);
}
