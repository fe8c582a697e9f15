// `helm upgrade --set image.tag=2.0.0` ships a version: the operator runs the
// new version's migration Job first (our kwok pool makes it take 3 s), and
// changes the Deployment only after the Job has succeeded; the rollout keeps
// the ready replicas at the desired count throughout (maxUnavailable 0); the
// MateApp ends Ready with the new version. Sampled every 100 ms: the
// Deployment is read before the Job, so "new image while the Job is not
// complete" in one sample would be a real ordering violation.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  CHART_DIR,
  IMAGE_REPO,
  Scope,
  apiImageOf,
  apps,
  chartOperatorEnv,
  condition,
  createSecrets,
  ensureCrd,
  helm,
  helmOk,
  jobComplete,
  kubeConfig,
  kwokPool,
  mateAppEvents,
  migrationJobs,
  namespace,
  operatorProcess,
  readDeployment,
  sampler,
  stopwatch,
  tempDir,
  waitFor,
  waitForCondition,
} from './support.js';

const DESIRED = 2;

test('helm upgrade with a new image tag: migration first, then a rollout that never drops below the desired ready replicas', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  scope.defer('timing', () => mark('cleanup'));
  const pool = await kwokPool(scope, { jobDelayMs: 3000, nodes: 3 });
  const ns = await namespace(scope, 'upgrade');
  await createSecrets(ns);
  const valuesFile = path.join(tempDir(scope, 'mate-values-'), 'values.json');
  writeFileSync(
    valuesFile,
    JSON.stringify({
      image: { repository: IMAGE_REPO, tag: '1.0.0' },
      operator: { replicas: 0 },
      app: {
        replicas: { min: DESIRED, max: 4 },
        commuteScaling: { enabled: false },
        scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
      },
    }),
  );
  scope.defer('helm uninstall', () => helm(['uninstall', 'mate', '-n', ns, '--wait', '--timeout=60s']));
  await helmOk(['install', 'mate', CHART_DIR, '-n', ns, '-f', valuesFile, '--wait', '--timeout=120s']);
  await operatorProcess(scope, { namespace: ns, env: await chartOperatorEnv(ns) });
  const v1 = await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 120_000);
  assert.equal(v1.status?.version, '1.0.0');
  mark('1.0.0 Ready');

  // Every status the Deployment controller writes, through a watch (a poll can miss a surge
  // that kwok resolves in milliseconds).
  const statuses: { image?: string; ready: number; available: number; replicas: number }[] = [];
  const watch = await new k8s.Watch(kubeConfig()).watch(
    `/apis/apps/v1/namespaces/${ns}/deployments`,
    { fieldSelector: 'metadata.name=mate' },
    (_type: string, d: k8s.V1Deployment) =>
      statuses.push({
        image: apiImageOf(d),
        ready: d.status?.readyReplicas ?? 0,
        available: d.status?.availableReplicas ?? 0,
        replicas: d.status?.replicas ?? 0,
      }),
    () => {},
  );
  const sampling = sampler(async () => {
    const d = await readDeployment(ns, 'mate'); // first the Deployment, then the Job
    const job = (await migrationJobs(ns, 'mate')).find((j) => j.metadata?.labels?.['app.kubernetes.io/version'] === '2.0.0');
    return {
      at: Date.now(),
      image: apiImageOf(d),
      ready: d?.status?.readyReplicas ?? 0,
      available: d?.status?.availableReplicas ?? 0,
      replicas: d?.status?.replicas ?? 0,
      jobExists: !!job,
      jobDone: jobComplete(job),
    };
  });
  let samples;
  try {
    await helmOk(['upgrade', 'mate', CHART_DIR, '-n', ns, '--reuse-values', '--set', 'image.tag=2.0.0', '--wait', '--timeout=120s']);
    mark('helm upgrade');
    const v2 = await waitFor(
      'the MateApp Ready with 2.0.0',
      async () => {
        const app = await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 120_000);
        return app.status?.version === '2.0.0' ? app : undefined;
      },
      120_000,
    );
    mark('2.0.0 Ready');
    assert.equal(v2.status?.lastGoodVersion, '2.0.0');
    assert.equal(v2.status?.observedGeneration, v2.metadata.generation);
    assert.equal(condition(v2, 'MigrationComplete')?.status, 'True');
    assert.equal(v2.status?.migration?.phase, 'Succeeded');
    assert.equal(v2.status?.migration?.image, `${IMAGE_REPO}:2.0.0`);
  } finally {
    samples = await sampling.stop();
    watch.abort();
  }

  const v2 = `${IMAGE_REPO}:2.0.0`;
  assert.ok(samples.length > 20, `only ${samples.length} samples`);
  const violations = samples.filter((s) => s.image === v2 && !s.jobDone);
  assert.deepEqual(violations, [], 'the Deployment had the new image before its migration Job completed');
  assert.ok(
    samples.some((s) => s.jobExists && !s.jobDone && s.image === `${IMAGE_REPO}:1.0.0`),
    'never saw the migration running while the Deployment still had the old image',
  );
  assert.ok(
    samples.some((s) => s.image === v2),
    'never saw the new image',
  );
  const observed = [...samples, ...statuses];
  assert.ok(statuses.some((s) => s.image === v2) && statuses.length > 3, `the watch saw ${statuses.length} statuses`);
  const minReady = Math.min(...observed.map((s) => s.ready));
  const minAvailable = Math.min(...observed.map((s) => s.available));
  assert.ok(minReady >= DESIRED, `ready replicas dropped to ${minReady} during the upgrade`);
  assert.ok(minAvailable >= DESIRED, `available replicas dropped to ${minAvailable} during the upgrade`);
  assert.ok(Math.max(...statuses.map((s) => s.replicas)) > DESIRED, 'the rollout never surged (maxSurge 1)');

  // One Job per version; the new ReplicaSet was made after the Job completed.
  const jobs = await migrationJobs(ns, 'mate');
  const v2Jobs = jobs.filter((j) => j.metadata?.labels?.['app.kubernetes.io/version'] === '2.0.0');
  assert.equal(v2Jobs.length, 1, 'more than one migration Job for 2.0.0');
  const completed = new Date(v2Jobs[0]!.status!.completionTime!).getTime();
  const sets = await apps().listNamespacedReplicaSet({
    namespace: ns,
    labelSelector: 'app.kubernetes.io/instance=mate,app.kubernetes.io/component=api',
  });
  const newSet = sets.items.find((rs) => rs.spec?.template?.spec?.containers.find((c) => c.name === 'api')?.image === v2);
  assert.ok(newSet, 'no ReplicaSet for 2.0.0');
  assert.ok(new Date(newSet.metadata!.creationTimestamp!).getTime() >= completed, 'the 2.0.0 ReplicaSet predates the migration');

  const reasons = (await mateAppEvents(ns, 'mate')).map((e) => `${e.reason}: ${e.message}`);
  for (const expected of [
    /MigrationStarted: .*2\.0\.0/,
    /MigrationSucceeded: .*2\.0\.0/,
    /RolloutStarted: .*1\.0\.0 -> 2\.0\.0/,
    /RolloutComplete: version 2\.0\.0/,
  ]) {
    assert.ok(
      reasons.some((r) => expected.test(r)),
      `no event ${expected}: ${reasons.join('; ')}`,
    );
  }
});
