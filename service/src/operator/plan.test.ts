// The plan of a reconcile, without a cluster: what each observed state leads
// to (tests/operator/*.test.ts run the same decisions against the API server).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { exampleApp } from './fixtures.js';
import { KubeError } from './kube.js';
import { ANNOTATION_SPEC_HASH, migrationHash } from './names.js';
import type { Observed } from './observe.js';
import type { Plan } from './plan.js';
import { errorStatus, plan, secretsHash } from './plan.js';
import { deployment, migrationJob, secretRefs } from './render.js';
import type { KubeObject, MateApp, MateAppStatus } from './types.js';

const V1 = 'registry.example.com/mate/service:1.0.0';
const V2 = 'registry.example.com/mate/service:1.2.3';
// A Sunday: no rush window, the HPA's floor is replicas.min (2).
const now = new Date('2026-12-06T12:00:00Z');
const opts = { now, wallClock: now, resyncMs: 300_000 };

function app(status?: MateAppStatus, image = V2): MateApp {
  const a = exampleApp();
  a.spec.image = image;
  a.metadata.generation = 7;
  if (status) a.status = status;
  return a;
}

/** Every referenced Secret with every referenced key. */
function secrets(a: MateApp): Observed['secrets'] {
  const out: Observed['secrets'] = new Map();
  for (const ref of secretRefs(a.spec)) {
    const s = out.get(ref.name) as k8s.V1Secret | undefined;
    out.set(ref.name, { data: { ...s?.data, [ref.key]: 'eA==' } });
  }
  return out;
}

function observed(a: MateApp, more: Partial<Observed> = {}): Observed {
  return {
    app: a,
    secrets: secrets(a),
    monitoringApi: true,
    bundle: { dir: '/x', dashboards: [], ruleSpec: { groups: [] }, problems: [] },
    owned: [],
    foreign: [],
    ...more,
  };
}

type DeploymentState = 'rolledOut' | 'rolling' | 'stalled' | 'noneReady';
/** The API Deployment as the operator applied it for `image`, in a given state. */
function live(a: MateApp, image: string, state: DeploymentState, opts2: { paused?: boolean } = {}): k8s.V1Deployment {
  const d = deployment(a, image, { ...opts2, secretsHash: secretsHash(observed(a)) }) as k8s.V1Deployment;
  d.metadata = { ...d.metadata, generation: 3 };
  d.spec = { ...d.spec!, replicas: 2 };
  const status: Record<DeploymentState, k8s.V1DeploymentStatus> = {
    rolledOut: { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
    rolling: { observedGeneration: 3, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 },
    stalled: {
      observedGeneration: 3,
      replicas: 3,
      updatedReplicas: 1,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet mate-x has timed out' },
      ],
    },
    noneReady: { observedGeneration: 3, replicas: 3, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 },
  };
  d.status = status[state];
  return d;
}

function job(a: MateApp, image: string, done: 'Complete' | 'Failed' | undefined): k8s.V1Job {
  const j = migrationJob(a, image, migrationHash(a.spec, image)) as k8s.V1Job;
  if (done) j.status = { conditions: [{ type: done, status: 'True', reason: done === 'Failed' ? 'BackoffLimitExceeded' : undefined }] };
  return j;
}

const cond = (p: Plan, type: string) => p.status.conditions?.find((c) => c.type === type);
const summary = (p: Plan, type = 'Ready') => `${cond(p, type)?.status} ${cond(p, type)?.reason}`;
const applied = (p: Plan, kind: string) => p.apply.filter((o) => o.kind === kind);
const apiImageOf = (o: KubeObject | undefined) =>
  (o as k8s.V1Deployment | undefined)?.spec?.template.spec?.containers.find((c) => c.name === 'api')?.image;
const reasons = (p: Plan) => p.events.map((e) => e.reason);
const lastGood = { image: V1, version: '1.0.0', lastGoodImage: V1, lastGoodVersion: '1.0.0' };
const succeeded = (a: MateApp) => ({ hash: migrationHash(a.spec, V2), phase: 'Succeeded' as const });

describe('the plan of a reconcile', () => {
  it('a new version: its migration Job first, the Deployment left as it is; the version dry-run before anything', () => {
    const a = app(lastGood);
    const p = plan(observed(a, { deployment: live(a, V1, 'rolledOut') }), opts);
    assert.deepEqual(
      p.dryRun.map((o) => `${o.kind}/${o.metadata.name}`),
      ['Deployment/mate', `Job/mate-migrate-${migrationHash(a.spec, V2)}`],
    );
    assert.equal(apiImageOf(p.dryRun[0]), V2);
    assert.equal(applied(p, 'Job').length, 1);
    assert.equal(applied(p, 'Job')[0]!.metadata.name, `mate-migrate-${migrationHash(a.spec, V2)}`);
    assert.deepEqual(applied(p, 'Deployment'), [], 'the Deployment moved before the migration succeeded');
    assert.equal(p.apply.at(-1)?.kind, 'Job', 'the supporting objects go first');
    assert.equal(summary(p), 'False Migrating');
    assert.equal(summary(p, 'MigrationComplete'), 'False Running');
    assert.deepEqual(reasons(p), ['MigrationStarted']);
    assert.equal(p.status.rollout?.phase, 'Waiting');
    assert.ok(p.requeueAfterMs <= 60_000);
    for (const c of p.status.conditions ?? []) assert.equal(c.observedGeneration, 7, `${c.type} is for another generation`);
  });

  it('a Job that is already there is not made again', () => {
    const a = app(lastGood);
    const p = plan(observed(a, { deployment: live(a, V1, 'rolledOut'), job: job(a, V2, undefined) }), opts);
    assert.deepEqual(applied(p, 'Job'), []);
    assert.deepEqual(reasons(p), []);
    assert.equal(summary(p, 'MigrationComplete'), 'False Running');
  });

  it('the migration succeeded: the Deployment rolls to the new image, raised to the floor; not Ready until rolled out', () => {
    const a = app(lastGood);
    const d = live(a, V1, 'rolledOut');
    d.spec!.replicas = 1;
    const p = plan(observed(a, { deployment: d, job: job(a, V2, 'Complete') }), opts);
    assert.equal(apiImageOf(applied(p, 'Deployment')[0]), V2);
    assert.equal(p.apply.at(-1)?.kind, 'Deployment', 'the Deployment is applied last');
    assert.equal(p.scaleTo, 2);
    assert.equal(summary(p), 'False RollingOut', 'the old version rolled out is not the new one');
    assert.deepEqual(reasons(p), ['MigrationSucceeded', 'RolloutStarted']);
    assert.equal(p.status.image, V1, 'status.image is what runs');
  });

  it('the new version rolled out from this very spec: Ready, and the last good version', () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    const p = plan(observed(a, { deployment: live(a, V2, 'rolledOut') }), opts);
    assert.equal(summary(p), 'True Available');
    assert.equal(summary(p, 'Degraded'), 'False AsExpected');
    assert.equal(p.status.image, V2);
    assert.equal(p.status.lastGoodImage, V2);
    assert.equal(p.status.version, '1.2.3');
    assert.deepEqual(reasons(p), ['RolloutComplete']);
    assert.equal(p.scaleTo, undefined);
    assert.equal(p.requeueAfterMs, 300_000);
  });

  it("a Deployment rolled out from another spec is not taken for this one's rollout", () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    const d = live(a, V2, 'rolledOut');
    d.metadata!.annotations = { ...d.metadata!.annotations, [ANNOTATION_SPEC_HASH]: 'older' };
    const p = plan(observed(a, { deployment: d }), opts);
    assert.equal(summary(p), 'False RollingOut');
    assert.equal(applied(p, 'Deployment').length, 1);
  });

  it('a rotated Secret rolls the pods: a new secrets hash in the pod template, not Ready until rolled out', () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    const o = observed(a, { deployment: live(a, V2, 'rolledOut') });
    o.secrets.set('mate-jwt', { data: { keys: 'bmV3' } });
    const p = plan(o, opts);
    const annotation = (d: KubeObject | undefined) =>
      (d as k8s.V1Deployment | undefined)?.spec?.template.metadata?.annotations?.['mate.example.com/secrets-hash'];
    assert.equal(annotation(applied(p, 'Deployment')[0]), secretsHash(o));
    assert.notEqual(annotation(o.deployment as KubeObject), secretsHash(o));
    assert.equal(summary(p), 'False RollingOut');
  });

  it('a stalled rollout of the new version is rolled back to the last good one', () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    const p = plan(observed(a, { deployment: live(a, V2, 'stalled') }), opts);
    assert.equal(apiImageOf(applied(p, 'Deployment')[0]), V1);
    assert.equal(p.status.rollback?.fromImage, V2);
    assert.equal(p.status.rollback?.toImage, V1);
    assert.deepEqual(p.count, ['rollbacks']);
    assert.deepEqual(reasons(p), ['RolledBack']);
    assert.equal(summary(p), 'False RolledBack');
    assert.equal(summary(p, 'Degraded'), 'True RolledBack');
    assert.equal(summary(p, 'Progressing'), 'True RollingBack');

    // Once rolled back it stays there (no second rollback) until spec.image changes.
    const after = app({ ...p.status });
    const next = plan(observed(after, { deployment: live(after, V1, 'rolledOut') }), opts);
    assert.equal(apiImageOf(applied(next, 'Deployment')[0]), V1);
    assert.deepEqual(next.count, []);
    assert.equal(summary(next, 'Progressing'), 'False RolledBack');
  });

  it('a stalled rollout without autoRollback is reported, not rolled back', () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    a.spec.rollout.autoRollback = false;
    const p = plan(observed(a, { deployment: live(a, V2, 'stalled') }), opts);
    assert.equal(apiImageOf(applied(p, 'Deployment')[0]), V2);
    assert.equal(summary(p), 'False RolloutStalled');
    assert.deepEqual(p.count, []);
  });

  it('no pod of either version ready: the rollout is paused and waits for the dependency, even past its deadline', () => {
    const a = app({ ...lastGood, migration: succeeded(app()) });
    // Before the first pause, then as the paused Deployment of the new version with the old pods.
    for (const d of [live(a, V1, 'noneReady'), live(a, V2, 'noneReady'), live(a, V2, 'noneReady', { paused: true })]) {
      d.status!.conditions = live(a, V2, 'stalled').status!.conditions;
      const p = plan(observed(a, { deployment: d }), opts);
      const wanted = applied(p, 'Deployment')[0];
      assert.equal(apiImageOf(wanted), V2);
      assert.equal((wanted as k8s.V1Deployment | undefined)?.spec?.paused, true);
      assert.deepEqual(p.count, [], 'rolled back for an outage');
      assert.equal(summary(p), 'False DependenciesUnavailable');
      assert.equal(summary(p, 'Degraded'), 'True DependenciesUnavailable');
      assert.ok(reasons(p).includes('DependenciesUnavailable'));
      assert.match(cond(p, 'Degraded')!.message, /^no API pod of 1\.0\.0 or 1\.2\.3 is ready/);
    }
  });

  it('a failed migration leaves the running version and counts the failure once', () => {
    const a = app(lastGood);
    const o = observed(a, { deployment: live(a, V1, 'rolledOut'), job: job(a, V2, 'Failed') });
    const p = plan(o, opts);
    assert.deepEqual(applied(p, 'Deployment'), []);
    assert.equal(summary(p), 'False MigrationFailed');
    assert.equal(summary(p, 'MigrationComplete'), 'False MigrationFailed');
    assert.match(cond(p, 'Ready')!.message, /serving 1\.0\.0/);
    assert.deepEqual(p.count, ['migrationFailures']);
    assert.deepEqual(plan({ ...o, app: app({ ...p.status }) }, opts).count, [], 'counted again');
  });

  it('a spec the schema cannot check: a missing Secret or key, an unknown time zone; nothing is changed', () => {
    const a = app(lastGood);
    const missing = observed(a);
    missing.secrets.set('mate-redis', null);
    missing.secrets.set('mate-jwt', { data: { other: 'eA==' } });
    const p = plan(missing, opts);
    assert.deepEqual([p.dryRun, p.apply, p.delete], [[], [], []]);
    assert.equal(summary(p), 'False SecretNotFound');
    assert.match(cond(p, 'Degraded')!.message, /Secret mate-redis \(for REDIS_URL\) not found; Secret mate-jwt has no key "keys"/);
    assert.ok(p.requeueAfterMs <= 10_000, 'a fixed Secret is not looked at again soon');

    const forbidden = observed(a);
    forbidden.secrets.set('mate-redis', 'forbidden');
    assert.notEqual(cond(plan(forbidden, opts), 'Ready')?.reason, 'SecretNotFound', 'a Secret not ours to read is the kubelet’s to report');

    const zone = app(lastGood);
    zone.spec.serviceDay.timeZone = 'Mars/Olympus';
    assert.equal(summary(plan(observed(zone), opts)), 'False InvalidSpec');
  });

  it('prunes what it no longer wants, keeps the newest old migration Jobs and its own dashboards', () => {
    const a = app({ ...lastGood, migration: succeeded(app()), monitoring: { dashboards: 0, prometheusRule: true, namespace: 'grafana' } });
    const owned = (kind: string, name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
      apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
      kind,
      metadata: { name, namespace: 'mate', ...extra },
    });
    const oldJob = (i: number) =>
      owned('Job', `mate-migrate-old${i}`, {
        labels: { 'mate.example.com/migration-hash': `old${i}` },
        creationTimestamp: new Date(Date.UTC(2026, 0, i)),
      });
    const current = owned('Job', `mate-migrate-${migrationHash(a.spec, V2)}`, {
      labels: { 'mate.example.com/migration-hash': migrationHash(a.spec, V2) },
    });
    const o = observed(a, {
      deployment: live(a, V2, 'rolledOut'),
      owned: [owned('Service', 'mate'), owned('Service', 'mate-old'), oldJob(1), oldJob(2), oldJob(3), current],
      foreign: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mate-dashboard-gone', namespace: 'grafana' } }],
    });
    const p = plan(o, opts);
    assert.deepEqual(p.delete.map((d) => `${d.kind}/${d.namespace}/${d.name}`).sort(), [
      'ConfigMap/grafana/mate-dashboard-gone',
      'Job/mate/mate-migrate-old1',
      'Service/mate/mate-old',
    ]);
  });

  it('a reconcile that fails: Ready=False for this generation, SpecRejected when the API server refused the object', () => {
    const a = app({
      ...lastGood,
      observedGeneration: 6,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Available',
          message: '1.0.0 is running',
          observedGeneration: 6,
          lastTransitionTime: '2026-12-01T00:00:00Z',
        },
        {
          type: 'Progressing',
          status: 'False',
          reason: 'Complete',
          message: '',
          observedGeneration: 6,
          lastTransitionTime: '2026-12-01T00:00:00Z',
        },
      ],
    });
    const rejected = errorStatus(a, new KubeError(422, 'Invalid', 'Deployment.apps "mate" is invalid'), now);
    const ready = rejected.conditions?.find((c) => c.type === 'Ready');
    assert.equal(`${ready?.status} ${ready?.reason} ${ready?.observedGeneration}`, 'False SpecRejected 7');
    assert.match(ready!.message, /generation 7 is not running: Deployment.apps "mate" is invalid/);
    assert.equal(
      rejected.conditions?.find((c) => c.type === 'Progressing')?.observedGeneration,
      6,
      'Progressing claims the new generation',
    );
    assert.equal(rejected.observedGeneration, 7);
    assert.equal(rejected.lastGoodImage, V1);
    assert.equal(errorStatus(a, new Error('socket hang up'), now).conditions?.find((c) => c.type === 'Degraded')?.reason, 'ReconcileError');
  });
});
