import { SLOS } from './alerts.js';
import { buildDashboard, statPanel, timeseriesPanel } from './lib.js';
import { API_JOB, NAMESPACE, SEL } from './selectors.js';

const reqs = (extra = '') => `mate_http_requests_total{${SEL}${extra}}`;
const rate = (sel: string) => `rate(${sel}[$__rate_interval])`;
const buckets = `mate_http_request_duration_seconds_bucket{${SEL}}`;
const quantile = (q: number, by = '') => `histogram_quantile(${q}, sum by (le${by}) (${rate(buckets)}))`;
const availabilityBudget = +(1 - SLOS.availability.objective).toFixed(6);
const latencyBudget = +(1 - SLOS.latency.objective).toFixed(6);

/** Golden signals: traffic, errors, latency, saturation. */
export function overview() {
  return buildDashboard({
    uid: 'mate-overview',
    title: 'MATE / Overview',
    description: 'The API’s golden signals: traffic, errors, latency percentiles and saturation, with the SLO burn rates.',
    tags: ['overview'],
    rows: [
      {
        title: 'Now',
        panels: [
          statPanel({
            title: 'Requests',
            description: 'Requests per second answered by the selected instances.',
            unit: 'reqps',
            queries: [{ expr: `sum(${rate(reqs())})` }],
          }),
          statPanel({
            title: '5xx ratio',
            description: 'Share of requests answered with a 5xx status (the availability SLO allows 0.1%).',
            unit: 'percentunit',
            decimals: 2,
            steps: [availabilityBudget, availabilityBudget * 10],
            queries: [{ expr: `(sum(${rate(reqs(', status=~"5.."'))}) or vector(0)) / sum(${rate(reqs())})` }],
          }),
          statPanel({
            title: 'p99 latency',
            description: '99th percentile of request duration (the latency SLO wants 99% under 300 ms).',
            unit: 's',
            steps: [0.15, 0.3],
            queries: [{ expr: quantile(0.99) }],
          }),
          statPanel({
            title: 'Availability budget burn (1h)',
            description:
              'How fast the 99.9% availability SLO’s error budget burns over the last hour: 1 spends it exactly in 30 days, 14.4 pages.',
            unit: 'x',
            decimals: 1,
            steps: [1, 14.4],
            queries: [{ expr: `max(${SLOS.availability.record('1h')}{${NAMESPACE}}) / ${availabilityBudget}` }],
          }),
          statPanel({
            title: 'Latency budget burn (1h)',
            description: 'The same for the latency SLO (99% of requests within 300 ms).',
            unit: 'x',
            decimals: 1,
            steps: [1, 14.4],
            queries: [{ expr: `max(${SLOS.latency.record('1h')}{${NAMESPACE}}) / ${latencyBudget}` }],
          }),
          statPanel({
            title: 'Pods scraped',
            description: 'API pods Prometheus scrapes successfully (of those it tries).',
            unit: 'short',
            queries: [{ expr: `sum(up{job="${API_JOB}", ${SEL}})` }],
          }),
        ],
      },
      {
        title: 'Traffic',
        panels: [
          timeseriesPanel({
            title: 'Requests by status',
            description: 'Requests per second by HTTP status.',
            unit: 'reqps',
            stack: true,
            queries: [{ expr: `sum by (status) (${rate(reqs())})`, legend: '{{status}}' }],
          }),
          timeseriesPanel({
            title: 'Busiest routes',
            description: 'The ten route templates with the most requests per second.',
            unit: 'reqps',
            queries: [{ expr: `topk(10, sum by (method, route) (${rate(reqs())}))`, legend: '{{method}} {{route}}' }],
          }),
        ],
      },
      {
        title: 'Errors',
        panels: [
          timeseriesPanel({
            title: '5xx by route',
            description: 'Server errors per second by route template and status (503: a dependency is unavailable).',
            unit: 'reqps',
            queries: [
              { expr: `sum by (method, route, status) (${rate(reqs(', status=~"5.."'))})`, legend: '{{status}} {{method}} {{route}}' },
            ],
          }),
          timeseriesPanel({
            title: '4xx by route',
            description: 'Client errors per second by route template and status (404 includes paths no route matches).',
            unit: 'reqps',
            queries: [
              { expr: `sum by (method, route, status) (${rate(reqs(', status=~"4.."'))})`, legend: '{{status}} {{method}} {{route}}' },
            ],
          }),
          timeseriesPanel({
            title: 'Availability error ratio against the SLO',
            description: 'Share of 5xx (probes excluded) over 5 minutes and 1 hour; the red line is the 99.9% SLO’s budget.',
            unit: 'percentunit',
            threshold: availabilityBudget,
            w: 24,
            queries: [
              { expr: `max by (namespace) (${SLOS.availability.record('5m')}{${NAMESPACE}})`, legend: '5m {{namespace}}' },
              { expr: `max by (namespace) (${SLOS.availability.record('1h')}{${NAMESPACE}})`, legend: '1h {{namespace}}' },
            ],
          }),
        ],
      },
      {
        title: 'Latency',
        panels: [
          timeseriesPanel({
            title: 'Latency percentiles',
            description: 'p50, p90 and p99 of request duration over all routes.',
            unit: 's',
            threshold: 0.3,
            queries: [
              { expr: quantile(0.5), legend: 'p50' },
              { expr: quantile(0.9), legend: 'p90' },
              { expr: quantile(0.99), legend: 'p99' },
            ],
          }),
          timeseriesPanel({
            title: 'p99 latency by route',
            description: '99th percentile of request duration by route template.',
            unit: 's',
            queries: [{ expr: quantile(0.99, ', method, route'), legend: '{{method}} {{route}}' }],
          }),
          timeseriesPanel({
            title: 'Requests within 300 ms',
            description: 'Share of requests answered within 300 ms (the latency SLO wants 99%).',
            unit: 'percentunit',
            threshold: SLOS.latency.objective,
            w: 24,
            queries: [
              {
                expr: `sum(${rate(`mate_http_request_duration_seconds_bucket{${SEL}, le="0.3"}`)}) / sum(${rate(`mate_http_request_duration_seconds_count{${SEL}}`)})`,
                legend: 'within 300 ms',
              },
            ],
          }),
        ],
      },
      {
        title: 'Saturation',
        panels: [
          timeseriesPanel({
            title: 'CPU',
            description: 'CPU seconds used per second, by instance (1 = one core).',
            unit: 'short',
            w: 8,
            queries: [{ expr: `sum by (instance) (${rate(`process_cpu_seconds_total{${SEL}}`)})`, legend: '{{instance}}' }],
          }),
          timeseriesPanel({
            title: 'Memory',
            description: 'Resident memory and V8 heap in use, by instance.',
            unit: 'bytes',
            w: 8,
            queries: [
              { expr: `sum by (instance) (process_resident_memory_bytes{${SEL}})`, legend: 'rss {{instance}}' },
              { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${SEL}})`, legend: 'heap {{instance}}' },
            ],
          }),
          timeseriesPanel({
            title: 'Event loop lag p99',
            description: 'The event loop’s 99th percentile delay: high values mean the process is CPU-bound or blocked.',
            unit: 's',
            w: 8,
            queries: [{ expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${SEL}})`, legend: '{{instance}}' }],
          }),
          timeseriesPanel({
            title: 'Database pool',
            description:
              'Pooled database connections in use and free, and queries waiting for one (pending > 0 for long: the pool is too small).',
            unit: 'short',
            queries: [{ expr: `sum by (state) (mate_db_pool_connections{${SEL}})`, legend: '{{state}}' }],
          }),
          timeseriesPanel({
            title: 'Open file descriptors',
            description: 'Share of the file-descriptor limit in use, by instance.',
            unit: 'percentunit',
            queries: [{ expr: `max by (instance) (process_open_fds{${SEL}} / process_max_fds{${SEL}})`, legend: '{{instance}}' }],
          }),
        ],
      },
    ],
  });
}
