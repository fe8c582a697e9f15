// The operator keeps the world as the MateApp says, over its whole life:
// - a hand edit of a field it owns is reverted, a deleted object is recreated
//   (informers on the owned kinds, server-side apply with force);
// - a rotated Secret rolls the API pods (the hash of the values they read is
//   in their template);
// - deleting the MateApp removes everything: owner references for what is in
//   its namespace, the finalizer for the dashboards in Grafana's namespace;
// - an operator killed in the middle of a release is replaced by a new one
//   that resumes it: the same migration Job (no duplicate), then the rollout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  IMAGE_REPO,
  Scope,
  apiImageOf,
  apiStatus,
  apply,
  condition,
  core,
  createSecrets,
  ensureCrd,
  getMateApp,
  jobComplete,
  kubeConfig,
  kubectl,
  kubectlOk,
  kwokPool,
  mateApp,
  mateAppEvents,
  migrationJobs,
  namespace,
  operatorInProcess,
  operatorProcess,
  readDeployment,
  runHook,
  stopwatch,
  waitFor,
  waitForCondition,
} from './support.js';

async function getJson(ns: string, kind: string, name: string): Promise<Record<string, any> | undefined> {
  const r = await kubectl(['-n', ns, 'get', kind, name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Record<string, any>) : undefined;
}

test('hand edits of owned fields are reverted and deleted objects are recreated', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'heal');
  await createSecrets(ns);
  await operatorInProcess(scope, { namespace: ns });
  await apply(mateApp(ns, 'api'));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('Ready');

  // Edits by another field manager to fields the operator applies.
  await kubectlOk(['-n', ns, 'patch', 'hpa', 'api', '--type=merge', '-p', '{"spec":{"maxReplicas":3}}']);
  await kubectlOk(['-n', ns, 'patch', 'deployment', 'api', '--type=merge', '-p', '{"spec":{"progressDeadlineSeconds":1234}}']);
  await kubectlOk([
    '-n',
    ns,
    'patch',
    'ingress',
    'api',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/rules/0/host","value":"evil.example.com"}]',
  ]);
  await kubectlOk(['-n', ns, 'patch', 'networkpolicy', 'api', '--type=merge', '-p', '{"spec":{"ingress":[{}]}}']);
  await waitFor('the edits to be reverted', async () => {
    const hpa = await getJson(ns, 'hpa', 'api');
    const d = await getJson(ns, 'deployment', 'api');
    const ing = await getJson(ns, 'ingress', 'api');
    const np = await getJson(ns, 'networkpolicy', 'api');
    return hpa?.spec.maxReplicas === 10 &&
      d?.spec.progressDeadlineSeconds === 600 &&
      ing?.spec.rules[0].host === 'mate.example.com' &&
      np?.spec.ingress.length === 3
      ? true
      : undefined;
  });
  mark('edits reverted');

  // Deleted objects come back (new uid, same owner).
  const before: Record<string, string> = {};
  const kinds: [string, string][] = [
    ['networkpolicy', 'api'],
    ['service', 'api'],
    ['poddisruptionbudget', 'api'],
    ['configmap', 'api-dashboard-mate-fixture'],
    ['servicemonitor', 'api'],
  ];
  for (const [kind, name] of kinds) {
    before[kind] = (await getJson(ns, kind, name))?.metadata.uid;
    await kubectlOk(['-n', ns, 'delete', kind, name, '--wait=true']);
  }
  await waitFor('the deleted objects to be recreated', async () => {
    for (const [kind, name] of kinds) {
      const obj = await getJson(ns, kind, name);
      if (!obj || obj.metadata.uid === before[kind]) return undefined;
      if (obj.metadata.ownerReferences?.[0]?.kind !== 'MateApp') return undefined;
    }
    return true;
  });
  mark('deleted objects recreated');
  const app = await getMateApp(ns, 'api');
  assert.equal(condition(app, 'Ready')?.status, 'True');
});

test('a rotated Secret rolls the API pods of the same version, and the MateApp is Ready again', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'rotate');
  await createSecrets(ns);
  await operatorInProcess(scope, { namespace: ns });
  await apply(mateApp(ns, 'api'));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  const hash = (d: k8s.V1Deployment | undefined) => d?.spec?.template.metadata?.annotations?.[`${GROUP}/secrets-hash`];
  const before = hash(await readDeployment(ns, 'api'));
  assert.ok(before, 'the pod template has no secrets hash');

  // A new signing key first (README: add the new key, drop the old one later). Secrets are not
  // watched: the next reconcile (the resync, at the latest) sees it; here a hand edit brings it sooner.
  const keys = Buffer.from(`k2:${'y'.repeat(40)},k1:${'x'.repeat(40)}`).toString('base64');
  await kubectlOk(['-n', ns, 'patch', 'secret', 'mate-jwt', '--type=merge', '-p', JSON.stringify({ data: { keys } })]);
  await kubectlOk(['-n', ns, 'patch', 'hpa', 'api', '--type=merge', '-p', '{"spec":{"maxReplicas":3}}']);
  const rolled = await waitFor('the pods to roll for the new Secret value', async () => {
    const d = await readDeployment(ns, 'api');
    return hash(d) && hash(d) !== before ? d : undefined;
  });
  assert.equal(apiImageOf(rolled), `${IMAGE_REPO}:1.0.0`, 'the version changed with the Secret');
  const ready = await waitFor('the rollout to finish', async () => {
    const app = await getMateApp(ns, 'api');
    const d = await readDeployment(ns, 'api');
    return condition(app, 'Ready')?.status === 'True' && d?.status?.updatedReplicas === 2 && d.status.replicas === 2 ? d : undefined;
  });
  assert.equal(ready.status?.readyReplicas, 2);
});

test('deleting the MateApp removes everything, including its dashboards in another namespace (finalizer)', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'gone');
  const grafana = await namespace(scope, 'gone-grafana');
  await createSecrets(ns);
  await operatorInProcess(scope, { namespace: ns });
  await apply(mateApp(ns, 'api', { monitoring: { dashboards: { namespace: grafana } } }));
  const ready = await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('Ready');
  assert.ok(ready.metadata.finalizers?.includes(`${GROUP}/cleanup`), 'no finalizer for the dashboards in another namespace');
  const foreign = await core().listNamespacedConfigMap({ namespace: grafana, labelSelector: `${GROUP}/owner-name=api` });
  assert.equal(foreign.items.length, 1);
  assert.equal(foreign.items[0]?.metadata?.ownerReferences, undefined);
  assert.equal(foreign.items[0]?.metadata?.labels?.grafana_dashboard, '1');
  assert.equal(ready.status?.monitoring?.namespace, grafana);

  // The chart's pre-delete hook command: delete it and wait until the operator has finalized it.
  const hook = await runHook('delete-mateapp', { MATEAPP_NAMESPACE: ns, MATEAPP_NAME: 'api', WAIT_TIMEOUT_SECONDS: '60' });
  assert.equal(hook.code, 0, hook.output);
  assert.match(hook.output, /delete-mateapp: api deleted/);
  mark('MateApp deleted');
  const gone = async (kind: string, name: string) => (await kubectl(['-n', ns, 'get', kind, name])).code !== 0;
  await waitFor(
    'the owned objects to be garbage-collected',
    async () => {
      for (const [kind, name] of [
        ['deployment', 'api'],
        ['service', 'api'],
        ['ingress', 'api'],
        ['hpa', 'api'],
        ['pdb', 'api'],
        ['networkpolicy', 'api'],
        ['serviceaccount', 'api-api'],
        ['servicemonitor', 'api'],
        ['prometheusrule', 'api-alerts'],
      ] as const) {
        if (!(await gone(kind, name))) return undefined;
      }
      const jobs = await migrationJobs(ns, 'api');
      return jobs.length === 0 ? true : undefined;
    },
    60_000,
  );
  const left = await core().listNamespacedConfigMap({ namespace: grafana, labelSelector: `${GROUP}/owner-name=api` });
  assert.equal(left.items.length, 0, 'the dashboards in the other namespace were left behind');
  const events = await mateAppEvents(ns, 'api');
  assert.ok(
    events.some((e) => e.reason === 'Deleting'),
    `no Deleting event: ${JSON.stringify(events)}`,
  );
  mark('everything gone');
});

test('an operator killed mid-release is replaced and resumes it without a second migration Job', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 6000 });
  const ns = await namespace(scope, 'restart');
  await createSecrets(ns);
  const spec = { scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations } };
  const first = await operatorProcess(scope, { namespace: ns, name: 'first' });
  await apply(mateApp(ns, 'api', spec));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available', 90_000);
  mark('1.0.0 Ready');

  const v2 = `${IMAGE_REPO}:2.0.0`;
  await apply(mateApp(ns, 'api', { ...spec, image: v2 }));
  const migrationStarted = async () =>
    (await mateAppEvents(ns, 'api')).filter((e) => e.reason === 'MigrationStarted' && /2\.0\.0/.test(e.message));
  // The operator records MigrationStarted just after it creates the Job: kill it only once both exist.
  const job = await waitFor('the 2.0.0 migration Job and its MigrationStarted event', async () => {
    const found = (await migrationJobs(ns, 'api')).find((j) => j.metadata?.labels?.['app.kubernetes.io/version'] === '2.0.0');
    return found && (await migrationStarted()).length > 0 ? found : undefined;
  });
  assert.equal(jobComplete(job), false, 'the Job finished before the operator could be killed');
  assert.equal(await first.stop('SIGKILL'), 128);
  mark('operator killed while the migration runs');
  assert.equal(apiImageOf(await readDeployment(ns, 'api')), `${IMAGE_REPO}:1.0.0`);

  await operatorProcess(scope, { namespace: ns, name: 'second' });
  const done = await waitFor(
    '2.0.0 Ready',
    async () => {
      const app = await getMateApp(ns, 'api');
      return app.status?.version === '2.0.0' && condition(app, 'Ready')?.status === 'True' ? app : undefined;
    },
    90_000,
  );
  mark('2.0.0 Ready under the second operator');
  assert.equal(done.status?.migration?.jobName, job.metadata?.name);
  const jobs = (await migrationJobs(ns, 'api')).filter((j) => j.metadata?.labels?.['app.kubernetes.io/version'] === '2.0.0');
  assert.equal(jobs.length, 1, 'a second migration Job was made');
  assert.equal(jobs[0]?.metadata?.uid, job.metadata?.uid, 'the migration Job was replaced');
  assert.equal((await migrationStarted()).length, 1, 'the second operator started the migration again');
  // The Lease changed hands: the second operator leads now.
  const lease = await kubeConfig()
    .makeApiClient(k8s.CoordinationV1Api)
    .readNamespacedLease({ name: 'mate-operator', namespace: ns })
    .catch((err: unknown) => {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    });
  assert.match(lease?.spec?.holderIdentity ?? '', /^second_/);
});
