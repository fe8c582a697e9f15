// What the CRD schema cannot refuse is reported in the MateApp's status, and
// never stops the operator: a Secret that does not exist (SecretNotFound, with
// nothing deployed, until the Secret appears), a time zone Intl does not know
// (InvalidSpec), resources the API server refuses in a pod template
// (ReconcileError with the API server's message, retried with backoff). A good
// MateApp next to them is reconciled all along. (The schema's own refusals
// are in crd.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  Scope,
  apply,
  condition,
  createSecrets,
  ensureCrd,
  kubeConfig,
  mateApp,
  mateAppEvents,
  migrationJobs,
  namespace,
  operatorInProcess,
  readDeployment,
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
    mateApp(ns, 'badres', {
      resources: { requests: { cpu: '2', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
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

  const badRes = await waitForCondition(ns, 'badres', 'Degraded', 'True', 'ReconcileError');
  assert.match(condition(badRes, 'Degraded')!.message, /must be less than or equal to cpu limit/);

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
