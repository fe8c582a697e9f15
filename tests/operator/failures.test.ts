// What goes wrong during a release, on our kwok pool:
// - a migration that fails (the Job's pod exits 1: image tag -failmigration):
//   the Deployment keeps the running version, the MateApp says
//   Degraded=MigrationFailed with the reason, an Event is recorded; a fixed
//   version then rolls out normally;
// - a version whose pods never become Ready (image tag -unready): the
//   Deployment misses its progress deadline and the operator rolls back to
//   the last good version within the deadline (plus the controller's check),
//   records it in status and in an Event, and the ready replicas never drop
//   below the desired count;
// - a dependency outage during a rollout (every pod, old and new, fails its
//   readiness, as /readyz does while Redis is down): the rollout is paused
//   instead of rolled back, says so, and finishes once the pods are ready again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FAILING_MIGRATION_SUFFIX,
  IMAGE_REPO,
  Scope,
  UNREADY_SUFFIX,
  apiImageOf,
  apply,
  condition,
  createSecrets,
  ensureCrd,
  getMateApp,
  kubectl,
  kubectlOk,
  kwokPool,
  mateApp,
  mateAppEvents,
  migrationJobs,
  namespace,
  operatorInProcess,
  readDeployment,
  runHook,
  sampler,
  stopwatch,
  waitFor,
  waitForCondition,
} from './support.js';

const V1 = `${IMAGE_REPO}:1.0.0`;

test('a failing migration leaves the running version, reports MigrationFailed with the reason and an Event', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'migfail');
  await createSecrets(ns);
  const op = await operatorInProcess(scope, { namespace: ns });
  const spec = { scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations }, migration: { backoffLimit: 0 } };
  await apply(mateApp(ns, 'api', spec));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('1.0.0 Ready');

  const bad = `${IMAGE_REPO}:2.0.0${FAILING_MIGRATION_SUFFIX}`;
  await apply(mateApp(ns, 'api', { ...spec, image: bad }));
  const failed = await waitForCondition(ns, 'api', 'Degraded', 'True', 'MigrationFailed');
  mark('Degraded=MigrationFailed');
  assert.match(condition(failed, 'Degraded')!.message, /2\.0\.0-failmigration failed; serving 1\.0\.0/);
  assert.equal(condition(failed, 'Ready')?.status, 'False');
  assert.equal(condition(failed, 'Ready')?.reason, 'MigrationFailed');
  assert.equal(condition(failed, 'MigrationComplete')?.status, 'False');
  assert.match(condition(failed, 'MigrationComplete')!.message, /failed: BackoffLimitExceeded/);
  assert.equal(condition(failed, 'Progressing')?.status, 'False');
  assert.equal(failed.status?.migration?.phase, 'Failed');
  assert.equal(failed.status?.version, '1.0.0', 'status no longer says 1.0.0 runs');
  assert.equal(failed.status?.lastGoodVersion, '1.0.0');

  // The Deployment was not touched: still 1.0.0, all ready, one ReplicaSet generation.
  const d = await readDeployment(ns, 'api');
  assert.equal(apiImageOf(d), V1);
  assert.equal(d?.status?.readyReplicas, 2);
  const events = await mateAppEvents(ns, 'api');
  const event = events.find((e) => e.reason === 'MigrationFailed');
  assert.ok(event, `no MigrationFailed event: ${JSON.stringify(events)}`);
  assert.equal(event.type, 'Warning');
  assert.match(event.message, /failed \(BackoffLimitExceeded.*\); still running 1\.0\.0/);
  assert.equal((await op.metrics.registry.getSingleMetric('mate_operator_migration_failures_total')?.get())?.values[0]?.value, 1);

  // The chart's post-upgrade hook fails at once (so `helm upgrade --atomic` rolls back).
  const hook = await runHook('wait-ready', { MATEAPP_NAMESPACE: ns, MATEAPP_NAME: 'api', MATEAPP_IMAGE: bad, WAIT_TIMEOUT_SECONDS: '60' });
  assert.equal(hook.code, 1, hook.output);
  assert.match(hook.output, /wait-ready: api is Degraded \(MigrationFailed\)/);
  assert.ok(hook.seconds < 30, `wait-ready took ${hook.seconds} s to fail`);

  // Reconciling again changes nothing: no second Job, still 1.0.0.
  await apply(mateApp(ns, 'api', { ...spec, image: bad, replicas: { min: 2, max: 9 } }));
  await waitForCondition(ns, 'api', 'Degraded', 'True', 'MigrationFailed');
  assert.equal(
    (await migrationJobs(ns, 'api')).filter((j) => j.metadata?.labels?.['app.kubernetes.io/version'] === '2.0.0-failmigration').length,
    1,
  );
  assert.equal(apiImageOf(await readDeployment(ns, 'api')), V1);

  // A fixed version goes through.
  await apply(mateApp(ns, 'api', { ...spec, image: `${IMAGE_REPO}:2.0.1` }));
  const fixed = await waitFor('2.0.1 Ready', async () => {
    const app = await getMateApp(ns, 'api');
    return app.status?.version === '2.0.1' && condition(app, 'Ready')?.status === 'True' ? app : undefined;
  });
  assert.equal(condition(fixed, 'Degraded')?.status, 'False');
  mark('2.0.1 Ready');
});

test('a rollout that cannot progress is rolled back to the last good version, in status and an Event', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'rollback');
  await createSecrets(ns);
  const op = await operatorInProcess(scope, { namespace: ns });
  const DEADLINE = 10;
  const spec = {
    scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    rollout: { progressDeadlineSeconds: DEADLINE },
  };
  await apply(mateApp(ns, 'api', spec));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('1.0.0 Ready');

  const broken = `${IMAGE_REPO}:2.0.0${UNREADY_SUFFIX}`;
  const sampling = sampler(async () => {
    const d = await readDeployment(ns, 'api');
    return { image: apiImageOf(d), ready: d?.status?.readyReplicas ?? 0, available: d?.status?.availableReplicas ?? 0 };
  });
  let samples;
  const started = Date.now();
  let rolledBackAfter: number | undefined;
  try {
    await apply(mateApp(ns, 'api', { ...spec, image: broken }));
    await waitFor('the broken version in the Deployment', async () =>
      apiImageOf(await readDeployment(ns, 'api')) === broken ? true : undefined,
    );
    mark('2.0.0-unready rolling out');
    const degraded = await waitForCondition(ns, 'api', 'Degraded', 'True', 'RolledBack', 90_000);
    rolledBackAfter = (Date.now() - started) / 1000;
    mark('Degraded=RolledBack');
    assert.equal(degraded.status?.rollback?.fromImage, broken);
    assert.equal(degraded.status?.rollback?.toImage, V1);
    assert.match(degraded.status?.rollback?.reason ?? '', /^ProgressDeadlineExceeded: ReplicaSet .* has timed out progressing/);
    await waitFor(
      'the rollback to finish',
      async () => {
        const d = await readDeployment(ns, 'api');
        const app = await getMateApp(ns, 'api');
        return apiImageOf(d) === V1 &&
          d?.status?.updatedReplicas === 2 &&
          d.status.replicas === 2 &&
          condition(app, 'Progressing')?.reason === 'RolledBack'
          ? true
          : undefined;
      },
      60_000,
    );
    mark('rolled back');
  } finally {
    samples = await sampling.stop();
  }
  // The deadline, plus the migration and the Deployment controller's next check.
  assert.ok(rolledBackAfter !== undefined && rolledBackAfter < DEADLINE + 25, `rolled back only after ${rolledBackAfter} s`);
  assert.ok(
    samples.some((s) => s.image === broken),
    'the broken version never reached the Deployment',
  );
  const minReady = Math.min(...samples.map((s) => s.ready));
  assert.ok(minReady >= 2, `ready replicas dropped to ${minReady}`);

  const app = await getMateApp(ns, 'api');
  assert.equal(app.status?.version, '1.0.0');
  assert.equal(app.status?.lastGoodVersion, '1.0.0');
  assert.equal(app.status?.rollout?.phase, 'RolledBack');
  assert.equal(condition(app, 'Ready')?.status, 'False');
  assert.equal(condition(app, 'Ready')?.reason, 'RolledBack');
  assert.match(condition(app, 'Degraded')!.message, /2\.0\.0-unready stalled and was rolled back to 1\.0\.0/);
  const events = await mateAppEvents(ns, 'api');
  const event = events.find((e) => e.reason === 'RolledBack');
  assert.ok(event, `no RolledBack event: ${JSON.stringify(events)}`);
  assert.equal(event.type, 'Warning');
  assert.match(event.message, /rollout of 2\.0\.0-unready made no progress in 10s \(ProgressDeadlineExceeded.*\); rolled back to 1\.0\.0/);
  assert.equal((await op.metrics.registry.getSingleMetric('mate_operator_rollbacks_total')?.get())?.values[0]?.value, 1);

  // It stays rolled back (no second attempt at the same version) until spec.image changes.
  await apply(mateApp(ns, 'api', { ...spec, image: broken, replicas: { min: 2, max: 7 } }));
  await waitForCondition(ns, 'api', 'Degraded', 'True', 'RolledBack');
  assert.equal(apiImageOf(await readDeployment(ns, 'api')), V1);
  await apply(mateApp(ns, 'api', { ...spec, image: `${IMAGE_REPO}:2.0.1` }));
  const next = await waitFor('2.0.1 Ready', async () => {
    const a = await getMateApp(ns, 'api');
    return a.status?.version === '2.0.1' && condition(a, 'Ready')?.status === 'True' ? a : undefined;
  });
  assert.equal(next.status?.rollback, undefined, 'the rollback record outlived a good rollout');
  mark('2.0.1 Ready');
});

/** Sets the Ready condition of every API pod of the MateApp (what the kubelet does with /readyz's answer). */
async function setApiPodsReady(ns: string, app: string, ready: 'True' | 'False'): Promise<void> {
  const pods = JSON.parse(
    await kubectlOk(['-n', ns, 'get', 'pods', '-l', `app.kubernetes.io/instance=${app},app.kubernetes.io/component=api`, '-o', 'json']),
  ) as { items: { metadata: { name: string }; status?: { phase?: string; conditions?: { type: string; status: string }[] } }[] };
  for (const pod of pods.items) {
    if (pod.status?.phase !== 'Running' || pod.status.conditions?.find((c) => c.type === 'Ready')?.status === ready) continue;
    const conditions = ['Ready', 'ContainersReady'].map((type) => ({ type, status: ready, lastTransitionTime: new Date().toISOString() }));
    await kubectl([
      '-n',
      ns,
      'patch',
      'pod',
      pod.metadata.name,
      '--subresource=status',
      '--type=strategic',
      '-p',
      JSON.stringify({ status: { conditions } }),
    ]);
  }
}

test('a dependency outage during a rollout pauses it instead of rolling back; it finishes once the pods are ready again', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'outage');
  await createSecrets(ns);
  const op = await operatorInProcess(scope, { namespace: ns });
  const spec = {
    scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    rollout: { progressDeadlineSeconds: 30 },
  };
  await apply(mateApp(ns, 'api', spec));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('1.0.0 Ready');

  // Redis goes down: every running pod fails its readiness; then a new version ships, whose pods fail it too.
  await setApiPodsReady(ns, 'api', 'False');
  await waitFor('no ready API pod', async () => ((await readDeployment(ns, 'api'))?.status?.readyReplicas ?? 0) === 0 || undefined);
  const v2 = `${IMAGE_REPO}:2.0.0${UNREADY_SUFFIX}`;
  await apply(mateApp(ns, 'api', { ...spec, image: v2 }));
  const waiting = await waitForCondition(ns, 'api', 'Degraded', 'True', 'DependenciesUnavailable');
  mark('Degraded=DependenciesUnavailable');
  assert.equal(condition(waiting, 'Ready')?.reason, 'DependenciesUnavailable');
  assert.match(
    condition(waiting, 'Degraded')!.message,
    /no API pod of 1\.0\.0 or 2\.0\.0-unready is ready .*waits instead of rolling back/,
  );
  assert.equal(waiting.status?.rollback, undefined, 'rolled back during a dependency outage');
  // Paused, the Deployment runs no progress deadline: nothing can stall into a rollback while it waits.
  const paused = await waitFor('the Deployment to be paused', async () => {
    const d = await readDeployment(ns, 'api');
    return d?.spec?.paused && d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'DeploymentPaused' ? d : undefined;
  });
  assert.equal(apiImageOf(paused), v2);
  assert.ok((await mateAppEvents(ns, 'api')).some((e) => e.type === 'Warning' && e.reason === 'DependenciesUnavailable'));

  // Redis is back: every pod passes its readiness again, including the new ones the resumed rollout makes.
  const recovering = sampler(() => setApiPodsReady(ns, 'api', 'True'), 200);
  let done;
  try {
    done = await waitFor(
      '2.0.0-unready Ready',
      async () => {
        const app = await getMateApp(ns, 'api');
        return app.status?.version === '2.0.0-unready' && condition(app, 'Ready')?.status === 'True' ? app : undefined;
      },
      90_000,
    );
  } finally {
    await recovering.stop();
  }
  mark('2.0.0 rolled out');
  assert.equal(done.status?.rollback, undefined);
  assert.equal(done.status?.lastGoodVersion, '2.0.0-unready');
  assert.equal((await readDeployment(ns, 'api'))?.spec?.paused ?? false, false, 'the Deployment stayed paused');
  assert.equal((await op.metrics.registry.getSingleMetric('mate_operator_rollbacks_total')?.get())?.values[0]?.value ?? 0, 0);
});
