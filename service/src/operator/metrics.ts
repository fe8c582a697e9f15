/**
 * The operator's own metrics (prom-client) and its HTTP endpoints:
 * GET /metrics, GET /healthz (no reconcile is stuck: health.ts),
 * GET /readyz (the leader has synced its informers; a follower reaches the Lease).
 * Besides the reconciles, the work queue's and the API client's metrics, as
 * controller-runtime exports them (workqueue_*, rest_client_*), under mate_operator_.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `longestRunningSeconds`: read at each scrape (the work loop's heartbeat). */
export function createOperatorMetrics(longestRunningSeconds: () => number = () => 0) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconciles: new Counter({
      name: 'mate_operator_reconcile_total',
      help: 'MateApp reconciles, by result (success, error).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'mate_operator_reconcile_duration_seconds',
      help: 'Duration of one MateApp reconcile in seconds.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'mate_operator_leader',
      help: '1 while this operator process holds the leader Lease, else 0.',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'mate_operator_workqueue_depth',
      help: 'MateApps waiting in the work queue.',
      registers: [registry],
    }),
    queueAdds: new Counter({
      name: 'mate_operator_workqueue_adds_total',
      help: 'Keys added to the work queue (informer events, requeues, retries).',
      registers: [registry],
    }),
    queueRetries: new Counter({
      name: 'mate_operator_workqueue_retries_total',
      help: 'Keys put back in the work queue with backoff after a failed reconcile.',
      registers: [registry],
    }),
    longestRunning: new Gauge({
      name: 'mate_operator_workqueue_longest_running_processor_seconds',
      help: 'How long the oldest reconcile in progress has been running (the liveness probe fails when it is stuck).',
      registers: [registry],
      collect() {
        this.set(longestRunningSeconds());
      },
    }),
    apiRequests: new Counter({
      name: 'mate_operator_rest_client_requests_total',
      help: 'Requests to the Kubernetes API server, by verb (GET, LIST, PATCH, …) and HTTP status code.',
      labelNames: ['verb', 'code'] as const,
      registers: [registry],
    }),
    apiLatency: new Histogram({
      name: 'mate_operator_rest_client_request_duration_seconds',
      help: 'Duration of requests to the Kubernetes API server in seconds, by verb.',
      labelNames: ['verb'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'mate_operator_rollbacks_total',
      help: 'Automatic rollbacks to the last good version after a stalled rollout.',
      registers: [registry],
    }),
    migrationFailures: new Counter({
      name: 'mate_operator_migration_failures_total',
      help: 'Migration Jobs that failed (the running version was kept).',
      registers: [registry],
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;

export interface Health {
  alive(): boolean;
  ready(): boolean;
}

export async function serveMetrics(metrics: OperatorMetrics, health: Health, port: number, host = '0.0.0.0'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(200, text, metrics.registry.contentType),
        (err: Error) => send(500, `${err.message}\n`),
      );
      return;
    }
    if (path === '/healthz') return health.alive() ? send(200, 'ok\n') : send(503, 'stuck\n');
    if (path === '/readyz') return health.ready() ? send(200, 'ok\n') : send(503, 'not ready\n');
    send(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
