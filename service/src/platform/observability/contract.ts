/**
 * The API's scrape target as Prometheus sees it, in one place: the operator
 * renders the ServiceMonitor that gives the target these labels (render.ts),
 * and the dashboards and alerts select on them (dashboards/src/selectors.ts).
 * A test renders the ServiceMonitor and checks the label set against every
 * rule and panel (operator/render.test.ts).
 */

/** `job` of the API's targets. The Prometheus Operator would name it after the Service; the ServiceMonitor sets it. */
export const API_JOB = 'mate-api';

/** The API container's name in the pod (kube-state-metrics' and cAdvisor's `container`). */
export const API_CONTAINER = 'api';

/** The named container and Service port Prometheus scrapes, and the path. */
export const API_PORT_NAME = 'http';
export const METRICS_PATH = '/metrics';

/**
 * The labels of one API target as the Prometheus Operator sets them from the
 * ServiceMonitor's endpoint: the job above, the Service and pod it found, the
 * container and port it scrapes. The rule tests and the test sessions give
 * their series exactly these, so a rule that keeps a label it should have
 * aggregated away shows it there.
 */
export function apiTargetLabels(target: { namespace: string; service: string; pod: string; address: string }) {
  return {
    job: API_JOB,
    namespace: target.namespace,
    service: target.service,
    pod: target.pod,
    container: API_CONTAINER,
    endpoint: API_PORT_NAME,
    instance: target.address,
  };
}

type MetricKind = 'counter' | 'gauge' | 'histogram';
export interface MetricSpec<K extends MetricKind = MetricKind, L extends string = string> {
  name: string;
  kind: K;
  help: string;
  labels: readonly L[];
}
const metric = <const K extends MetricKind, const L extends string>(name: string, kind: K, help: string, labels: readonly L[]) =>
  ({ name, kind, help, labels }) satisfies MetricSpec<K, L>;

/**
 * The API's metrics: names, kinds and label names, registered from here
 * (metrics.ts, deps.ts, the carpools feature) and selected by the dashboards
 * and rules, whose tests build their series from these entries.
 * docs/observability.md explains each.
 */
export const API_METRICS = {
  buildInfo: metric('mate_build_info', 'gauge', 'Version and commit of the running build (always 1).', ['version', 'commit']),
  httpRequests: metric('mate_http_requests_total', 'counter', 'HTTP requests answered, by method, route template and status.', [
    'method',
    'route',
    'status',
  ]),
  httpDuration: metric(
    'mate_http_request_duration_seconds',
    'histogram',
    'HTTP request duration in seconds, by method, route template and status.',
    ['method', 'route', 'status'],
  ),
  signups: metric('mate_signups_total', 'counter', 'Members created, by provider (mate, kakao, line).', ['provider']),
  signins: metric('mate_signins_total', 'counter', 'Sign-in attempts by outcome (success, wrong_credentials, banned, rate_limited).', [
    'outcome',
  ]),
  carpoolsPosted: metric('mate_carpools_posted_total', 'counter', 'Carpools posted.', []),
  carpoolsDeleted: metric('mate_carpools_deleted_total', 'counter', 'Carpools deleted by their drivers.', []),
  reservations: metric(
    'mate_reservations_total',
    'counter',
    'Reservation attempts by outcome (reserved, full, already_in_carpool, own_carpool, not_found).',
    ['outcome'],
  ),
  cancellations: metric('mate_reservation_cancellations_total', 'counter', 'Reservations cancelled by their passengers.', []),
  reports: metric('mate_reports_total', 'counter', 'Reports filed by passengers.', []),
  seatsOffered: metric('mate_seats_offered', 'gauge', "Seats offered across today's carpools.", []),
  seatsTaken: metric('mate_seats_taken', 'gauge', "Seats taken across today's carpools.", []),
  dbQueryDuration: metric('mate_db_query_duration_seconds', 'histogram', 'Database query duration in seconds.', []),
  dbPoolConnections: metric('mate_db_pool_connections', 'gauge', 'Database pool connections by state (used, free, pending acquires).', [
    'state',
  ]),
  redisDuration: metric(
    'mate_redis_operation_duration_seconds',
    'histogram',
    'Key-value store (Redis) operation duration in seconds, by operation.',
    ['operation'],
  ),
  redisErrors: metric('mate_redis_errors_total', 'counter', 'Failed key-value store (Redis) operations, by operation.', ['operation']),
  s3Requests: metric('mate_s3_requests_total', 'counter', 'Object storage requests by operation and outcome (ok, error).', [
    'operation',
    'outcome',
  ]),
  mailSends: metric('mate_mail_sends_total', 'counter', 'Mails by final outcome (sent, failed).', ['outcome']),
  dependencyUp: metric('mate_dependency_up', 'gauge', 'Whether a dependency answered its health check at scrape time (1) or not (0).', [
    'dependency',
  ]),
} satisfies Record<string, MetricSpec>;

export type ApiMetric = (typeof API_METRICS)[keyof typeof API_METRICS];

/** prom-client's options for a metric of the contract. */
export function metricOptions<L extends string>(m: MetricSpec<MetricKind, L>): { name: string; help: string; labelNames: readonly L[] } {
  return { name: m.name, help: m.help, labelNames: m.labels };
}

/**
 * The dataset of the API's log events: the Filebeat sidecar sets it
 * (render.ts), and the index template, the Logstash pipeline and the Kibana
 * objects in dashboards/logging read the `logs-<dataset>-*` data streams.
 */
export const LOG_DATASET = 'mate.api';

/**
 * The ECS fields of an API access line that searches and the saved views rely
 * on, with the type the index template maps each to (logs.test.ts checks the
 * template and the lines against these).
 */
export const ACCESS_LOG_FIELDS = {
  '@timestamp': 'date',
  'log.level': 'keyword',
  message: 'match_only_text',
  'http.request.id': 'keyword',
  'http.request.method': 'keyword',
  'http.route': 'keyword',
  'http.response.status_code': 'long',
  'event.duration': 'long',
  'url.path': 'wildcard',
  'client.ip': 'ip',
} as const;
