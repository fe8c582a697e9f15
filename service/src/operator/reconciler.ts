/**
 * One reconcile of one MateApp: read it, observe what it owns (observe.ts),
 * plan what to write (plan.ts, pure), write it (apply.ts). Idempotent:
 * running it twice in a row changes nothing the second time (server-side
 * apply of the same objects is a no-op, Jobs and Events have names derived
 * from their content). Here too: the finalizer, and the status when a
 * reconcile fails.
 */
import type { Clock } from '../platform/clock/index.js';
import type { Logger } from '../platform/observability/logger.js';
import { applyPlan } from './apply.js';
import type { EventRecorder } from './events.js';
import type { Kube } from './kube.js';
import { KubeError, isForbidden, isNotFound } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { LABEL_OWNER_NAME, LABEL_OWNER_NAMESPACE } from './names.js';
import type { ObserveDeps } from './observe.js';
import { observe } from './observe.js';
import { errorStatus, plan } from './plan.js';
import { dashboardsNamespace } from './render.js';
import type { KubeObject, MateApp } from './types.js';
import { API_VERSION, FINALIZER, KIND } from './types.js';

export interface ReconcilerDeps extends ObserveDeps {
  kube: Kube;
  log: Logger;
  clock: Clock;
  events: EventRecorder;
  metrics: OperatorMetrics;
  /** How often a MateApp is reconciled with no event (catches what is not watched, e.g. Secrets). */
  resyncMs: number;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** True while the MateApp has objects in another namespace: its dashboards' ConfigMaps. */
export function needsFinalizer(app: MateApp): boolean {
  const ns = app.metadata.namespace;
  const left = !!app.status?.monitoring?.namespace && app.status.monitoring.namespace !== ns;
  return foreignDashboards(app) || left;
}

const foreignDashboards = (app: MateApp) => app.spec.monitoring.dashboards.enabled && dashboardsNamespace(app) !== app.metadata.namespace;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const app = await kube.get<MateApp>(API_VERSION, KIND, namespace, name);
    if (!app) return {}; // gone: owner references take what it owned with it
    if (app.metadata.deletionTimestamp) {
      await this.finalize(app);
      return {};
    }
    // The finalizer only while the MateApp owns something outside its
    // namespace (owner references cannot reach it). Without such objects it
    // would only get in the way: `helm uninstall` removes the operator before
    // the MateApp, and nobody would be left to remove it.
    const foreign = needsFinalizer(app);
    if (foreign && !app.metadata.finalizers?.includes(FINALIZER)) {
      const patched = await kube.patchMerge<MateApp>(API_VERSION, KIND, namespace, name, {
        metadata: { finalizers: [...(app.metadata.finalizers ?? []), FINALIZER], resourceVersion: app.metadata.resourceVersion },
      });
      app.metadata.finalizers = patched.metadata.finalizers;
      app.metadata.resourceVersion = patched.metadata.resourceVersion;
    }
    let requeueAfterMs: number;
    try {
      const p = plan(await observe(this.deps, app), { now: this.deps.clock(), wallClock: new Date(), resyncMs: this.deps.resyncMs });
      await applyPlan(this.deps, app, p);
      requeueAfterMs = p.requeueAfterMs;
    } catch (err) {
      try {
        await kube.applyStatus(app, errorStatus(app, err, new Date()));
      } catch (statusErr) {
        this.deps.log.warn({ err: statusErr }, 'could not write the error to the status');
      }
      throw err;
    }
    // Moved back into the namespace: the plan has just pruned the old one.
    if (!foreignDashboards(app) && app.metadata.finalizers?.includes(FINALIZER)) await this.removeFinalizer(app);
    return { requeueAfterMs };
  }

  private async removeFinalizer(app: MateApp): Promise<void> {
    const current = await this.deps.kube.get<MateApp>(API_VERSION, KIND, app.metadata.namespace, app.metadata.name);
    if (!current?.metadata.finalizers?.includes(FINALIZER)) return;
    await this.deps.kube.patchMerge(API_VERSION, KIND, app.metadata.namespace, app.metadata.name, {
      metadata: {
        finalizers: current.metadata.finalizers.filter((f) => f !== FINALIZER),
        resourceVersion: current.metadata.resourceVersion,
      },
    });
  }

  /** Deletes the MateApp's dashboards' ConfigMaps in another namespace. */
  private async deleteForeign(app: MateApp, namespace: string): Promise<void> {
    const selector = `${LABEL_OWNER_NAMESPACE}=${app.metadata.namespace},${LABEL_OWNER_NAME}=${app.metadata.name}`;
    let list;
    try {
      list = await this.deps.kube.list<KubeObject>('v1', 'ConfigMap', namespace, selector);
    } catch (err) {
      if (isNotFound(err) || isForbidden(err)) return;
      throw err;
    }
    for (const o of list.items) await this.deps.kube.delete('v1', 'ConfigMap', namespace, o.metadata.name);
  }

  /**
   * The MateApp is being deleted. Owner references make the garbage collector
   * delete what lives in its namespace; the finalizer is for the rest: the
   * dashboards' ConfigMaps in another namespace (Grafana's), which no owner
   * reference can reach; and it records the deletion as an Event.
   */
  private async finalize(app: MateApp): Promise<void> {
    if (!app.metadata.finalizers?.includes(FINALIZER)) return;
    await this.deps.events.record(app, 'Normal', 'Deleting', 'MateApp deleted: removing what it owns', 'delete');
    const namespaces = new Set(
      [app.status?.monitoring?.namespace, app.spec.monitoring?.dashboards?.namespace].filter((x): x is string => !!x),
    );
    for (const ns of namespaces) if (ns !== app.metadata.namespace) await this.deleteForeign(app, ns);
    try {
      await this.removeFinalizer(app);
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return;
      throw err;
    }
    this.deps.log.info(
      { event: { action: 'finalized' }, mateapp: app.metadata.name, namespace: app.metadata.namespace },
      'finalizer removed',
    );
  }
}
