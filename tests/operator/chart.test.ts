// The chart (charts/mate): helm lint --strict and kube-score are clean,
// values.schema.json refuses bad values, every value is documented, and
// `helm install` into a namespace that enforces the restricted Pod Security
// Standard gives a Ready MateApp once the operator (here a process using the
// chart's own ServiceAccount token, so its RBAC is what is tested) reconciles
// it: every owned object exists with an owner reference, the API Deployment
// is Available, status Ready for the current generation, and `helm test`
// passes (kwok completes the test pod our stages select).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { valueRows } from '../../k8s/crd/generate.js';
import {
  CHART_DIR,
  GROUP,
  IMAGE_REPO,
  Scope,
  apps,
  condition,
  core,
  createSecrets,
  ensureCrd,
  getMateApp,
  helm,
  helmOk,
  kubectlOk,
  kwokPool,
  namespace,
  operatorProcess,
  run,
  runHook,
  serviceAccountKubeconfig,
  stopwatch,
  tempDir,
  tool,
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
  ];
  for (const [arg, message] of bad) {
    const r = await run(tool('helm'), ['template', 'mate', CHART_DIR, arg]);
    assert.notEqual(r.code, 0, `${arg} was accepted`);
    assert.match(r.stderr, message, `${arg}: ${r.stderr}`);
  }
});

test('every value in values.yaml is documented, and the README table lists them all', () => {
  const rows = valueRows();
  assert.ok(rows.length > 100, `only ${rows.length} values found`);
  const undocumented = rows.filter((r) => !r.description).map((r) => r.key);
  assert.deepEqual(undocumented, [], 'values without a "# -- " comment');
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
    operator: { replicas: 2 },
    app: {
      commuteScaling: { enabled: false },
      scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
    },
    test: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations },
  };
  const valuesFile = path.join(tempDir(scope, 'mate-values-'), 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  scope.defer('helm uninstall', () => helm(['uninstall', 'mate', '-n', ns, '--wait', '--timeout=60s']));
  const install = await helmOk(['install', 'mate', CHART_DIR, '-n', ns, '-f', valuesFile, '--wait', '--timeout=120s']);
  mark('helm install --wait');
  assert.match(install, /STATUS: deployed/);
  assert.match(install, /MATE 1\.0\.0 is being installed as MateApp mate/, 'NOTES.txt was not rendered');

  // The chart's operator pods were admitted under the restricted standard
  // (kwok runs them: no process). The real operator runs here, as the chart's
  // ServiceAccount, so every API call goes through the chart's Roles.
  const operatorPods = await core().listNamespacedPod({
    namespace: ns,
    labelSelector: 'app.kubernetes.io/name=mate-operator,app.kubernetes.io/component=operator',
  });
  assert.equal(operatorPods.items.length, 2);
  for (const p of operatorPods.items) assert.equal(p.status?.phase, 'Running');
  const kubeconfig = await serviceAccountKubeconfig(scope, ns, 'mate-operator');
  const op = await operatorProcess(scope, { namespace: ns, kubeconfig, env: { LEADER_ELECTION_ID: 'mate-operator' } });

  mark('operator started');
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

  // The post-install hook's command, for real this time (on kwok the hook Job's pod is a fake).
  const hook = await runHook('wait-ready', { MATEAPP_NAMESPACE: ns, MATEAPP_NAME: 'mate', MATEAPP_IMAGE: `${IMAGE_REPO}:1.0.0` });
  assert.equal(hook.code, 0, hook.output);
  assert.match(hook.output, /wait-ready: mate runs 1\.0\.0/);

  // helm test: the pod is admitted (restricted), lands on the pool, and kwok completes it.
  const helmTest = await helm(['test', 'mate', '-n', ns, '--timeout=90s']);
  mark('helm test');
  assert.equal(helmTest.code, 0, helmTest.stdout + helmTest.stderr);
  assert.match(helmTest.stdout, /TEST SUITE:\s+mate-test-readyz[\s\S]*Phase:\s+Succeeded/);
  const testPod = await core().readNamespacedPod({ name: 'mate-test-readyz', namespace: ns });
  assert.equal(testPod.metadata?.labels?.['mate.example.com/api-client'], 'true', 'the test pod is not an allowed API client');
  assert.match(testPod.spec?.containers[0]?.args?.join(' ') ?? '', /http:\/\/mate\.[\w-]+\.svc\/readyz/);

  // The operator's own metrics, and no RBAC refusal in its log.
  assert.equal(await op.metric('mate_operator_leader'), 1);
  assert.ok(((await op.metric('mate_operator_reconcile_total', { result: 'success' })) ?? 0) > 0);
  assert.ok(((await op.metric('mate_operator_reconcile_duration_seconds_count')) ?? 0) > 0);
  const forbidden = op.lines.filter((l) => /forbidden/i.test(l));
  assert.deepEqual(forbidden, [], 'the operator hit RBAC refusals');
  const lease = JSON.parse(await kubectlOk(['-n', ns, 'get', 'lease', 'mate-operator', '-o', 'json'])) as {
    spec: { holderIdentity: string };
  };
  assert.match(lease.spec.holderIdentity, new RegExp(`^${op.name}_`));
  assert.equal((await getMateApp(ns, 'mate')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
});
