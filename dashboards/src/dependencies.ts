import { UP_DOWN, buildDashboard, statPanel, timeseriesPanel } from './lib.js';
import { SEL } from './selectors.js';

const rate = (sel: string) => `rate(${sel}[$__rate_interval])`;
const quantile = (q: number, metric: string, by = '') => `histogram_quantile(${q}, sum by (le${by}) (${rate(`${metric}_bucket{${SEL}}`)}))`;

/** MariaDB, Redis, object storage and mail, as the API sees them. */
export function dependencies() {
  return buildDashboard({
    uid: 'mate-dependencies',
    title: 'MATE / Dependencies',
    description: 'The database, Redis, object storage (S3) and mail as the API sees them: health, latency, errors and the connection pool.',
    tags: ['dependencies'],
    rows: [
      {
        title: 'Health',
        panels: [
          statPanel({
            title: 'Database',
            description: 'Whether every selected pod’s database health check passes (the lowest of them).',
            mappings: UP_DOWN,
            higherIsBetter: true,
            steps: [0.5, 1],
            w: 6,
            queries: [{ expr: `min(mate_dependency_up{${SEL}, dependency="database"})` }],
          }),
          statPanel({
            title: 'Redis',
            description: 'Whether every selected pod’s Redis health check passes (the lowest of them).',
            mappings: UP_DOWN,
            higherIsBetter: true,
            steps: [0.5, 1],
            w: 6,
            queries: [{ expr: `min(mate_dependency_up{${SEL}, dependency="redis"})` }],
          }),
          timeseriesPanel({
            title: 'Dependency health by pod',
            description: '1 while the dependency answers the pod’s health check, 0 while it does not (the pod is then not ready).',
            min: 0,
            max: 1,
            queries: [{ expr: `min by (dependency, instance) (mate_dependency_up{${SEL}})`, legend: '{{dependency}} {{instance}}' }],
          }),
        ],
      },
      {
        title: 'Database',
        panels: [
          timeseriesPanel({
            title: 'Queries',
            description: 'Database queries per second.',
            unit: 'ops',
            w: 8,
            queries: [{ expr: `sum(${rate(`mate_db_query_duration_seconds_count{${SEL}}`)})`, legend: 'queries' }],
          }),
          timeseriesPanel({
            title: 'Query latency',
            description: 'p50 and p99 of database query duration.',
            unit: 's',
            w: 8,
            queries: [
              { expr: quantile(0.5, 'mate_db_query_duration_seconds'), legend: 'p50' },
              { expr: quantile(0.99, 'mate_db_query_duration_seconds'), legend: 'p99' },
            ],
          }),
          timeseriesPanel({
            title: 'Connection pool',
            description: 'Connections in use, free, and queries waiting for one, by instance.',
            w: 8,
            queries: [{ expr: `sum by (instance, state) (mate_db_pool_connections{${SEL}})`, legend: '{{state}} {{instance}}' }],
          }),
        ],
      },
      {
        title: 'Redis',
        panels: [
          timeseriesPanel({
            title: 'Operations',
            description: 'Redis operations per second by operation.',
            unit: 'ops',
            w: 8,
            queries: [
              {
                expr: `sum by (operation) (${rate(`mate_redis_operation_duration_seconds_count{${SEL}}`)})`,
                legend: '{{operation}}',
              },
            ],
          }),
          timeseriesPanel({
            title: 'Operation latency p99',
            description: '99th percentile of Redis operation duration by operation.',
            unit: 's',
            w: 8,
            queries: [{ expr: quantile(0.99, 'mate_redis_operation_duration_seconds', ', operation'), legend: '{{operation}}' }],
          }),
          timeseriesPanel({
            title: 'Errors',
            description: 'Failed Redis operations per second by operation (timeouts, refused or lost connections).',
            unit: 'ops',
            w: 8,
            queries: [{ expr: `sum by (operation) (${rate(`mate_redis_errors_total{${SEL}}`)})`, legend: '{{operation}}' }],
          }),
        ],
      },
      {
        title: 'Object storage and mail',
        panels: [
          timeseriesPanel({
            title: 'Object storage requests',
            description: 'Requests to the images bucket per second, by operation and outcome.',
            unit: 'reqps',
            queries: [
              {
                expr: `sum by (operation, outcome) (${rate(`mate_s3_requests_total{${SEL}}`)})`,
                legend: '{{operation}} {{outcome}}',
              },
            ],
          }),
          timeseriesPanel({
            title: 'Mails per hour',
            description: 'Mails (recovery, notices) in each hour by final outcome: sent, or failed after retries.',
            bars: true,
            stack: true,
            interval: '1h',
            queries: [{ expr: `sum by (outcome) (increase(mate_mail_sends_total{${SEL}}[1h]))`, legend: '{{outcome}}' }],
          }),
        ],
      },
    ],
  });
}
