// Two releases of the chart in one namespace, each with its operator (a
// process on that release's ServiceAccount and settings) and a monitoring
// bundle of its own: each operator reconciles only its release's MateApp
// (MATEAPP_SELECTOR, from the chart), so neither replaces the other's
// dashboards, and a new generation of one leaves the other's objects as they were.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  CHART_DIR,
  FIXTURE_MONITORING,
  Scope,
  chartOperatorEnv,
  core,
  createSecrets,
  ensureCrd,
  getMateApp,
  helm,
  helmOk,
  kwokPool,
  namespace,
  operatorProcess,
  serviceAccountKubeconfig,
  stopwatch,
  tempDir,
  waitForCondition,
  testOperatorValues,
} from './support.js';
import type { OperatorProcess } from './support.js';

const dashboardsOf = async (ns: string, app: string) =>
  (await core().listNamespacedConfigMap({ namespace: ns, labelSelector: `grafana_dashboard=1,app.kubernetes.io/instance=${app}` })).items
    .map((c) => ({ name: c.metadata!.name!, uid: c.metadata!.uid!, resourceVersion: c.metadata!.resourceVersion! }))
    .sort((a, b) => a.name.localeCompare(b.name));

/** The MateApps an operator's log says it reconciled or acted on. */
const actedOn = (op: OperatorProcess) => new Set(op.records().flatMap((r) => (typeof r.mateapp === 'string' ? [r.mateapp] : [])));

test('two releases in one namespace: each operator reconciles only its own MateApp', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const pool = await kwokPool(scope, { jobDelayMs: 500 });
  const ns = await namespace(scope, 'releases');
  await createSecrets(ns);
  const dir = tempDir(scope, 'mate-releases-');
  // beta's bundle: another dashboard (uid beta-fixture), the same rules.
  const betaBundle = path.join(dir, 'beta-monitoring');
  mkdirSync(betaBundle);
  writeFileSync(path.join(betaBundle, 'beta-fixture.json'), JSON.stringify({ uid: 'beta-fixture', title: 'beta', panels: [] }));
  copyFileSync(path.join(FIXTURE_MONITORING, 'prometheusrule.yaml'), path.join(betaBundle, 'prometheusrule.yaml'));

  const values = testOperatorValues(scope, pool);
  const operators: Record<string, OperatorProcess> = {};
  for (const [release, bundle] of [
    ['alpha', FIXTURE_MONITORING],
    ['beta', betaBundle],
  ] as const) {
    scope.defer(`helm uninstall ${release}`, () => helm(['uninstall', release, '-n', ns, '--wait', '--timeout=60s']));
    await helmOk(['install', release, CHART_DIR, '-n', ns, '-f', values, '--wait', '--timeout=120s']);
    const kubeconfig = await serviceAccountKubeconfig(scope, ns, `${release}-operator`);
    const env = { ...(await chartOperatorEnv(ns, `${release}-operator`)), MONITORING_DIR: bundle };
    operators[release] = await operatorProcess(scope, { namespace: ns, name: release, kubeconfig, env });
  }
  await waitForCondition(ns, 'alpha', 'Ready', 'True', 'Available', 120_000);
  await waitForCondition(ns, 'beta', 'Ready', 'True', 'Available', 120_000);
  mark('both Ready');

  const betaBefore = await dashboardsOf(ns, 'beta');
  assert.deepEqual(
    (await dashboardsOf(ns, 'alpha')).map((d) => d.name),
    ['alpha-dashboard-mate-fixture'],
  );
  assert.deepEqual(
    betaBefore.map((d) => d.name),
    ['beta-dashboard-beta-fixture'],
  );

  // A new generation of alpha: its operator reconciles it; beta's objects stay exactly as they were.
  const generation = (await getMateApp(ns, 'alpha')).metadata.generation!;
  await helmOk(['upgrade', 'alpha', CHART_DIR, '-n', ns, '--reuse-values', '--set', 'app.replicas.max=7']);
  await waitForCondition(ns, 'alpha', 'Ready', 'True', 'Available', 60_000);
  assert.ok((await getMateApp(ns, 'alpha')).metadata.generation! > generation);
  mark('alpha upgraded');
  assert.deepEqual(await dashboardsOf(ns, 'beta'), betaBefore, "beta's dashboards were rewritten");

  assert.deepEqual([...actedOn(operators.alpha!)], ['alpha'], 'the alpha operator acted on another MateApp');
  assert.deepEqual([...actedOn(operators.beta!)], ['beta'], 'the beta operator acted on another MateApp');
  for (const op of Object.values(operators))
    assert.deepEqual(
      op.lines.filter((l) => /forbidden/i.test(l)),
      [],
      `${op.name} hit RBAC refusals`,
    );
});
