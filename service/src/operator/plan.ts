/**
 * Plan: what one reconcile writes, as a pure function of what was observed
 * (observe.ts) and the time. Nothing here talks to the API server, so every
 * decision (which image the Deployment may run, when to migrate, roll back
 * or wait for a dependency, what the conditions say, what to prune) is
 * unit-tested like render.ts (plan.test.ts); apply.ts carries the plan out.
 *
 * Versions: a new spec.image first gets its migration Job (named after a hash
 * of the image and the migration settings); the Deployment moves to the new
 * image only after that Job succeeded. A failed Job leaves the Deployment as
 * it is (Degraded=MigrationFailed). A rollout that misses its progress
 * deadline is rolled back to the last image that rolled out completely
 * (Degraded=RolledBack) and stays there until spec.image changes again.
 * Rollback decides on the new version's own health: while no pod of any
 * version is ready (the old ones fail their readiness too, so a dependency
 * such as the database or Redis is down, not the new version), the rollout is
 * paused (Degraded=DependenciesUnavailable) and resumed with a fresh progress
 * deadline once a pod is ready again.
 *
 * The Deployment's status is believed only when the Deployment was applied
 * from the spec planned now (its spec hash): a Deployment about to change is
 * rolling out, whatever its status says of the spec it had.
 */
import type * as k8s from '@kubernetes/client-node';
import { isTimeZone } from '../platform/clock/index.js';
import { Conditions, seconds } from './conditions.js';
import type { EventType } from './events.js';
import { isRejected } from './kube.js';
import { LABEL_MIGRATION_HASH, apiSelector, migrationHash, names, selectorString, shortHash, versionOf } from './names.js';
import type { Observed } from './observe.js';
import {
  MONITORING_API,
  dashboardsNamespace,
  deployment as renderDeployment,
  migrationJob,
  referencedSecrets,
  renderSupporting,
  secretRefs,
} from './render.js';
import { apiImage, appliedFrom, jobPhase, noPodReady, rolledOut, stalled } from './rollout.js';
import { scalingAt } from './schedule.js';
import type { KubeObject, MateApp, MateAppStatus, MigrationPhase, RolloutPhase } from './types.js';

export interface PlannedEvent {
  type: EventType;
  reason: string;
  message: string;
  /** What makes it the same event again (events.ts records each once). */
  key: string;
}

export interface Deletion {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  why: string;
}

export interface Plan {
  /** Server-side dry-run first: what the API server refuses in them is reported before anything changes. */
  dryRun: KubeObject[];
  /** Server-side applied in this order: the supporting objects, the migration Job, the Deployment. */
  apply: KubeObject[];
  /** Raise the Deployment to this many replicas at once (the HPA would, within its sync period). */
  scaleTo?: number;
  events: PlannedEvent[];
  /** Counters to increase. */
  count: ('migrationFailures' | 'rollbacks')[];
  /** Deleted after the applies: what the MateApp no longer wants. */
  delete: Deletion[];
  status: MateAppStatus;
  requeueAfterMs: number;
}

export interface PlanOptions {
  /** The time of the rush window (a test's clock). */
  now: Date;
  /** The time stamped on conditions and a rollback. */
  wallClock: Date;
  /** How often a MateApp is reconciled with no event (catches what is not watched, e.g. Secrets). */
  resyncMs: number;
}

const JOBS_KEPT = 3;
// Secrets are not watched (that would need list/watch on every Secret): look again this often.
const INVALID_RETRY_MS = 10_000;
const WATCH_SAFETY_MS = 60_000;

const counts = (d: k8s.V1Deployment | undefined) => ({
  replicas: d?.status?.replicas ?? 0,
  readyReplicas: d?.status?.readyReplicas ?? 0,
  updatedReplicas: d?.status?.updatedReplicas ?? 0,
});

/** What the schema cannot check: time zones Intl knows, referenced Secrets and keys that exist. */
export function specProblems(o: Observed): { reason: string; messages: string[] } {
  const spec = o.app.spec;
  const invalid: string[] = [];
  for (const [field, zone] of [
    ['serviceDay.timeZone', spec.serviceDay.timeZone],
    ['commuteScaling.timeZone', spec.commuteScaling.timeZone],
  ] as const) {
    if (!isTimeZone(zone)) invalid.push(`${field}: unknown time zone ${JSON.stringify(zone)}`);
  }
  if (invalid.length) return { reason: 'InvalidSpec', messages: invalid };
  const missing: string[] = [];
  for (const ref of referencedSecrets(spec)) {
    const secret = o.secrets.get(ref.name);
    if (secret === null || secret === undefined) missing.push(`Secret ${ref.name} (for ${ref.env}) not found`);
    else if (secret !== 'forbidden' && !(ref.key in (secret.data ?? {})) && !(ref.key in (secret.stringData ?? {}))) {
      missing.push(`Secret ${ref.name} has no key ${JSON.stringify(ref.key)} (for ${ref.env})`);
    }
  }
  return { reason: 'SecretNotFound', messages: missing };
}

/**
 * A hash of the values of the Secret keys the API reads (a key it may not read counts as
 * unknown): in the pod template, a rotated Secret rolls the pods, at the latest on the next resync.
 */
export function secretsHash(o: Observed): string {
  const values = secretRefs(o.app.spec).map((ref) => {
    const secret = o.secrets.get(ref.name);
    const value = secret && secret !== 'forbidden' ? (secret.data?.[ref.key] ?? secret.stringData?.[ref.key]) : undefined;
    return `${ref.env}=${value ?? '?'}`;
  });
  return shortHash(values.join('\n'), 16);
}

export function plan(o: Observed, opts: PlanOptions): Plan {
  const { app, deployment: observedDeployment } = o;
  const spec = app.spec;
  const n = names(app);
  const prev: MateAppStatus = app.status ?? {};
  const generation = app.metadata.generation ?? 0;
  const conditions = new Conditions(prev.conditions ?? [], generation, opts.wallClock);
  const scaling = scalingAt(spec, opts.now);
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
  let requeue = opts.resyncMs;
  if (scaling.nextTransition) requeue = Math.min(requeue, Math.max(0, scaling.nextTransition.getTime() - opts.now.getTime()) + 50);
  const events: PlannedEvent[] = [];
  const event = (type: EventType, reason: string, message: string, key: string) => events.push({ type, reason, message, key });
  const count: Plan['count'] = [];

  // 1. What the schema cannot check: nothing is changed until it is fixed.
  const problems = specProblems(o);
  if (problems.messages.length) {
    const message = problems.messages.join('; ');
    conditions.set('Ready', 'False', problems.reason, `${message}; nothing was changed`);
    conditions.set('Progressing', 'False', problems.reason, 'waiting for the spec or its Secrets to be fixed');
    conditions.set('Degraded', 'True', problems.reason, message);
    conditions.keep('MigrationComplete');
    event('Warning', problems.reason, message, `${generation}|${message}`);
    return {
      dryRun: [],
      apply: [],
      events,
      count,
      delete: [],
      status: { ...prev, ...status, ...counts(observedDeployment), conditions: conditions.list() },
      requeueAfterMs: Math.min(requeue, INVALID_RETRY_MS),
    };
  }

  // 2. What the API server would refuse in the version's Deployment and Job is found
  // before anything changes (no migration for a version that cannot run).
  const desired = spec.image;
  const desiredHash = spec.migration.enabled ? migrationHash(spec, desired) : undefined;
  const secrets = secretsHash(o);
  const dryRun: KubeObject[] = [renderDeployment(app, desired, { secretsHash: secrets })];
  if (desiredHash) dryRun.push(migrationJob(app, desired, desiredHash));

  // 3. Everything but the Deployment and the migration Job.
  const supporting = renderSupporting(app, scaling, o.bundle, o.monitoringApi);
  const apply: KubeObject[] = [...supporting];
  const dashboards = supporting.filter((x) => x.kind === 'ConfigMap' && x.metadata.labels?.grafana_dashboard === '1').length;
  const monitoringNotes = [...o.bundle.problems];
  if (!o.monitoringApi && (spec.monitoring.serviceMonitor.enabled || spec.monitoring.prometheusRule.enabled)) {
    monitoringNotes.push(`${MONITORING_API} is not served (install the Prometheus Operator CRDs): no ServiceMonitor or PrometheusRule`);
  }
  status.monitoring = {
    dashboards,
    prometheusRule: supporting.some((x) => x.kind === 'PrometheusRule'),
    ...(spec.monitoring.dashboards.enabled ? { namespace: dashboardsNamespace(app) } : {}),
    ...(monitoringNotes.length ? { message: monitoringNotes.join('; ') } : {}),
  };
  if (prev.scaling && prev.scaling.rushHour !== scaling.rushHour) {
    event(
      'Normal',
      scaling.rushHour ? 'RushHourStarted' : 'RushHourEnded',
      `rush window ${scaling.window}: HorizontalPodAutoscaler minReplicas ${scaling.minReplicas}`,
      `${scaling.rushHour}|${status.scaling?.nextTransition}`,
    );
  }

  // 4. Versions: which image may the Deployment run?
  const running = apiImage(observedDeployment);
  let rollback = prev.rollback?.fromImage === desired ? prev.rollback : undefined;
  let migration: MateAppStatus['migration'];
  let target: string | undefined;
  if (rollback) {
    target = rollback.toImage;
    migration = prev.migration;
  } else if (!desiredHash) {
    target = desired;
    migration = { image: desired, phase: 'Disabled' };
  } else {
    const jobName = n.migrationJob(desiredHash);
    let phase: MigrationPhase;
    let message: string | undefined;
    if (o.job) ({ phase, message } = jobPhase(o.job));
    else if (prev.migration?.hash === desiredHash && prev.migration.phase === 'Succeeded') phase = 'Succeeded';
    else {
      apply.push(migrationJob(app, desired, desiredHash));
      phase = 'Running';
      event('Normal', 'MigrationStarted', `migration Job ${jobName} started for ${versionOf(desired)}`, desiredHash);
    }
    migration = { image: desired, hash: desiredHash, jobName, phase, ...(message ? { message } : {}) };
    const before = prev.migration?.hash === desiredHash ? prev.migration.phase : undefined;
    if (phase === 'Succeeded') {
      target = desired;
      if (before !== 'Succeeded')
        event('Normal', 'MigrationSucceeded', `migration Job ${jobName} succeeded for ${versionOf(desired)}`, desiredHash);
    } else if (phase === 'Failed') {
      if (before !== 'Failed') count.push('migrationFailures');
      event(
        'Warning',
        'MigrationFailed',
        `migration Job ${jobName} for ${versionOf(desired)} failed (${message}); ${running ? `still running ${versionOf(running)}` : 'nothing deployed'}`,
        desiredHash,
      );
    }
  }

  // A new version whose rollout would start or go on while no pod of the running one is ready
  // either: the fault is not the new version's, so it waits instead of running into its deadline.
  const waitForDependencies =
    target !== undefined && target === desired && !!prev.lastGoodImage && prev.lastGoodImage !== target && noPodReady(observedDeployment);
  let wanted = target === undefined ? undefined : renderDeployment(app, target, { paused: waitForDependencies, secretsHash: secrets });
  // The Deployment whose status tells how the rollout goes: none while it is about to change.
  let settled = !wanted || appliedFrom(observedDeployment, wanted) ? observedDeployment : undefined;
  const generationKey = observedDeployment?.metadata?.generation ?? 0;
  if (target !== undefined && running !== target) {
    event(
      'Normal',
      rollback ? 'RollingBack' : 'RolloutStarted',
      `Deployment ${n.deployment}: ${running ? versionOf(running) : 'nothing'} -> ${versionOf(target)}`,
      `${running}|${target}|${generationKey}`,
    );
  }

  // 5. Watch the rollout; roll back when it stalls.
  const deployed = apiImage(wanted ?? observedDeployment);
  let lastGoodImage = prev.lastGoodImage;
  if (deployed && rolledOut(settled)) {
    lastGoodImage = deployed;
    if (prev.image !== deployed)
      event('Normal', 'RolloutComplete', `version ${versionOf(deployed)} is running`, `${deployed}|${generationKey}`);
    status.image = deployed;
    status.version = versionOf(deployed);
  }
  let rolloutPhase: RolloutPhase | undefined;
  let rolloutMessage = '';
  if (waitForDependencies) {
    rolloutPhase = 'Waiting';
    rolloutMessage = `no API pod of ${versionOf(prev.lastGoodImage)} or ${versionOf(desired)} is ready (is a dependency down?): the rollout of ${versionOf(desired)} waits instead of rolling back`;
    event('Warning', 'DependenciesUnavailable', rolloutMessage, `${desired}|${generationKey}`);
  } else if (deployed && stalled(settled)) {
    const progressing = settled?.status?.conditions?.find((c) => c.type === 'Progressing');
    const reason = `ProgressDeadlineExceeded: ${progressing?.message ?? 'no progress'}`;
    if (!rollback && deployed === desired && spec.rollout.autoRollback && lastGoodImage && lastGoodImage !== deployed) {
      rollback = { fromImage: deployed, toImage: lastGoodImage, reason, time: seconds(opts.wallClock) };
      wanted = renderDeployment(app, lastGoodImage, { secretsHash: secrets });
      settled = undefined;
      count.push('rollbacks');
      event(
        'Warning',
        'RolledBack',
        `rollout of ${versionOf(deployed)} made no progress in ${spec.rollout.progressDeadlineSeconds}s (${reason}); rolled back to ${versionOf(lastGoodImage)}`,
        `${deployed}|${lastGoodImage}|${generationKey}`,
      );
    } else {
      rolloutPhase = 'Stalled';
      rolloutMessage = `the rollout of ${versionOf(deployed)} made no progress: ${reason}`;
      event('Warning', 'RolloutStalled', rolloutMessage, `${deployed}|${generationKey}`);
    }
  }
  if (wanted) apply.push(wanted);
  const floor = scaling.minReplicas;
  const scaleTo = wanted && (observedDeployment?.spec?.replicas ?? 1) < floor ? floor : undefined;

  const complete = rolledOut(settled);
  const nowRunning = apiImage(wanted ?? observedDeployment);
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

  // 6. Conditions, all for this generation.
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
  } else if (waitForDependencies) {
    conditions.set('Degraded', 'True', 'DependenciesUnavailable', rolloutMessage);
    conditions.set('Progressing', 'False', 'DependenciesUnavailable', rolloutMessage);
    conditions.set('Ready', 'False', 'DependenciesUnavailable', rolloutMessage);
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
        `${versionOf(nowRunning)} is running with ${settled?.status?.availableReplicas ?? 0} available replicas`,
      );
    }
  }
  if (!complete || migrationPhase === 'Running') requeue = Math.min(requeue, WATCH_SAFETY_MS);

  return {
    dryRun,
    apply,
    ...(scaleTo ? { scaleTo } : {}),
    events,
    count,
    delete: prune(o, supporting, migration?.hash),
    status: {
      ...status,
      ...counts(observedDeployment),
      ...(lastGoodImage ? { lastGoodImage, lastGoodVersion: versionOf(lastGoodImage) } : {}),
      ...(migration ? { migration } : {}),
      ...(rolloutPhase ? { rollout: { image: nowRunning ?? target ?? desired, phase: rolloutPhase, message: rolloutMessage } } : {}),
      ...(rollback ? { rollback } : prev.rollback && !complete ? { rollback: prev.rollback } : {}),
      conditions: conditions.list(),
    },
    requeueAfterMs: requeue,
  };
}

// A string on the wire (JSON), a Date in the client's model types: either way a time.
const created = (o: KubeObject) => new Date(o.metadata.creationTimestamp ?? 0).getTime();

/** What the MateApp owns and no longer wants; of the other versions' migration Jobs, the newest are kept. */
function prune(o: Observed, wanted: KubeObject[], currentHash: string | undefined): Deletion[] {
  const ns = o.app.metadata.namespace;
  const key = (x: KubeObject) => `${x.apiVersion}/${x.kind}/${x.metadata.namespace ?? ns}/${x.metadata.name}`;
  const keep = new Set(wanted.map(key));
  const out: Deletion[] = [];
  const del = (x: KubeObject, why: string) =>
    out.push({ apiVersion: x.apiVersion, kind: x.kind, namespace: x.metadata.namespace ?? ns, name: x.metadata.name, why });
  const oldJobs = o.owned
    .filter((x) => x.kind === 'Job' && x.metadata.labels?.[LABEL_MIGRATION_HASH] !== currentHash)
    .sort((a, b) => created(b) - created(a));
  for (const j of oldJobs.slice(JOBS_KEPT - 1)) del(j, 'an old migration Job');
  for (const x of [...o.owned, ...o.foreign]) if (x.kind !== 'Job' && !keep.has(key(x))) del(x, 'what the MateApp no longer wants');
  return out;
}

/**
 * The status when the current generation could not be reconciled: Ready=False and
 * Degraded=True for it, with the API server's words. SpecRejected when the API server
 * refused an object the spec makes (only a new spec can fix that); ReconcileError
 * otherwise (retried with backoff). Progressing and MigrationComplete keep their own,
 * older observedGeneration.
 */
export function errorStatus(app: MateApp, err: unknown, wallClock: Date): MateAppStatus {
  const prev = app.status ?? {};
  const generation = app.metadata.generation ?? 0;
  const conditions = new Conditions(prev.conditions ?? [], generation, wallClock);
  for (const t of ['Progressing', 'MigrationComplete'] as const) conditions.keep(t);
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
  const reason = isRejected(err) ? 'SpecRejected' : 'ReconcileError';
  conditions.set('Ready', 'False', reason, `generation ${generation} is not running: ${message}`);
  conditions.set('Degraded', 'True', reason, message);
  return { ...prev, observedGeneration: generation, conditions: conditions.list() };
}
