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
