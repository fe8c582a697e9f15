/**
 * The operator's settings, from the environment (the chart sets them),
 * validated at start like the API's: a bad value stops the process with one
 * line naming it.
 */
import { z } from 'zod';
import { bool, csv, int } from '../platform/config/index.js';

const schema = z.object({
  /** Namespaces to watch, comma-separated; empty: all (needs the chart's cluster-wide RBAC). */
  WATCH_NAMESPACES: csv.default([]),
  /** Label selector of the MateApps to reconcile (the chart: its release's); empty: every MateApp watched. */
  MATEAPP_SELECTOR: z.string().default(''),
  /** The operator's Deployment (the chart sets it): owner of the Lease. */
  OPERATOR_DEPLOYMENT: z.string().optional(),
  /** Where the Lease lives (the operator's own namespace; the chart sets it from the downward API). */
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  LEADER_ELECTION: bool.default(true),
  LEADER_ELECTION_ID: z.string().default('mate-operator'),
  LEASE_DURATION_SECONDS: int(2, 600).default(15),
  RENEW_DEADLINE_SECONDS: int(1, 600).default(10),
  RETRY_PERIOD_SECONDS: int(1, 60).default(2),
  METRICS_PORT: int(0, 65535).default(8081),
  METRICS_HOST: z.string().default('0.0.0.0'),
  MONITORING_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  WORKERS: int(1, 32).default(2),
  RESYNC_SECONDS: int(10, 86_400).default(300),
});

export type OperatorConfig = z.infer<typeof schema>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid setting ${String(issue.path[0])}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.LEADER_ELECTION && !c.POD_NAMESPACE && c.WATCH_NAMESPACES.length !== 1) {
    throw new Error('missing setting POD_NAMESPACE: where the leader election Lease lives');
  }
  if (c.RENEW_DEADLINE_SECONDS >= c.LEASE_DURATION_SECONDS) {
    throw new Error('invalid setting RENEW_DEADLINE_SECONDS: must be shorter than LEASE_DURATION_SECONDS');
  }
  return c;
}
