/**
 * The labels the dashboards and alerts select on. The job and container names
 * come from the contract the operator's ServiceMonitor renders
 * (service/src/platform/observability/contract.ts); the Prometheus Operator
 * adds `namespace`, `pod`, `instance`, `service` and `container`.
 */
export { API_CONTAINER, API_JOB } from '../../service/src/platform/observability/contract.js';

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
