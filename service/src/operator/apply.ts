/**
 * Apply: carries out a plan (plan.ts). The version's Deployment and migration
 * Job are first sent as a server-side dry run, so that what the API server
 * refuses in them (validation, admission) stops the reconcile before anything
 * changed, and the reconciler reports it in the conditions (SpecRejected). Then every object by server-side apply, the
 * replica floor, the Events, the prunes, and the status last.
 */
import type { Logger } from '../platform/observability/logger.js';
import type { EventRecorder } from './events.js';
import type { Kube } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { names } from './names.js';
import type { Plan } from './plan.js';
import type { MateApp } from './types.js';

export interface ApplyDeps {
  kube: Kube;
  log: Logger;
  events: EventRecorder;
  metrics: OperatorMetrics;
}

export async function applyPlan(deps: ApplyDeps, app: MateApp, plan: Plan): Promise<void> {
  const { kube, log } = deps;
  const ns = app.metadata.namespace;
  for (const obj of plan.dryRun) await kube.apply(obj, { dryRun: true });
  for (const obj of plan.apply) await kube.apply(obj);
  if (plan.scaleTo !== undefined) {
    await kube.patchMerge('apps/v1', 'Deployment', ns, names(app).deployment, { spec: { replicas: plan.scaleTo } }, 'scale');
  }
  for (const e of plan.events) await deps.events.record(app, e.type, e.reason, e.message, e.key);
  for (const c of plan.count) deps.metrics[c].inc();
  for (const d of plan.delete) {
    log.info({ event: { action: 'prune' }, kind: d.kind, name: d.name, namespace: d.namespace }, `deleting ${d.why}`);
    await kube.delete(d.apiVersion, d.kind, d.namespace, d.name);
  }
  await kube.applyStatus(app, plan.status);
}
