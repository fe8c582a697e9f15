/**
 * The labels the dashboards and alerts select on, in one place.
 *
 * In production the Prometheus Operator's ServiceMonitor scrapes the API and
 * adds `namespace`, `pod`, `instance`, `job`, `service` and `container`; the
 * chart and the operator must keep the job and container names below (the
 * observability tests scrape a local API with the same labels).
 */

/** `job` of the API's scrape target (the ServiceMonitor's job label). */
export const API_JOB = 'mate-api';

/** Name of the API container in the pod (kube-state-metrics' `container`). */
export const API_CONTAINER = 'api';

/** Grafana template variables: `$namespace` (one or All) and `$instance` (several or All). */
export const NAMESPACE = 'namespace=~"$namespace"';
export const SEL = 'namespace=~"$namespace", instance=~"$instance"';

/** Routes that probes and Prometheus call: left out of the SLOs (they would dilute real traffic). */
export const PROBE_ROUTES = '/healthz|/readyz|/metrics';

/** Where the runbooks live; each alert links to its own section (the anchor is the alert's name, lower-cased). */
export const RUNBOOK_BASE_URL = 'https://github.com/mate/mate/blob/main/docs/observability.md';

export function runbook(alert: string): string {
  return `${RUNBOOK_BASE_URL}#${alert.toLowerCase()}`;
}
