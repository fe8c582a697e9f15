// What the CRD schema cannot refuse is reported in the MateApp's status, and
// never stops the operator: a Secret that does not exist (SecretNotFound, with
// nothing deployed, until the Secret appears), a time zone Intl does not know
// (InvalidSpec), a pod template the API server refuses (SpecRejected, found
// by a dry run before anything changes: Ready=False for that generation, and
// the release hook fails at once). A good
// MateApp next to them is reconciled all along. (The schema's own refusals
// are in crd.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  IMAGE_REPO,
  Scope,
  apply,
  condition,
  createSecrets,
  ensureCrd,
  getMateApp,
  kubeConfig,
  kubectlOk,
  mateApp,
  mateAppEvents,
  migrationJobs,
  namespace,
  operatorInProcess,
  readDeployment,
  runHook,
  stopwatch,
  waitFor,
  waitForCondition,
} from './support.js';

test('invalid MateApps are reported in status, the operator carries on with the others', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'invalid');
  await createSecrets(ns, ['jwt']);
  const op = await operatorInProcess(scope, { namespace: ns });

  await apply(mateApp(ns, 'nosecret'));
  await apply(
    mateApp(ns, 'badzone', {
      serviceDay: { startHour: 10, timeZone: 'Mars/Olympus_Mons' },
      jwt: { keysSecretRef: { name: 'mate-database', key: 'url' } },
    }),
  );
  await apply(
    mateApp(ns, 'badlabel', {
      podLabels: { tier: 'not a label value' },
      jwt: { keysSecretRef: { name: 'mate-database', key: 'url' } },
    }),
  );
  await apply(mateApp(ns, 'good', { jwt: { keysSecretRef: { name: 'mate-database', key: 'url' } } }));

  const noSecret = await waitForCondition(ns, 'nosecret', 'Degraded', 'True', 'SecretNotFound');
  assert.match(condition(noSecret, 'Degraded')!.message, /Secret mate-jwt \(for JWT_KEYS\) not found/);
  assert.equal(condition(noSecret, 'Ready')?.status, 'False');
  assert.equal(await readDeployment(ns, 'nosecret'), undefined, 'a Deployment was made without its Secret');
  assert.deepEqual(await migrationJobs(ns, 'nosecret'), []);
  assert.ok((await mateAppEvents(ns, 'nosecret')).some((e) => e.type === 'Warning' && e.reason === 'SecretNotFound'));

  const badZone = await waitForCondition(ns, 'badzone', 'Degraded', 'True', 'InvalidSpec');
  assert.match(condition(badZone, 'Degraded')!.message, /serviceDay\.timeZone: unknown time zone "Mars\/Olympus_Mons"/);

  // The API server refuses its pod template: found by the dry run, before a migration Job or Deployment.
  const badLabel = await waitForCondition(ns, 'badlabel', 'Ready', 'False', 'SpecRejected');
  assert.equal(condition(badLabel, 'Ready')?.observedGeneration, badLabel.metadata.generation, 'Ready is not about this generation');
  assert.equal(condition(badLabel, 'Degraded')?.reason, 'SpecRejected');
  assert.match(
    condition(badLabel, 'Degraded')!.message,
    /Deployment.apps "badlabel" is invalid: spec\.template\.labels: Invalid value: "not a label value"/,
  );
  assert.equal(await readDeployment(ns, 'badlabel'), undefined, 'a Deployment was made');
  assert.deepEqual(await migrationJobs(ns, 'badlabel'), [], 'a migration ran for a version that cannot run');
  // The release hook fails at once: nothing will change until the spec does.
  const hook = await runHook('wait-ready', { MATEAPP_NAMESPACE: ns, MATEAPP_NAME: 'badlabel', WAIT_TIMEOUT_SECONDS: '60' });
  assert.equal(hook.code, 1, hook.output);
  assert.match(hook.output, /wait-ready: badlabel is Degraded \(SpecRejected\)/);

  await waitForCondition(ns, 'good', 'Ready', 'True', 'Available');
  mark('all four reported');
  // A failed reconcile is counted after it has written its status, so the count may trail it.
  const errors = op.metrics.registry.getSingleMetric('mate_operator_reconcile_total');
  await waitFor('the refused apply to be counted as an error', async () => {
    const values = (await errors?.get())?.values ?? [];
    return (values.find((v) => v.labels.result === 'error')?.value ?? 0) >= 1 ? true : undefined;
  });

  // The missing Secret appears: the MateApp recovers on the operator's retry.
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'mate-jwt' }, stringData: { keys: `k1:${'y'.repeat(40)}` } } });
  const recovered = await waitForCondition(ns, 'nosecret', 'Ready', 'True', 'Available', 60_000);
  assert.equal(condition(recovered, 'Degraded')?.status, 'False');
  mark('recovered after the Secret was created');
});

test('wait-ready trusts a condition only for its own generation, and gives a retried ReconcileError a grace period', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'waitready');
  // No operator here: the status is written by hand, as an older operator left it after a failed
  // reconcile of generation 2 (the top-level observedGeneration moved on, Ready=True is still generation 1's).
  await apply(mateApp(ns, 'api'));
  await apply(mateApp(ns, 'api', { replicas: { min: 2, max: 9 } }));
  const generation = (await getMateApp(ns, 'api')).metadata.generation!;
  assert.equal(generation, 2);
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    observedGeneration: generation,
    image: `${IMAGE_REPO}:1.0.0`,
    version: '1.0.0',
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Available', message: '1.0.0 is running', observedGeneration: 1, lastTransitionTime: at },
      {
        type: 'Degraded',
        status: 'True',
        reason: 'ReconcileError',
        message: 'PATCH …: 500 etcdserver: request timed out',
        observedGeneration: 2,
        lastTransitionTime: at,
      },
    ],
  };
  await kubectlOk([
    '-n',
    ns,
    'patch',
    `mateapps.${GROUP}`,
    'api',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
  const hook = await runHook('wait-ready', {
    MATEAPP_NAMESPACE: ns,
    MATEAPP_NAME: 'api',
    MATEAPP_IMAGE: `${IMAGE_REPO}:1.0.0`,
    WAIT_TIMEOUT_SECONDS: '60',
    WAIT_ERROR_GRACE_SECONDS: '2',
  });
  assert.equal(hook.code, 1, `generation 1's Ready=True passed the gate for generation 2:\n${hook.output}`);
  assert.match(hook.output, /wait-ready: api is Degraded \(ReconcileError\): PATCH …: 500 etcdserver: request timed out/);
});
