// The MATE operator: `node dist/main/operator.js` (see service/src/operator).
// `node dist/main/operator.js wait-ready | delete-mateapp` are the chart's
// release hooks (service/src/operator/cli.ts).
import * as k8s from '@kubernetes/client-node';
import { createLogger } from '../platform/observability/logger.js';
import { defaultMonitoringDir, loadOperatorConfig, startOperator } from '../operator/index.js';
import { runCommand } from '../operator/cli.js';

const kubeConfig = new k8s.KubeConfig();
kubeConfig.loadFromDefault(); // in the cluster: its ServiceAccount; elsewhere: $KUBECONFIG

// Release hooks (wait-ready, delete-mateapp) run and exit; no argument runs the operator.
if (process.argv[2]) process.exit(await runCommand(process.argv[2], kubeConfig));

let config;
try {
  config = loadOperatorConfig();
} catch (err) {
  console.error(`mate-operator: ${(err as Error).message}`);
  process.exit(2);
}
const log = createLogger({ level: config.LOG_LEVEL, name: 'mate-operator' });

const leaseNamespace = config.POD_NAMESPACE ?? config.WATCH_NAMESPACES[0]!;
const operator = await startOperator({
  kubeConfig,
  log,
  namespaces: config.WATCH_NAMESPACES,
  mateAppSelector: config.MATEAPP_SELECTOR,
  identity: config.POD_NAME ? `${config.POD_NAME}_${process.pid}` : undefined,
  leaderElection: config.LEADER_ELECTION && {
    namespace: leaseNamespace,
    name: config.LEADER_ELECTION_ID,
    leaseDurationSeconds: config.LEASE_DURATION_SECONDS,
    renewDeadlineSeconds: config.RENEW_DEADLINE_SECONDS,
    retryPeriodSeconds: config.RETRY_PERIOD_SECONDS,
    ownerDeployment: config.OPERATOR_DEPLOYMENT,
  },
  metricsPort: config.METRICS_PORT,
  metricsHost: config.METRICS_HOST,
  monitoringDir: defaultMonitoringDir(),
  workers: config.WORKERS,
  resyncSeconds: config.RESYNC_SECONDS,
  // Lost the Lease: exit, and let the Deployment (or the test) start a fresh candidate.
  onLostLeadership: () => process.exit(1),
});
log.info({ url: { full: operator.metricsUrl } }, `MATE operator ready; metrics on ${operator.metricsUrl}`);

let signals = 0;
const stop = () => {
  if (++signals > 1) process.exit(1);
  operator.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
