// One owner per object, enforced by the API server: the chart's
// ValidatingAdmissionPolicy lets only the release's operator change or delete
// what it made. A user with the namespace's `edit` role cannot delete the API
// Deployment (a full outage until it was recreated) nor set its image (an
// unapproved ReplicaSet), while the operator, on the chart's ServiceAccount,
// still rolls a changed spec out; objects the operator did not make stay
// editable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHART_DIR,
  IMAGE_REPO,
  Scope,
  apiImageOf,
  chartOperatorEnv,
  createSecrets,
  ensureCrd,
  helm,
  helmOk,
  kubectl,
  kubectlOk,
  kwokPool,
  namespace,
  operatorProcess,
  readDeployment,
  serviceAccountKubeconfig,
  waitFor,
  waitForCondition,
  testOperatorValues,
} from './support.js';

test('only the operator may change or delete the objects it owns; a developer with edit rights is refused', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'admission');
  await createSecrets(ns);
  const values = testOperatorValues(scope, pool);
  scope.defer('helm uninstall', () => helm(['uninstall', 'mate', '-n', ns, '--wait', '--timeout=60s']));
  await helmOk(['install', 'mate', CHART_DIR, '-n', ns, '-f', values, '--wait', '--timeout=120s']);
  const operatorKubeconfig = await serviceAccountKubeconfig(scope, ns, 'mate-operator');
  await operatorProcess(scope, { namespace: ns, kubeconfig: operatorKubeconfig, env: await chartOperatorEnv(ns) });
  await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 120_000);
  const before = await readDeployment(ns, 'mate');

  // A developer: the built-in `edit` role in the namespace (which allows deleting Deployments).
  await kubectlOk(['-n', ns, 'create', 'serviceaccount', 'developer']);
  await kubectlOk(['-n', ns, 'create', 'rolebinding', 'developer-edit', '--clusterrole=edit', `--serviceaccount=${ns}:developer`]);
  const developer = await serviceAccountKubeconfig(scope, ns, 'developer');
  const asDeveloper = (args: string[]) => kubectl([`--kubeconfig=${developer}`, '-n', ns, ...args]);
  const allowed = await asDeveloper(['auth', 'can-i', 'delete', 'deployments']);
  assert.equal(allowed.stdout.trim(), 'yes', 'RBAC alone would let the developer delete the Deployment');

  // The policy is in force once the API server has loaded it: a dry run goes through admission too.
  const refusedDelete = await waitFor('the policy to refuse a delete of the Deployment', async () => {
    const r = await asDeveloper(['delete', 'deployment', 'mate', '--dry-run=server']);
    return r.code !== 0 ? r : undefined;
  });
  assert.match(
    refusedDelete.stderr,
    /mate-operator owns this object \(MateApp mate\).*system:serviceaccount:[\w-]+:developer may not delete it/,
  );
  const del = await asDeveloper(['delete', 'deployment', 'mate', '--wait=false']);
  assert.notEqual(del.code, 0, 'the Deployment was deleted by hand');
  const setImage = await asDeveloper(['set', 'image', 'deployment/mate', 'api=registry.example.com/unapproved/service:6.6.6']);
  assert.notEqual(setImage.code, 0, 'the image was set by hand');
  assert.match(setImage.stderr, /may not update it/);
  const after = await readDeployment(ns, 'mate');
  assert.equal(after?.metadata?.uid, before?.metadata?.uid, 'the Deployment was recreated');
  assert.equal(apiImageOf(after), `${IMAGE_REPO}:1.0.0`);
  assert.equal(after?.status?.readyReplicas, 2);

  // What the operator did not make stays the developer's to change.
  await asDeveloper(['create', 'configmap', 'notes', '--from-literal=a=b']);
  const own = await asDeveloper(['delete', 'configmap', 'notes']);
  assert.equal(own.code, 0, own.stderr);

  // The operator itself still applies a changed spec.
  await helmOk(['upgrade', 'mate', CHART_DIR, '-n', ns, '--reuse-values', '--set', 'app.rollout.progressDeadlineSeconds=700']);
  await waitFor('the operator to apply the new deadline', async () =>
    (await readDeployment(ns, 'mate'))?.spec?.progressDeadlineSeconds === 700 ? true : undefined,
  );
  await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 60_000);
});
