import { createRequire } from 'node:module';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { API_METRICS, metricOptions, type MetricSpec } from './contract.js';

// Through the workspace's own name, which resolves from the sources, the compiled files and the bundle alike.
const { version: packageVersion } = createRequire(import.meta.url)('@mate/service/package.json') as { version: string };

/**
 * The service's metrics, as the contract names them (contract.ts; docs/observability.md explains each).
 * One registry per app instance, so several apps can live in one test process.
 */
export function createMetrics(opts: { version?: string; commit?: string } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break the Prometheus naming rules (promtool check metrics).
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  const registers = [registry];
  const m = API_METRICS;
  const counter = <L extends string>(spec: MetricSpec<'counter', L>) => new Counter({ ...metricOptions(spec), registers });
  const histogram = <L extends string>(spec: MetricSpec<'histogram', L>, buckets: number[]) =>
    new Histogram({ ...metricOptions(spec), buckets, registers });

  const buildInfo = new Gauge({ ...metricOptions(m.buildInfo), registers });
  buildInfo.set({ version: opts.version ?? packageVersion, commit: opts.commit ?? 'unknown' }, 1);

  return {
    registry,
    httpRequests: counter(m.httpRequests),
    // 0.3 is the latency SLO's threshold (dashboards/src/alerts.ts).
    httpDuration: histogram(m.httpDuration, [0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 1, 2.5, 5]),
    signups: counter(m.signups),
    signins: counter(m.signins),
    carpoolsPosted: counter(m.carpoolsPosted),
    carpoolsDeleted: counter(m.carpoolsDeleted),
    reservations: counter(m.reservations),
    cancellations: counter(m.cancellations),
    reports: counter(m.reports),
    dbQueryDuration: histogram(m.dbQueryDuration, [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
    redisDuration: histogram(m.redisDuration, [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]),
    redisErrors: counter(m.redisErrors),
    s3Requests: counter(m.s3Requests),
    mailSends: counter(m.mailSends),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
