import { buildDashboard, tablePanel, timeseriesPanel } from './lib.js';
import { API_CONTAINER, API_JOB, NAMESPACE, SEL } from './selectors.js';

/**
 * A rollout as it happens: which versions run, whether pods are ready, whether
 * they restart. The `kube_*` series come from kube-state-metrics in the
 * cluster (see tests/observability/allow-list.ts).
 */
export function rollout() {
  return buildDashboard({
    uid: 'mate-rollout',
    title: 'MATE / Rollout',
    description: 'Versions running (mate_build_info), readiness and restarts of the API pods during a rollout.',
    tags: ['rollout'],
    time: { from: 'now-3h', to: 'now' },
    rows: [
      {
        title: 'Versions',
        panels: [
          timeseriesPanel({
            title: 'Pods by version',
            description: 'API pods reporting each version and commit: two lines while a rollout is under way.',
            stack: true,
            queries: [{ expr: `count by (version, commit) (mate_build_info{${SEL}})`, legend: '{{version}} ({{commit}})' }],
          }),
          tablePanel({
            title: 'Running now',
            description: 'Each API pod with its version and commit.',
            queries: [{ expr: `max by (namespace, pod, version, commit) (mate_build_info{${SEL}})` }],
          }),
          timeseriesPanel({
            title: 'Process uptime',
            description: 'Seconds since each API process started: a drop is a new pod or a restarted container.',
            unit: 's',
            queries: [{ expr: `time() - max by (pod) (process_start_time_seconds{${SEL}})`, legend: '{{pod}}' }],
          }),
          timeseriesPanel({
            title: 'Pods scraped',
            description: 'API targets Prometheus finds (count) and scrapes successfully (up).',
            queries: [
              { expr: `sum(up{job="${API_JOB}", ${SEL}})`, legend: 'up' },
              { expr: `count(up{job="${API_JOB}", ${SEL}})`, legend: 'targets' },
            ],
          }),
        ],
      },
      {
        title: 'Kubernetes (kube-state-metrics)',
        panels: [
          timeseriesPanel({
            title: 'Deployment replicas',
            description: 'Desired, updated and ready replicas of the deployments in the namespace.',
            queries: [
              { expr: `sum by (deployment) (kube_deployment_spec_replicas{${NAMESPACE}})`, legend: 'desired {{deployment}}' },
              { expr: `sum by (deployment) (kube_deployment_status_replicas_updated{${NAMESPACE}})`, legend: 'updated {{deployment}}' },
              { expr: `sum by (deployment) (kube_deployment_status_replicas_ready{${NAMESPACE}})`, legend: 'ready {{deployment}}' },
            ],
          }),
          timeseriesPanel({
            title: 'Pods not ready',
            description: 'Pods of the namespace whose Ready condition is false.',
            queries: [{ expr: `sum by (pod) (kube_pod_status_ready{${NAMESPACE}, condition="false"})`, legend: '{{pod}}' }],
          }),
          timeseriesPanel({
            title: 'API container restarts',
            description: 'Restarts of the API container in the last hour, by pod.',
            queries: [
              {
                expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{${NAMESPACE}, container="${API_CONTAINER}"}[1h]))`,
                legend: '{{pod}}',
              },
            ],
          }),
          timeseriesPanel({
            title: 'Waiting containers',
            description: 'API containers waiting, by reason (CrashLoopBackOff, ImagePullBackOff, …).',
            queries: [
              {
                expr: `sum by (pod, reason) (kube_pod_container_status_waiting_reason{${NAMESPACE}, container="${API_CONTAINER}"})`,
                legend: '{{reason}} {{pod}}',
              },
            ],
          }),
        ],
      },
    ],
  });
}
