/**
 * What the observability tests accept as missing locally, each with the reason.
 * Keep it short: anything here is not proven against a real Prometheus.
 */

/**
 * Series that other exporters provide in the cluster; the local Prometheus of
 * prometheus.test.ts scrapes only the API. kube-state-metrics.test.ts has them
 * from a real kube-state-metrics on the real node.
 */
export const EXTERNAL_SERIES: Record<string, string> = {
  kube_deployment_spec_replicas: 'kube-state-metrics, in the cluster only',
  kube_deployment_status_replicas_updated: 'kube-state-metrics, in the cluster only',
  kube_deployment_status_replicas_ready: 'kube-state-metrics, in the cluster only',
  kube_pod_status_ready: 'kube-state-metrics, in the cluster only',
  kube_pod_container_status_restarts_total: 'kube-state-metrics, in the cluster only',
  kube_pod_container_status_waiting_reason: 'kube-state-metrics, in the cluster only',
};

/**
 * Panels ("<dashboard uid> / <panel title>") that cannot show data against a
 * bare local Prometheus; kube-state-metrics.test.ts shows them with data.
 */
export const NO_LOCAL_DATA: Record<string, string> = {
  'mate-rollout / Deployment replicas': 'kube_deployment_* come from kube-state-metrics in the cluster',
  'mate-rollout / Pods not ready': 'kube_pod_status_ready comes from kube-state-metrics in the cluster',
  'mate-rollout / API container restarts': 'kube_pod_container_status_restarts_total comes from kube-state-metrics in the cluster',
  'mate-rollout / Waiting containers':
    'kube_pod_container_status_waiting_reason comes from kube-state-metrics in the cluster, and only while a container waits',
};
