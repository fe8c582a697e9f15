/**
 * One reconcile of one MateApp: read it, make the world match it, write
 * what happened to its status. Idempotent: running it twice in a row changes
 * nothing the second time (server-side apply of the same objects is a no-op,
 * Jobs and Events have names derived from their content).
 *
 * Versions: a new spec.image first gets its migration Job (named after a hash
 * of the image and the migration settings); the Deployment moves to the new
 * image only after that Job succeeded. A failed Job leaves the Deployment as
 * it is (Degraded=MigrationFailed). A rollout that misses its progress
 * deadline is rolled back to the last image that rolled out completely
 * (Degraded=RolledBack) and stays there until spec.image changes again.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Clock } from '../platform/clock/index.js';
import type { Logger } from '../platform/observability/logger.js';
import type { EventRecorder } from './events.js';
import type { Kube } from './kube.js';
import { KubeError, isForbidden, isNotFound } from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import type { MonitoringBundle } from './monitoring.js';
import {
  API_CONTAINER,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_MIGRATION_HASH,
  LABEL_OWNER_NAME,
  LABEL_OWNER_NAMESPACE,
  MANAGED_BY,
  apiSelector,
  migrationHash,
  names,
  selectorString,
  versionOf,
} from './names.js';
import {
  MONITORING_API,
  OWNED_KINDS,
  dashboardsNamespace,
  deployment as renderDeployment,
  migrationJob,
  renderSupporting,
  secretRefs,
} from './render.js';
import { isTimeZone } from '../platform/clock/index.js';
import { scalingAt } from './schedule.js';
import type { Condition, ConditionType, KubeObject, MateApp, MateAppStatus, MigrationPhase, RolloutPhase } from './types.js';
import { API_VERSION, FINALIZER, KIND } from './types.js';

export interface ReconcilerDeps {
  kube: Kube;
  log: Logger;
  clock: Clock;
  events: EventRecorder;
  metrics: OperatorMetrics;
  monitoringBundle: () => MonitoringBundle;
  /** Whether the Prometheus Operator's API (ServiceMonitor, PrometheusRule) is served. */
  monitoringApi: () => Promise<boolean>;
  /** How often a MateApp is reconciled with no event (catches what is not watched, e.g. Secrets). */
  resyncMs: number;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const JOBS_KEPT = 3;
// Secrets are not watched (that would need list/watch on every Secret): look again this often.
const INVALID_RETRY_MS = 10_000;
const WATCH_SAFETY_MS = 60_000;

const seconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export function apiImage(d: k8s.V1Deployment | undefined): string | undefined {
  return d?.spec?.template.spec?.containers.find((c) => c.name === API_CONTAINER)?.image;
}

function observed(d: k8s.V1Deployment): boolean {
  return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
}

/** `kubectl rollout status` says "successfully rolled out". */
export function rolledOut(d: k8s.V1Deployment | undefined): boolean {
  if (!d || !observed(d)) return false;
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  if (stalled(d)) return false;
  return (
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
  );
}

/** The Deployment controller gave up on the current rollout (progressDeadlineSeconds passed). */
export function stalled(d: k8s.V1Deployment | undefined): boolean {
  if (!d || !observed(d)) return false;
  const p = d.status?.conditions?.find((c) => c.type === 'Progressing');
  return p?.status === 'False' && p.reason === 'ProgressDeadlineExceeded';
}

function jobPhase(job: k8s.V1Job): { phase: MigrationPhase; message?: string } {
  const cond = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (cond('Complete') ?? cond('SuccessCriteriaMet')) return { phase: 'Succeeded' };
  const failed = cond('Failed') ?? cond('FailureTarget');
  if (failed) return { phase: 'Failed', message: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the migration Job failed'}` };
  return { phase: 'Running' };
}

class Conditions {
  private readonly out = new Map<ConditionType, Condition>();
  constructor(
    private readonly prev: Condition[],
    private readonly generation: number,
  ) {}
  set(type: ConditionType, status: Condition['status'], reason: string, message: string): void {
    const old = this.prev.find((c) => c.type === type);
    this.out.set(type, {
      type,
      status,
      reason,
      message,
      observedGeneration: this.generation,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : seconds(new Date()),
    });
  }
  keep(type: ConditionType): void {
    const old = this.prev.find((c) => c.type === type);
    if (old) this.out.set(type, old);
    else this.set(type, 'Unknown', 'Reconciling', 'not determined yet');
  }
  list(): Condition[] {
    const order: ConditionType[] = ['Ready', 'Progressing', 'Degraded', 'MigrationComplete'];
    return order.flatMap((t) => (this.out.has(t) ? [this.out.get(t)!] : []));
  }
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
    let result: ReconcileResult;
    try {
      result = await this.reconcileLive(app);
    } catch (err) {
      await this.reportError(app, err);
      throw err;
    }
    // Moved back into the namespace: prune() has just cleaned the old one.
    if (!foreignDashboards(app) && app.metadata.finalizers?.includes(FINALIZER)) await this.removeFinalizer(app);
    return result;
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

  /** Writes Degraded=ReconcileError, keeping the rest of the status (best effort). */
  private async reportError(app: MateApp, err: unknown): Promise<void> {
    const prev = app.status ?? {};
    const conditions = new Conditions(prev.conditions ?? [], app.metadata.generation ?? 0);
    for (const t of ['Ready', 'Progressing', 'MigrationComplete'] as const) conditions.keep(t);
    const message = err instanceof Error ? err.message : String(err);
    conditions.set('Degraded', 'True', 'ReconcileError', message.slice(0, 2000));
    try {
      await this.deps.kube.applyStatus(app, { ...prev, observedGeneration: app.metadata.generation ?? 0, conditions: conditions.list() });
    } catch (statusErr) {
      this.deps.log.warn({ err: statusErr }, 'could not write the error to the status');
    }
  }

  /** Checks what the schema cannot: time zones Intl knows, referenced Secrets and keys that exist. */
  private async problems(app: MateApp): Promise<{ reason: string; messages: string[] }> {
    const spec = app.spec;
    const invalid: string[] = [];
    for (const [field, zone] of [
      ['serviceDay.timeZone', spec.serviceDay.timeZone],
      ['commuteScaling.timeZone', spec.commuteScaling.timeZone],
    ] as const) {
      if (!isTimeZone(zone)) invalid.push(`${field}: unknown time zone ${JSON.stringify(zone)}`);
    }
    if (invalid.length) return { reason: 'InvalidSpec', messages: invalid };

    const missing: string[] = [];
    const secrets = new Map<string, k8s.V1Secret | null | 'forbidden'>();
    for (const ref of secretRefs(spec)) {
      if (!secrets.has(ref.name)) {
        try {
          secrets.set(ref.name, (await this.deps.kube.get<k8s.V1Secret>('v1', 'Secret', app.metadata.namespace, ref.name)) ?? null);
        } catch (err) {
          if (!isForbidden(err)) throw err;
          secrets.set(ref.name, 'forbidden'); // not ours to read: the kubelet will tell
        }
      }
      const secret = secrets.get(ref.name);
      if (secret === null) missing.push(`Secret ${ref.name} (for ${ref.env}) not found`);
      else if (secret !== 'forbidden' && secret && !(ref.key in (secret.data ?? {})) && !(ref.key in (secret.stringData ?? {}))) {
        missing.push(`Secret ${ref.name} has no key ${JSON.stringify(ref.key)} (for ${ref.env})`);
      }
    }
    return { reason: 'SecretNotFound', messages: missing };
  }

  private async reconcileLive(app: MateApp): Promise<ReconcileResult> {
    const { kube, clock, events, metrics } = this.deps;
    const spec = app.spec;
    const ns = app.metadata.namespace;
    const n = names(app);
    const prev: MateAppStatus = app.status ?? {};
    const generation = app.metadata.generation ?? 0;
    const conditions = new Conditions(prev.conditions ?? [], generation);
    const now = clock();
    const scaling = scalingAt(spec, now);
    const status: MateAppStatus = {
      observedGeneration: generation,
      ...(prev.image ? { image: prev.image, version: prev.version } : {}),
      ...(prev.lastGoodImage ? { lastGoodImage: prev.lastGoodImage, lastGoodVersion: prev.lastGoodVersion } : {}),
      selector: selectorString(apiSelector(app)),
      scaling: {
        rushHour: scaling.rushHour,
        minReplicas: scaling.minReplicas,
        maxReplicas: scaling.maxReplicas,
        ...(scaling.window ? { window: scaling.window } : {}),
        ...(scaling.nextTransition ? { nextTransition: seconds(scaling.nextTransition) } : {}),
      },
    };
    let requeue = this.deps.resyncMs;
    if (scaling.nextTransition) requeue = Math.min(requeue, Math.max(0, scaling.nextTransition.getTime() - now.getTime()) + 50);

    let deployment = await kube.get<k8s.V1Deployment>('apps/v1', 'Deployment', ns, n.deployment);
    const counts = (d: k8s.V1Deployment | undefined) => ({
      replicas: d?.status?.replicas ?? 0,
      readyReplicas: d?.status?.readyReplicas ?? 0,
      updatedReplicas: d?.status?.updatedReplicas ?? 0,
    });

    // 1. What the schema cannot check.
    const problems = await this.problems(app);
    if (problems.messages.length) {
      const message = problems.messages.join('; ');
      conditions.set('Ready', 'False', problems.reason, `${message}; nothing was changed`);
      conditions.set('Progressing', 'False', problems.reason, 'waiting for the spec or its Secrets to be fixed');
      conditions.set('Degraded', 'True', problems.reason, message);
      conditions.keep('MigrationComplete');
      await events.record(app, 'Warning', problems.reason, message, `${generation}|${message}`);
      await kube.applyStatus(app, {
        ...prev,
        ...status,
        ...counts(deployment),
        conditions: conditions.list(),
      });
      return { requeueAfterMs: Math.min(requeue, INVALID_RETRY_MS) };
    }

    // 2. Everything but the Deployment and the migration Job.
    const bundle = this.deps.monitoringBundle();
    const monitoringApi = await this.deps.monitoringApi();
    const supporting = renderSupporting(app, scaling, bundle, monitoringApi);
    for (const obj of supporting) await kube.apply(obj);
    const dashboards = supporting.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1').length;
    const monitoringNotes = [...bundle.problems];
    if (!monitoringApi && (spec.monitoring.serviceMonitor.enabled || spec.monitoring.prometheusRule.enabled)) {
      monitoringNotes.push(`${MONITORING_API} is not served (install the Prometheus Operator CRDs): no ServiceMonitor or PrometheusRule`);
    }
    status.monitoring = {
      dashboards,
      prometheusRule: supporting.some((o) => o.kind === 'PrometheusRule'),
      ...(spec.monitoring.dashboards.enabled ? { namespace: dashboardsNamespace(app) } : {}),
      ...(monitoringNotes.length ? { message: monitoringNotes.join('; ') } : {}),
    };
    if (prev.scaling && prev.scaling.rushHour !== scaling.rushHour) {
      await events.record(
        app,
        'Normal',
        scaling.rushHour ? 'RushHourStarted' : 'RushHourEnded',
        `rush window ${scaling.window}: HorizontalPodAutoscaler minReplicas ${scaling.minReplicas}`,
        `${scaling.rushHour}|${status.scaling?.nextTransition}`,
      );
    }

    // 3. Versions: which image may the Deployment run?
    const desired = spec.image;
    const running = apiImage(deployment);
    let rollback = prev.rollback?.fromImage === desired ? prev.rollback : undefined;
    let migration: MateAppStatus['migration'];
    let target: string | undefined;
    if (rollback) {
      target = rollback.toImage;
      migration = prev.migration;
    } else if (!spec.migration.enabled) {
      target = desired;
      migration = { image: desired, phase: 'Disabled' };
    } else {
      const hash = migrationHash(spec, desired);
      const jobName = n.migrationJob(hash);
      const job = await kube.get<k8s.V1Job>('batch/v1', 'Job', ns, jobName);
      let phase: MigrationPhase;
      let message: string | undefined;
      if (job) ({ phase, message } = jobPhase(job));
      else if (prev.migration?.hash === hash && prev.migration.phase === 'Succeeded') phase = 'Succeeded';
      else {
        await kube.apply(migrationJob(app, desired, hash));
        phase = 'Running';
        await events.record(app, 'Normal', 'MigrationStarted', `migration Job ${jobName} started for ${versionOf(desired)}`, hash);
      }
      migration = { image: desired, hash, jobName, phase, ...(message ? { message } : {}) };
      if (phase === 'Succeeded') {
        target = desired;
        if (prev.migration?.hash !== hash || prev.migration.phase !== 'Succeeded') {
          await events.record(app, 'Normal', 'MigrationSucceeded', `migration Job ${jobName} succeeded for ${versionOf(desired)}`, hash);
        }
      } else if (phase === 'Failed') {
        if (prev.migration?.hash !== hash || prev.migration.phase !== 'Failed') metrics.migrationFailures.inc();
        await events.record(
          app,
          'Warning',
          'MigrationFailed',
          `migration Job ${jobName} for ${versionOf(desired)} failed (${message}); ${running ? `still running ${versionOf(running)}` : 'nothing deployed'}`,
          hash,
        );
      }
    }

    if (target !== undefined) {
      deployment = await kube.apply(renderDeployment(app, target));
      await this.ensureFloor(deployment, scaling.minReplicas);
      if (running !== target) {
        await events.record(
          app,
          'Normal',
          rollback ? 'RollingBack' : 'RolloutStarted',
          `Deployment ${n.deployment}: ${running ? versionOf(running) : 'nothing'} -> ${versionOf(target)}`,
          `${running}|${target}|${deployment.metadata?.generation}`,
        );
      }
    }

    // 4. Watch the rollout; roll back when it stalls.
    const deployed = apiImage(deployment);
    let lastGoodImage = prev.lastGoodImage;
    if (deployment && deployed && rolledOut(deployment)) {
      lastGoodImage = deployed;
      if (prev.image !== deployed) {
        await events.record(
          app,
          'Normal',
          'RolloutComplete',
          `version ${versionOf(deployed)} is running`,
          `${deployed}|${deployment.metadata?.generation}`,
        );
      }
      status.image = deployed;
      status.version = versionOf(deployed);
    }
    let rolloutPhase: RolloutPhase | undefined;
    let rolloutMessage = '';
    if (deployment && deployed && stalled(deployment)) {
      const progressing = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
      const reason = `ProgressDeadlineExceeded: ${progressing?.message ?? 'no progress'}`;
      if (!rollback && deployed === desired && spec.rollout.autoRollback && lastGoodImage && lastGoodImage !== deployed) {
        rollback = { fromImage: deployed, toImage: lastGoodImage, reason, time: seconds(new Date()) };
        deployment = await kube.apply(renderDeployment(app, lastGoodImage));
        metrics.rollbacks.inc();
        await events.record(
          app,
          'Warning',
          'RolledBack',
          `rollout of ${versionOf(deployed)} made no progress in ${spec.rollout.progressDeadlineSeconds}s (${reason}); rolled back to ${versionOf(lastGoodImage)}`,
          `${deployed}|${lastGoodImage}|${deployment.metadata?.generation}`,
        );
      } else {
        rolloutPhase = 'Stalled';
        rolloutMessage = `the rollout of ${versionOf(deployed)} made no progress: ${reason}`;
        await events.record(app, 'Warning', 'RolloutStalled', rolloutMessage, `${deployed}|${deployment.metadata?.generation}`);
      }
    }

    const complete = rolledOut(deployment);
    const nowRunning = apiImage(deployment);
    if (rollback) {
      rolloutPhase = 'RolledBack';
      rolloutMessage = `${versionOf(rollback.fromImage)} stalled and was rolled back to ${versionOf(rollback.toImage)}${complete ? '' : ' (rolling back)'}`;
    } else if (!rolloutPhase) {
      if (target === undefined) rolloutPhase = 'Waiting';
      else rolloutPhase = complete ? 'Complete' : 'RollingOut';
      rolloutMessage =
        rolloutPhase === 'Waiting'
          ? `waiting for the migration of ${versionOf(desired)}`
          : complete
            ? `${versionOf(nowRunning)} is rolled out`
            : `rolling out ${versionOf(nowRunning)}`;
    }

    // 5. Status.
    const migrationPhase = migration?.phase;
    const what = `${versionOf(desired)}`;
    if (migrationPhase === 'Disabled') conditions.set('MigrationComplete', 'True', 'Disabled', 'migrations are disabled for this MateApp');
    else if (migrationPhase === 'Succeeded')
      conditions.set('MigrationComplete', 'True', 'Succeeded', `migration Job ${migration?.jobName} succeeded`);
    else if (migrationPhase === 'Failed')
      conditions.set('MigrationComplete', 'False', 'MigrationFailed', `migration Job ${migration?.jobName} failed: ${migration?.message}`);
    else if (migrationPhase === 'Running')
      conditions.set('MigrationComplete', 'False', 'Running', `migration Job ${migration?.jobName} is running`);
    else conditions.keep('MigrationComplete');

    const serving = nowRunning ? `serving ${versionOf(nowRunning)}` : 'nothing deployed';
    if (migrationPhase === 'Failed') {
      conditions.set('Degraded', 'True', 'MigrationFailed', `the migration for ${what} failed; ${serving}`);
      conditions.set(
        'Progressing',
        'False',
        'MigrationFailed',
        `${what} is not rolled out; change spec.image (or delete Job ${migration?.jobName}) to retry`,
      );
      conditions.set('Ready', 'False', 'MigrationFailed', `${what} is not running; ${serving}`);
    } else if (rollback) {
      conditions.set('Degraded', 'True', 'RolledBack', rolloutMessage);
      conditions.set('Progressing', complete ? 'False' : 'True', complete ? 'RolledBack' : 'RollingBack', rolloutMessage);
      conditions.set('Ready', 'False', 'RolledBack', `${what} is not running; ${serving}`);
    } else if (rolloutPhase === 'Stalled') {
      conditions.set('Degraded', 'True', 'RolloutStalled', rolloutMessage);
      conditions.set('Progressing', 'False', 'RolloutStalled', rolloutMessage);
      conditions.set('Ready', 'False', 'RolloutStalled', rolloutMessage);
    } else {
      conditions.set('Degraded', 'False', 'AsExpected', 'no problem found');
      if (rolloutPhase === 'Waiting') {
        conditions.set('Progressing', 'True', 'Migrating', rolloutMessage);
        conditions.set('Ready', 'False', 'Migrating', `${serving}; ${rolloutMessage}`);
      } else if (!complete) {
        conditions.set('Progressing', 'True', 'RollingOut', rolloutMessage);
        conditions.set('Ready', 'False', 'RollingOut', rolloutMessage);
      } else {
        conditions.set('Progressing', 'False', 'Complete', rolloutMessage);
        conditions.set(
          'Ready',
          'True',
          'Available',
          `${versionOf(nowRunning)} is running with ${deployment?.status?.availableReplicas ?? 0} available replicas`,
        );
      }
    }
    if (!complete || migrationPhase === 'Running') requeue = Math.min(requeue, WATCH_SAFETY_MS);

    // 6. Remove what is no longer wanted.
    await this.prune(app, supporting, migration?.hash, monitoringApi, prev.monitoring?.namespace);

    const final: MateAppStatus = {
      ...status,
      ...counts(deployment),
      ...(lastGoodImage ? { lastGoodImage, lastGoodVersion: versionOf(lastGoodImage) } : {}),
      ...(migration ? { migration } : {}),
      ...(rolloutPhase ? { rollout: { image: nowRunning ?? target ?? desired, phase: rolloutPhase, message: rolloutMessage } } : {}),
      ...(rollback ? { rollback } : prev.rollback && !complete ? { rollback: prev.rollback } : {}),
      conditions: conditions.list(),
    };
    await kube.applyStatus(app, final);
    return { requeueAfterMs: requeue };
  }

  /** Raises the Deployment to the floor at once (the HPA would, within its sync period). */
  private async ensureFloor(d: k8s.V1Deployment, floor: number): Promise<void> {
    if ((d.spec?.replicas ?? 1) >= floor) return;
    await this.deps.kube.patchMerge(
      'apps/v1',
      'Deployment',
      d.metadata?.namespace,
      d.metadata!.name!,
      { spec: { replicas: floor } },
      'scale',
    );
    d.spec!.replicas = floor;
  }

  private async prune(
    app: MateApp,
    desired: KubeObject[],
    currentHash: string | undefined,
    monitoringApi: boolean,
    oldDashboardsNs?: string,
  ) {
    const { kube, log } = this.deps;
    const ns = app.metadata.namespace;
    const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata.namespace ?? ns}/${o.metadata.name}`));
    const selector = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_INSTANCE}=${app.metadata.name}`;
    const ownedByApp = (o: KubeObject) => o.metadata.ownerReferences?.some((r) => r.uid === app.metadata.uid);
    for (const kind of OWNED_KINDS) {
      if (kind.kind === 'Deployment') continue;
      if (kind.optional && !monitoringApi) continue;
      const list = await kube.list<KubeObject>(kind.apiVersion, kind.kind, ns, selector);
      const items = list.items.filter(ownedByApp);
      if (kind.kind === 'Job') {
        const old = items
          .filter((j) => j.metadata.labels?.[LABEL_MIGRATION_HASH] !== currentHash)
          .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
          .slice(JOBS_KEPT - 1);
        for (const j of old) {
          log.info({ event: { action: 'prune' }, kind: 'Job', name: j.metadata.name, namespace: ns }, 'deleting an old migration Job');
          await kube.delete('batch/v1', 'Job', ns, j.metadata.name, 'Background');
        }
        continue;
      }
      for (const o of items) {
        if (keep.has(`${kind.kind}/${ns}/${o.metadata.name}`)) continue;
        log.info(
          { event: { action: 'prune' }, kind: kind.kind, name: o.metadata.name, namespace: ns },
          'deleting what the MateApp no longer wants',
        );
        await kube.delete(kind.apiVersion, kind.kind, ns, o.metadata.name);
      }
    }
    // Dashboards in another namespace: found by their owner labels.
    const crossNamespaces = new Set([oldDashboardsNs, dashboardsNamespace(app)].filter((x): x is string => !!x && x !== ns));
    for (const other of crossNamespaces) await this.deleteForeign(app, other, keep);
  }

  /** Deletes the MateApp's objects in another namespace that `keep` does not list. */
  private async deleteForeign(app: MateApp, namespace: string, keep = new Set<string>()): Promise<void> {
    const selector = `${LABEL_OWNER_NAMESPACE}=${app.metadata.namespace},${LABEL_OWNER_NAME}=${app.metadata.name}`;
    let list;
    try {
      list = await this.deps.kube.list<KubeObject>('v1', 'ConfigMap', namespace, selector);
    } catch (err) {
      if (isNotFound(err) || isForbidden(err)) return;
      throw err;
    }
    for (const o of list.items) {
      if (keep.has(`ConfigMap/${namespace}/${o.metadata.name}`)) continue;
      await this.deps.kube.delete('v1', 'ConfigMap', namespace, o.metadata.name);
    }
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
