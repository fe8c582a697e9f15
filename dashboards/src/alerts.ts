/**
 * The alert rules, monitoring-mixin style: recording rules for the SLO error
 * ratios over each window, then multi-window multi-burn-rate alerts on them
 * (the Google SRE workbook's table), plus cause alerts for dependencies,
 * saturation, the product, restarts and scraping. build.ts writes them as a
 * plain Prometheus rules file and as a PrometheusRule with the same groups.
 */
import { API_CONTAINER, API_JOB, PROBE_ROUTES, runbook } from './selectors.js';

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'critical' | 'warning' } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The service level objectives: the share of good requests over 30 days. */
export const SLOS = {
  availability: {
    objective: 0.999,
    what: 'requests answered without a 5xx',
    record: (w: string) => `namespace:mate_http_requests_errors:ratio_rate${w}`,
  },
  latency: {
    objective: 0.99,
    what: 'requests answered within 300 ms',
    record: (w: string) => `namespace:mate_http_requests_slow:ratio_rate${w}`,
  },
} as const;

/** Every window a burn-rate alert reads. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/**
 * The SRE workbook's multi-window multi-burn-rate table for a 30-day SLO:
 * a long window to be sure, a short one (1/12) to reset fast once it is fixed.
 */
const BURNS = [
  { severity: 'critical', long: '1h', short: '5m', factor: 14.4, budget: '2%' },
  { severity: 'critical', long: '6h', short: '30m', factor: 6, budget: '5%' },
  { severity: 'warning', long: '1d', short: '2h', factor: 3, budget: '10%' },
  { severity: 'warning', long: '3d', short: '6h', factor: 1, budget: '10%' },
] as const;

const requests = (extra = '') => `mate_http_requests_total{route!~"${PROBE_ROUTES}"${extra}}`;
const durations = (suffix: 'bucket' | 'count', extra = '') =>
  `mate_http_request_duration_seconds_${suffix}{route!~"${PROBE_ROUTES}"${extra}}`;

function errorRatio(w: string): string {
  // `or 0 * …`: a namespace with traffic but no 5xx at all has the ratio 0, not no value.
  const total = `sum by (namespace) (rate(${requests()}[${w}]))`;
  return `(sum by (namespace) (rate(${requests(', status=~"5.."')}[${w}])) or 0 * ${total}) / ${total}`;
}

function slowRatio(w: string): string {
  return (
    `1 - sum by (namespace) (rate(${durations('bucket', ', le="0.3"')}[${w}]))` +
    ` / sum by (namespace) (rate(${durations('count')}[${w}]))`
  );
}

function burnAlert(name: string, key: keyof typeof SLOS, severity: 'critical' | 'warning'): AlertingRule {
  const slo = SLOS[key];
  const budget = +(1 - slo.objective).toFixed(6);
  const pairs = BURNS.filter((b) => b.severity === severity);
  const expr = pairs
    .map(
      (b) => `(${slo.record(b.long)} > ${+(b.factor * budget).toFixed(6)} and ${slo.record(b.short)} > ${+(b.factor * budget).toFixed(6)})`,
    )
    .join('\nor\n');
  const windows = pairs.map((b) => `${b.factor}x over ${b.long} and ${b.short} (${b.budget} of the 30-day budget)`).join(', or ');
  return {
    alert: name,
    expr,
    for: severity === 'critical' ? '2m' : '15m',
    labels: { severity, slo: key },
    annotations: {
      summary: `MATE API is burning its ${key} error budget ${severity === 'critical' ? 'fast' : 'steadily'} (SLO: ${+(slo.objective * 100).toFixed(3)}% of ${slo.what}).`,
      description:
        `In namespace {{ $labels.namespace }} the share of bad requests is {{ $value | humanizePercentage }} over the long window, ` +
        `against a budget of ${(budget * 100).toFixed(1)}%: burning at ${windows}.`,
      runbook_url: runbook(name),
    },
  };
}

export function ruleGroups(): RuleGroup[] {
  const recording: RecordingRule[] = [];
  for (const w of WINDOWS) recording.push({ record: SLOS.availability.record(w), expr: errorRatio(w) });
  for (const w of WINDOWS) recording.push({ record: SLOS.latency.record(w), expr: slowRatio(w) });

  const slo: AlertingRule[] = [
    burnAlert('MateAvailabilityBudgetBurn', 'availability', 'critical'),
    burnAlert('MateAvailabilityBudgetBurn', 'availability', 'warning'),
    burnAlert('MateLatencyBudgetBurn', 'latency', 'critical'),
    burnAlert('MateLatencyBudgetBurn', 'latency', 'warning'),
  ];

  const causes: AlertingRule[] = [
    {
      alert: 'MateDependencyDown',
      expr: 'min by (namespace, dependency) (mate_dependency_up) == 0',
      for: '2m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'A MATE API pod cannot reach its {{ $labels.dependency }}.',
        description:
          'At least one API pod in namespace {{ $labels.namespace }} has failed its {{ $labels.dependency }} health check for 2 minutes; ' +
          'those pods are not ready and calls that need it answer 503.',
        runbook_url: runbook('MateDependencyDown'),
      },
    },
    {
      alert: 'MateDatabasePoolExhausted',
      expr: 'min_over_time(mate_db_pool_connections{state="pending"}[5m]) > 0',
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'MATE API requests keep waiting for a database connection.',
        description:
          'Pod {{ $labels.pod }} ({{ $labels.namespace }}) has had queries waiting for a pooled connection without a break for 15 minutes ' +
          '({{ $value }} waiting now).',
        runbook_url: runbook('MateDatabasePoolExhausted'),
      },
    },
    {
      alert: 'MateReservationsRejectedFull',
      expr:
        'sum by (namespace) (rate(mate_reservations_total{outcome="full"}[30m])) / sum by (namespace) (rate(mate_reservations_total[30m])) > 0.25' +
        '\nand sum by (namespace) (increase(mate_reservations_total[30m])) >= 20',
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Many MATE reservations are rejected because the carpool is full.',
        description:
          '{{ $value | humanizePercentage }} of reservation attempts in namespace {{ $labels.namespace }} over the last 30 minutes ' +
          'found the carpool already full: riders want more seats than drivers offer.',
        runbook_url: runbook('MateReservationsRejectedFull'),
      },
    },
    {
      alert: 'MatePodRestarting',
      expr: `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{container="${API_CONTAINER}"}[30m])) >= 2`,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A MATE API container keeps restarting.',
        description:
          'The API container of pod {{ $labels.pod }} ({{ $labels.namespace }}) restarted about {{ printf "%.0f" $value }} times in 30 minutes.',
        runbook_url: runbook('MatePodRestarting'),
      },
    },
    {
      alert: 'MateScrapeFailing',
      expr: `up{job="${API_JOB}"} == 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Prometheus cannot scrape a MATE API pod.',
        description: 'The scrape of {{ $labels.instance }} ({{ $labels.namespace }}) has failed for 5 minutes.',
        runbook_url: runbook('MateScrapeFailing'),
      },
    },
    {
      alert: 'MateMetricsAbsent',
      expr: `absent(up{job="${API_JOB}"} == 1)`,
      for: '10m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No MATE API pod has been scraped for 10 minutes.',
        description: `Prometheus has no successful scrape of job ${API_JOB} at all: the API is down everywhere, or its ServiceMonitor is gone or broken.`,
        runbook_url: runbook('MateMetricsAbsent'),
      },
    },
  ];

  return [
    // One group: its rules run in order, so the burn-rate alerts read the ratios of the same evaluation.
    { name: 'mate-slo', rules: [...recording, ...slo] },
    { name: 'mate-causes', rules: causes },
  ];
}
