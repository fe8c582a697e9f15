import { createRequire } from 'node:module';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Through the workspace's own name, which resolves from the sources, the compiled files and the bundle alike.
const { version: packageVersion } = createRequire(import.meta.url)('@mate/service/package.json') as { version: string };

/**
 * The service's metrics catalogue (docs/observability.md explains each).
 * One registry per app instance, so several apps can live in one test process.
 */
export function createMetrics(opts: { version?: string; commit?: string } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named *_total break the Prometheus naming rules (promtool check metrics).
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  const registers = [registry];
  const http = ['method', 'route', 'status'] as const;

  const buildInfo = new Gauge({
    name: 'mate_build_info',
    help: 'Version and commit of the running build (always 1).',
    labelNames: ['version', 'commit'],
    registers,
  });
  buildInfo.set({ version: opts.version ?? packageVersion, commit: opts.commit ?? 'unknown' }, 1);

  return {
    registry,
    httpRequests: new Counter({
      name: 'mate_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: http,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'mate_http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status.',
      labelNames: http,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 1, 2.5, 5],
      registers,
    }),
    signups: new Counter({
      name: 'mate_signups_total',
      help: 'Members created, by provider (mate, kakao, line).',
      labelNames: ['provider'],
      registers,
    }),
    signins: new Counter({
      name: 'mate_signins_total',
      help: 'Sign-in attempts by outcome (success, wrong_credentials, banned, rate_limited).',
      labelNames: ['outcome'],
      registers,
    }),
    carpoolsPosted: new Counter({ name: 'mate_carpools_posted_total', help: 'Carpools posted.', registers }),
    carpoolsDeleted: new Counter({ name: 'mate_carpools_deleted_total', help: 'Carpools deleted by their drivers.', registers }),
    reservations: new Counter({
      name: 'mate_reservations_total',
      help: 'Reservation attempts by outcome (reserved, full, already_in_carpool, own_carpool, not_found).',
      labelNames: ['outcome'],
      registers,
    }),
    cancellations: new Counter({
      name: 'mate_reservation_cancellations_total',
      help: 'Reservations cancelled by their passengers.',
      registers,
    }),
    reports: new Counter({ name: 'mate_reports_total', help: 'Reports filed by passengers.', registers }),
    dbQueryDuration: new Histogram({
      name: 'mate_db_query_duration_seconds',
      help: 'Database query duration in seconds.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    redisDuration: new Histogram({
      name: 'mate_redis_operation_duration_seconds',
      help: 'Key-value store (Redis) operation duration in seconds, by operation.',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    redisErrors: new Counter({
      name: 'mate_redis_errors_total',
      help: 'Failed key-value store (Redis) operations, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    s3Requests: new Counter({
      name: 'mate_s3_requests_total',
      help: 'Object storage requests by operation and outcome (ok, error).',
      labelNames: ['operation', 'outcome'],
      registers,
    }),
    mailSends: new Counter({
      name: 'mate_mail_sends_total',
      help: 'Mails by final outcome (sent, failed).',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
