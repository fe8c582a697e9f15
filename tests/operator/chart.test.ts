// The chart (charts/mate): helm lint --strict and kube-score are clean,
// values.schema.json refuses bad values, image.digest pins every MATE
// container to repository:tag@digest, every value is documented, and
// `helm install` into a namespace that enforces the restricted Pod Security
// Standard gives a Ready MateApp once the operator (here a process using the
// chart's own ServiceAccount token, so its RBAC is what is tested) reconciles
// it: every owned object exists with an owner reference, the API Deployment
// is Available, status Ready for the current generation, and `helm test`
// passes (kwok completes the test pod our stages select). The release hooks'
// pods run their real command as their own ServiceAccounts (hookPodRunner):
// wait-ready lets the install finish, delete-mateapp the uninstall. The operator reads
// the owned objects from its informers (a new generation costs no LIST), is
// ready once synced, and owns its Lease through its Deployment; `helm
// uninstall` then leaves nothing of the release in the namespace.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { valueRows } from '../../k8s/crd/generate.js';
import {
  CHART_DIR,
  FAILING_MIGRATION_SUFFIX,
  GROUP,
  IMAGE_REPO,
  Scope,
  apps,
  chartOperatorEnv,
  condition,
  core,
  SECRET_NAMES,
  createSecrets,
  ensureCrd,
  getMateApp,
  helm,
  helmOk,
  hookPodRunner,
  kubectl,
  kubectlOk,
  kwokPool,
  namespace,
  operatorProcess,
  run,
  serviceAccountKubeconfig,
  stopwatch,
  tempDir,
  tool,
  waitFor,
  waitForCondition,
} from './support.js';

const KUBE_SCORE_ARGS = [
  'score',
  '--output-format=ci',
  '--exit-one-on-warning',
  '--enable-optional-test=container-seccomp-profile',
  '--enable-optional-test=container-ports-check',
];

test('helm lint --strict and kube-score are clean on the chart, with default and with every option on', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mate-chart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lint = await run(tool('helm'), ['lint', '--strict', CHART_DIR]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);
  assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);

  const variants: Record<string, string[]> = {
    defaults: [],
    everything: [
      '--set=app.logging.enabled=true',
      '--set=app.logging.logstashHosts={logstash.mate-dev:5044}',
      '--set=app.ingress.tlsSecretName=mate-tls',
      '--set=app.monitoring.dashboards.namespace=monitoring',
      '--set=operator.extraWatchNamespaces={mate-b}',
      '--set=devSecrets.create=true',
      '--set=devSecrets.databaseUrl=mysql://mate:mate@mysql:3306/mate',
      '--set=devSecrets.redisUrl=redis://redis:6379',
      '--set=devSecrets.smtpUrl=smtp://mail:587',
      `--set=devSecrets.jwtKeys=k1:${'x'.repeat(32)}`,
    ],
    clusterWide: ['--set=operator.clusterWide=true'],
  };
  for (const [name, args] of Object.entries(variants)) {
    const r = await run(tool('helm'), ['template', 'mate', CHART_DIR, '--namespace', 'mate', ...args]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, r.stdout);
    const score = await run(tool('kube-score'), [...KUBE_SCORE_ARGS, file]);
    const findings = score.stdout.split('\n').filter((l) => /^\[(CRITICAL|WARNING)\]/.test(l));
    assert.deepEqual(findings, [], `${name}: kube-score findings:\n${findings.join('\n')}`);
    assert.equal(score.code, 0, score.stdout);
    if (name === 'everything') {
      assert.match(r.stdout, /kind: Role\n[\s\S]*?namespace: monitoring/, 'no Role for the dashboards namespace');
      assert.match(r.stdout, /kind: Secret/);
    }
    if (name === 'clusterWide') assert.match(r.stdout, /kind: ClusterRole\n/);
  }
});

test('values.schema.json refuses bad values before anything reaches the cluster', async () => {
  const bad: [string, RegExp][] = [
    ['--set=app.replicas.min=0', /replicas\/min/],
    ['--set=app.replicaz.min=1', /additional properties 'replicaz'/],
    ['--set=image.tag=latest', /image\/tag/],
    ['--set=app.api.logLevel=loud', /api\/logLevel/],
    ['--set=app.database.urlSecretRef.name=', /urlSecretRef\/name/],
    ['--set=operator.replicas=-1', /operator\/replicas/],
    // Negative quantities: the API server would refuse the pods, so Helm must not make a revision.
    ['--set-string=app.resources.requests.cpu=-100m', /app\/resources\/requests\/cpu/],
    ['--set=app.logging.resources.limits.memory=-1', /app\/logging\/resources\/limits\/memory/],
    ['--set-string=operator.resources.requests.cpu=-1', /operator\/resources\/requests\/cpu/],
    ['--set=operator.resources.limits.memory=-5', /operator\/resources\/limits\/memory/],
  ];
  for (const [arg, message] of bad) {
    const r = await run(tool('helm'), ['template', 'mate', CHART_DIR, arg]);
    assert.notEqual(r.code, 0, `${arg} was accepted`);
    assert.match(r.stderr, message, `${arg}: ${r.stderr}`);
  }
});

test('image.digest: every MATE container, the MateApp and the wait hook name repository:tag@digest; the tag still names the version', async () => {
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const pinned = `registry.example.com/mate/service:1.2.3@${digest}`;
  const refs = (out: string) => out.match(/registry\.example\.com\/mate\/service[^\s"]*/g) ?? [];
  const r = await run(tool('helm'), ['template', 'mate', CHART_DIR, '--set', 'image.tag=1.2.3', '--set', `image.digest=${digest}`]);
  assert.equal(r.code, 0, r.stderr);
  // The MateApp's spec.image, the operator's container, the hook Jobs (and what wait-ready waits for), the test pod.
  assert.ok(refs(r.stdout).length >= 5, r.stdout);
  assert.deepEqual([...new Set(refs(r.stdout))], [pinned]);
  const app = parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as { kind?: string; spec?: { image?: string } })
    .find((o) => o?.kind === 'MateApp');
  assert.equal(app?.spec?.image, pinned);
  assert.match(r.stdout, /app\.kubernetes\.io\/version: "1\.2\.3"/);

  const byTag = await run(tool('helm'), ['template', 'mate', CHART_DIR, '--set', 'image.tag=1.2.3']);
  assert.deepEqual([...new Set(refs(byTag.stdout))], ['registry.example.com/mate/service:1.2.3'], 'a digest without image.digest');
  for (const bad of ['abc', 'sha256:xyz', `sha512:${'a'.repeat(128)}`, `@${digest}`]) {
    const refused = await run(tool('helm'), ['template', 'mate', CHART_DIR, '--set-string', `image.digest=${bad}`]);
    assert.notEqual(refused.code, 0, `image.digest=${bad} was accepted`);
    assert.match(refused.stderr, /image\/digest/);
  }
});

test("the operator's ServiceMonitor only where the Prometheus Operator's API is served", async () => {
  const monitors = async (...args: string[]) => {
    const r = await run(tool('helm'), ['template', 'mate', CHART_DIR, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return (r.stdout.match(/^kind: ServiceMonitor$/gm) ?? []).length;
  };
  assert.equal(await monitors(), 0, 'a ServiceMonitor for a cluster that cannot take one');
  assert.equal(await monitors('--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor'), 1);
  assert.equal(
    await monitors('--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor', '--set', 'operator.serviceMonitor.enabled=false'),
    0,
  );
});

test('every value in values.yaml is documented, every key of the schema is in values.yaml, and the README table lists them all', () => {
  const rows = valueRows();
  assert.ok(rows.length > 100, `only ${rows.length} values found`);
  const undocumented = rows.filter((r) => !r.description).map((r) => r.key);
  assert.deepEqual(undocumented, [], 'values without a "# -- " comment');
  // And every key the schema (so the CRD) takes is in values.yaml, so in the README table.
  type Node = { properties?: Record<string, Node> };
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const missing: string[] = [];
  const walk = (schema: Node, prefix: string) => {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const row = byKey.get(prefix + key);
      if (!row) missing.push(prefix + key);
      else if (!row.leaf) walk(child, `${prefix}${key}.`);
    }
  };
  walk(JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as Node, '');
  assert.deepEqual(missing, [], 'keys the schema takes that values.yaml and the README do not mention');
});

test('helm install in a restricted namespace: the operator (with the chart RBAC) makes a Ready MateApp, helm test passes', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  scope.defer('timing', () => mark('cleanup'));
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  mark('kwok pool');
  const ns = await namespace(scope, 'chart');
  await createSecrets(ns);
  const values = {
    image: { repository: IMAGE_REPO, tag: '1.0.0' },
    operator: { replicas: 2, nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    app: {
      commuteScaling: { enabled: false },
      scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    },
    test: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
  };
  const valuesFile = path.join(tempDir(scope, 'mate-values-'), 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  // The release hooks run their real command, as their own ServiceAccounts, while Helm waits on them.
  const hookRuns = hookPodRunner(scope, ns);
  scope.defer('helm uninstall', () => helm(['uninstall', 'mate', '-n', ns, '--wait', '--timeout=60s']));
  const installing = helm(['install', 'mate', CHART_DIR, '-n', ns, '-f', valuesFile, '--wait', '--timeout=120s']);

  // The chart's operator pods are admitted under the restricted standard
  // (kwok runs them: no process). The real operator runs here, as the chart's
  // ServiceAccount, so every API call goes through the chart's Roles.
  const operatorPods = await waitFor('the chart operator pods to run', async () => {
    const pods = await core().listNamespacedPod({
      namespace: ns,
      labelSelector: 'app.kubernetes.io/name=mate-operator,app.kubernetes.io/component=operator',
    });
    return pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running') ? pods : undefined;
  });
  assert.equal(operatorPods.items.length, 2);
  const kubeconfig = await serviceAccountKubeconfig(scope, ns, 'mate-operator');
  const op = await operatorProcess(scope, { namespace: ns, kubeconfig, env: await chartOperatorEnv(ns) });
  mark('operator started');
  const install = await installing;
  mark('helm install --wait');
  assert.equal(install.code, 0, install.stdout + install.stderr);
  assert.match(install.stdout, /STATUS: deployed/);
  assert.match(install.stdout, /MATE 1\.0\.0 is being installed as MateApp mate/, 'NOTES.txt was not rendered');
  // The control plane serves the Prometheus Operator's CRDs: the operator's ServiceMonitor is made.
  assert.doesNotMatch(install.stdout, /No ServiceMonitor for the operator/);
  await kubectlOk(['-n', ns, 'get', 'servicemonitor', 'mate-operator']);
  // The post-install hook's command ran for real (kwok does not complete it) and let Helm go on.
  assert.deepEqual(
    hookRuns.map((r) => `${r.command}: ${r.code}`),
    ['wait-ready: 0'],
  );
  assert.match(hookRuns[0]!.output, /wait-ready: mate runs 1\.0\.0/);

  const app = await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 120_000);
  mark('MateApp Ready');
  assert.equal(app.status?.observedGeneration, app.metadata.generation);
  for (const type of ['Ready', 'Progressing', 'Degraded', 'MigrationComplete']) {
    assert.equal(condition(app, type)?.observedGeneration, app.metadata.generation, `${type} is for an old generation`);
  }
  assert.equal(condition(app, 'Degraded')?.status, 'False');
  assert.equal(condition(app, 'MigrationComplete')?.status, 'True');
  assert.equal(app.status?.version, '1.0.0');
  assert.equal(app.status?.lastGoodVersion, '1.0.0');
  // Everything it owns is in its namespace: owner references suffice, no finalizer
  // (which would leave the MateApp stuck on `helm uninstall`, which removes the operator first).
  assert.ok(!app.metadata.finalizers?.includes(`${GROUP}/cleanup`), 'a finalizer with nothing to finalize');

  // Every owned object exists and is controlled by the MateApp.
  const owned: [string, string][] = [
    ['deployment', 'mate'],
    ['service', 'mate'],
    ['ingress', 'mate'],
    ['poddisruptionbudget', 'mate'],
    ['horizontalpodautoscaler', 'mate'],
    ['networkpolicy', 'mate'],
    ['serviceaccount', 'mate-api'],
    ['servicemonitor', 'mate'],
    ['prometheusrule', 'mate-alerts'],
    ['configmap', 'mate-dashboard-mate-fixture'],
    ['job', app.status?.migration?.jobName ?? 'no-job'],
  ];
  for (const [kind, name] of owned) {
    const obj = JSON.parse(await kubectlOk(['-n', ns, 'get', kind, name, '-o', 'json'])) as {
      metadata: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[] };
    };
    const ref = obj.metadata.ownerReferences?.find((r) => r.kind === 'MateApp');
    assert.ok(ref, `${kind}/${name} has no MateApp owner reference`);
    assert.equal(ref.uid, app.metadata.uid, `${kind}/${name} is owned by another MateApp`);
    assert.equal(ref.controller, true);
    assert.equal(ref.blockOwnerDeletion, true);
  }
  const dashboard = await core().readNamespacedConfigMap({ name: 'mate-dashboard-mate-fixture', namespace: ns });
  assert.equal(dashboard.metadata?.labels?.grafana_dashboard, '1');

  // The API Deployment is Available on the pool's nodes, restricted, rolled out.
  const d = await apps().readNamespacedDeployment({ name: 'mate', namespace: ns });
  assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  assert.equal(d.status?.readyReplicas, 2);
  assert.deepEqual({ ...d.spec?.strategy?.rollingUpdate }, { maxUnavailable: 0, maxSurge: 1 });
  const pods = await core().listNamespacedPod({
    namespace: ns,
    labelSelector: 'app.kubernetes.io/instance=mate,app.kubernetes.io/component=api',
  });
  assert.equal(pods.items.length, 2);
  for (const p of pods.items) {
    assert.equal(p.spec?.nodeSelector?.['mate.test/pool'], pool.id);
    assert.equal(p.spec?.securityContext?.runAsNonRoot, true);
    const c = p.spec?.containers.find((x) => x.name === 'api');
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(c?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.deepEqual(c?.args, ['dist/main/api.js']);
  }

  // helm test: the pod is admitted (restricted), lands on the pool, kwok completes it, and Helm deletes it.
  const testPod = await helmOk(['get', 'hooks', 'mate', '-n', ns]);
  assert.match(testPod, /mate\.example\.com\/api-client: "true"/, 'the test pod is not an allowed API client');
  assert.match(testPod, /http:\/\/mate\.[\w-]+\.svc\/readyz/);
  const helmTest = await helm(['test', 'mate', '-n', ns, '--timeout=90s']);
  mark('helm test');
  assert.equal(helmTest.code, 0, helmTest.stdout + helmTest.stderr);
  assert.match(helmTest.stdout, /TEST SUITE:\s+mate-test-readyz[\s\S]*Phase:\s+Succeeded/);
  await waitFor('helm to delete the test pod', async () =>
    (await kubectl(['-n', ns, 'get', 'pod', 'mate-test-readyz', '--ignore-not-found', '-o', 'name'])).stdout.trim() === ''
      ? true
      : undefined,
  );

  // The operator's own metrics, and no RBAC refusal in its log.
  assert.equal(await op.metric('mate_operator_leader'), 1);
  assert.ok(((await op.metric('mate_operator_reconcile_total', { result: 'success' })) ?? 0) > 0);
  assert.ok(((await op.metric('mate_operator_reconcile_duration_seconds_count')) ?? 0) > 0);
  const forbidden = op.lines.filter((l) => /forbidden/i.test(l));
  assert.deepEqual(forbidden, [], 'the operator hit RBAC refusals');
  const lease = JSON.parse(await kubectlOk(['-n', ns, 'get', 'lease', 'mate-operator', '-o', 'json'])) as {
    metadata: { ownerReferences?: { kind: string; name: string; uid: string }[] };
    spec: { holderIdentity: string };
  };
  assert.match(lease.spec.holderIdentity, new RegExp(`^${op.name}_`));
  const operatorDeployment = await apps().readNamespacedDeployment({ name: 'mate-operator', namespace: ns });
  assert.deepEqual(
    lease.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}/${r.uid}`),
    [`Deployment/mate-operator/${operatorDeployment.metadata?.uid}`],
    'the Lease is not owned by the operator Deployment',
  );
  assert.equal((await getMateApp(ns, 'mate')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.equal((await fetch(`${op.metricsUrl}/readyz`)).status, 200, 'the synced leader is not ready');
  assert.equal((await fetch(`${op.metricsUrl}/healthz`)).status, 200);

  // A new generation is reconciled from the informers' caches: no LIST beyond the informers' own.
  const lists = async () => (await op.metric('mate_operator_rest_client_requests_total', { verb: 'LIST' })) ?? 0;
  const listsBefore = await lists();
  assert.ok(listsBefore > 0, 'the informers made no LIST');
  const generation = (await getMateApp(ns, 'mate')).metadata.generation!;
  await helmOk([
    'upgrade',
    'mate',
    CHART_DIR,
    '-n',
    ns,
    '--reuse-values',
    '--set',
    'app.replicas.max=9',
    '--set',
    'hooks.waitReady.enabled=false',
  ]);
  const next = await waitForCondition(ns, 'mate', 'Ready', 'True', 'Available', 60_000);
  assert.ok(next.metadata.generation! > generation);
  assert.equal(await lists(), listsBefore, 'a reconcile LISTed from the API server instead of the informers');
  assert.ok(((await op.metric('mate_operator_workqueue_adds_total')) ?? 0) > 0);

  // Resources the cluster cannot run are refused before anything changes: a negative request by the
  // values schema (no revision at all), a request above its limit by the CRD (the upgrade fails at once).
  const revisions = async () => (JSON.parse(await helmOk(['history', 'mate', '-n', ns, '-o', 'json'])) as unknown[]).length;
  const before = await revisions();
  const upgrade = (...set: string[]) =>
    helm(['upgrade', 'mate', CHART_DIR, '-n', ns, '--reuse-values', ...set, '--wait', '--atomic', '--timeout=120s']);
  const negative = await upgrade('--set-string', 'app.resources.requests.cpu=-100m');
  assert.notEqual(negative.code, 0, 'a negative CPU request was accepted');
  assert.match(negative.stderr, /app\/resources\/requests\/cpu/);
  assert.equal(await revisions(), before, 'Helm made a revision for a negative CPU request');
  const aboveLimit = await upgrade('--set-string', 'app.resources.requests.cpu=2');
  assert.notEqual(aboveLimit.code, 0, 'a CPU request above its limit was accepted');
  assert.match(aboveLimit.stderr, /requests\.cpu must not exceed limits\.cpu/);
  assert.equal((await getMateApp(ns, 'mate')).spec.resources.requests.cpu, '100m', 'the MateApp was changed');
  mark('bad resources refused');

  // Uninstall leaves nothing of the release: the Lease goes with the operator's Deployment, hooks and the test pod are gone.
  await helmOk(['uninstall', 'mate', '-n', ns, '--wait', '--timeout=90s']);
  mark('helm uninstall');
  // The pre-delete hook deleted the MateApp for real, while the operator still ran.
  assert.deepEqual(
    hookRuns.map((r) => `${r.command}: ${r.code}`),
    ['wait-ready: 0', 'delete-mateapp: 0'],
  );
  await op.stop(); // the operator's pod would have gone with its Deployment
  const kinds =
    'all,serviceaccounts,roles,rolebindings,leases,configmaps,networkpolicies,poddisruptionbudgets,jobs,ingresses,mateapps,servicemonitors,prometheusrules';
  const expected = ['configmap/kube-root-ca.crt', 'serviceaccount/default', ...Object.values(SECRET_NAMES).map((n) => `secret/${n}`)];
  let left: string[] = [];
  await waitFor(
    'nothing of the release to be left',
    async () => {
      const names = (await kubectlOk(['-n', ns, 'get', `${kinds},secrets`, '-o', 'name'])).split('\n').filter(Boolean);
      left = names.map((n) => n.replace(/^([a-z]+)(\.[\w.]+)?\//, '$1/')).filter((n) => !expected.includes(n));
      return left.length === 0 ? true : undefined;
    },
    90_000,
  ).catch((err: unknown) => {
    throw new Error(`left after helm uninstall: ${left.join(', ')}`, { cause: err });
  });
  mark('nothing left');
});

test('a release hook that fails is deleted with its pod, ServiceAccount and Role (hook-failed): nothing for uninstall to miss', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'chart-hookfail');
  await createSecrets(ns);
  // Our kwok pool fails every Job pod of an image tagged -failmigration: here the wait hook's.
  const values = {
    image: { repository: IMAGE_REPO, tag: `1.0.0${FAILING_MIGRATION_SUFFIX}` },
    operator: { replicas: 0, nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    test: { enabled: false },
  };
  const valuesFile = path.join(tempDir(scope, 'mate-values-'), 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  // Without hooks: the pre-delete hook's pod would fail like the wait hook's (same image), the
  // uninstall with it, and the release's cluster-scoped admission policy would outlive the namespace.
  scope.defer('helm uninstall', () => helm(['uninstall', 'mate', '-n', ns, '--no-hooks', '--wait', '--timeout=60s']));
  const install = await helm(['install', 'mate', CHART_DIR, '-n', ns, '-f', valuesFile, '--wait', '--timeout=90s']);
  assert.notEqual(install.code, 0, 'the install succeeded although its hook failed');
  assert.match(install.stderr, /mate-operator-wait/);
  await waitFor('the failed hook and its pod to be gone', async () => {
    const left = await kubectlOk(['-n', ns, 'get', 'jobs,pods,serviceaccounts,roles,rolebindings', '-l', 'helm.sh/chart', '-o', 'name']);
    const hookPods = await kubectlOk(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=hook', '-o', 'name']);
    return `${left}${hookPods}`.includes('mate-operator-wait') || hookPods.trim() ? undefined : true;
  });
  // Uninstalled, nothing of the failed release is left, its cluster-scoped admission policy included.
  await helmOk(['uninstall', 'mate', '-n', ns, '--no-hooks', '--wait', '--timeout=60s']);
  const policies = await kubectlOk(['get', 'validatingadmissionpolicies,validatingadmissionpolicybindings', '-o', 'name']);
  assert.doesNotMatch(policies, new RegExp(`/${ns}-mate-operator`), 'the release’s admission policy outlived it');
});
