/**
 * The dashboards' and alerts' kube_* series from a real kube-state-metrics
 * (built from its Go module by scripts/k8s/tools.sh) watching the chart's real
 * pods on the real node, scraped by a real Prometheus with the shipped rules:
 * every panel of the rollout dashboard that reads kube-state-metrics shows
 * data for the release, MatePodRestarting stays quiet while the pods are
 * healthy, and fires with its runbook link once the API container of one pod
 * has restarted twice (its process stopped from inside, as a crash would).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { API_CONTAINER } from '../../dashboards/src/selectors.js';
import { containerIdOf, execInContainer, installChart, realNodeValues, releaseDependencies } from '../cluster/real-node.js';
import { kubeconfigPath, kubectlOk, tool } from '../cluster/support.js';
import { Scope, core, ensureCrd, namespace, stopwatch, tempDir } from '../operator/support.js';
import { NO_LOCAL_DATA } from './allow-list.js';
import { RULES_FILE, eventually, freePort, loadDashboards, panelQueries, renderGrafana, startPrometheus } from './support.js';

const RELEASE = 'mate';
const KSM_JOB = 'kube-state-metrics';

/** kube-state-metrics on loopback, reading only `namespace` with a ServiceAccount token that may list and watch its pods and Deployments. */
async function startKubeStateMetrics(scope: Scope, ns: string): Promise<string> {
  const sa = 'kube-state-metrics';
  const rbac = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: sa, namespace: ns },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
  ];
  await kubectlOk(['apply', '-f', '-'], rbac.map((d) => YAML.stringify(d)).join('---\n'));
  const token = (await kubectlOk(['-n', ns, 'create', 'token', sa, '--duration=1h'])).trim();
  const admin = YAML.parse(fs.readFileSync(kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: unknown }> };
  const config = path.join(tempDir(scope, 'mate-ksm-'), 'kubeconfig');
  fs.writeFileSync(
    config,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: admin.clusters[0]!.cluster }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: sa, context: { cluster: 'local', user: sa, namespace: ns } }],
      'current-context': sa,
    }),
    { mode: 0o600 },
  );
  const [port, telemetry] = [await freePort(), await freePort()];
  let log = '';
  const ksm = spawn(
    tool('kube-state-metrics'),
    [
      `--kubeconfig=${config}`,
      `--namespaces=${ns}`,
      '--resources=pods,deployments',
      '--host=127.0.0.1',
      `--port=${port}`,
      '--telemetry-host=127.0.0.1',
      `--telemetry-port=${telemetry}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  ksm.stderr.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-20_000)));
  scope.defer('stop kube-state-metrics', () => {
    ksm.kill('SIGTERM');
  });
  const address = `127.0.0.1:${port}`;
  await eventually(
    'kube-state-metrics to list the namespace',
    async () => {
      if (ksm.exitCode !== null) throw new Error(`kube-state-metrics exited:\n${log}`);
      const text = await fetch(`http://${address}/metrics`).then(
        (r) => (r.ok ? r.text() : ''),
        () => '',
      );
      return text.includes(`kube_deployment_spec_replicas{namespace="${ns}"`);
    },
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nkube-state-metrics' log:\n${log}`);
  });
  return address;
}

test('kube-state-metrics on the real node: the rollout panels show the release, MatePodRestarting fires on restarts', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'ksm');
  const deps = await releaseDependencies(scope, ns);
  await installChart(scope, ns, RELEASE, realNodeValues({ ...deps, api: { drainDelaySeconds: 0, shutdownTimeoutSeconds: 5 } }));
  mark('helm install');

  const ksm = await startKubeStateMetrics(scope, ns);
  const prom = await startPrometheus({ targets: [{ job: KSM_JOB, address: ksm }], ruleFiles: [RULES_FILE] });
  scope.defer('stop Prometheus', () => prom.close());
  mark('kube-state-metrics and Prometheus');

  // The rollout dashboard's kube-state-metrics panels, for this namespace.
  const ksmPanels = loadDashboards()
    .flatMap((d) => panelQueries(d))
    .filter((q) => NO_LOCAL_DATA[`${q.dashboard} / ${q.panel}`]);
  assert.ok(ksmPanels.length >= 4, `only ${ksmPanels.length} kube-state-metrics panel queries`);
  const forNamespace = (expr: string) => renderGrafana(expr, { keepVariables: true }).replace(/\$namespace\b/g, ns);
  const withData = new Set<string>();
  const sample = async () => {
    for (const q of ksmPanels) {
      const r = await prom.query(forNamespace(q.expr));
      assert.equal(r.status, 'success', `${q.panel}: ${r.error}`);
      if (r.data!.result.length) withData.add(q.panel);
    }
  };
  await eventually('the steady panels to show data', async () => (await sample(), withData.has('Deployment replicas')), 30_000);
  const alerts = async () =>
    (
      await prom.api<{ alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }> }>(
        '/api/v1/alerts',
      )
    ).data!.alerts.filter((a) => a.labels.alertname === 'MatePodRestarting');
  assert.deepEqual(await alerts(), [], 'MatePodRestarting while every pod is healthy');

  // One API container stops twice: the kubelet restarts it, then backs off (CrashLoopBackOff).
  const pod = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=api' })).items[0]!;
  const podName = pod.metadata!.name!;
  for (let restart = 1; restart <= 2; restart++) {
    const api = (await core().readNamespacedPod({ name: podName, namespace: ns })).status?.containerStatuses?.find(
      (c) => c.name === API_CONTAINER,
    );
    await execInContainer(containerIdOf(api), ['node', '-e', "process.kill(1, 'SIGTERM')"]);
    await eventually(
      `restart ${restart} of the API container`,
      async () => {
        await sample(); // while it waits to be started again too (Waiting containers)
        const s = (await core().readNamespacedPod({ name: podName, namespace: ns })).status?.containerStatuses?.find(
          (c) => c.name === API_CONTAINER,
        );
        return (s?.restartCount ?? 0) >= restart && s?.state?.running && s.ready;
      },
      90_000,
    );
  }
  mark('two restarts');

  const firing = await eventually(
    'MatePodRestarting to fire',
    async () => {
      await sample();
      return (await alerts()).find((a) => a.state === 'firing' && a.labels.pod === podName);
    },
    60_000,
  );
  mark('MatePodRestarting firing');
  assert.equal(firing.labels.namespace, ns);
  assert.equal(firing.labels.severity, 'warning');
  assert.match(firing.annotations.runbook_url!, /docs\/observability\.md#matepodrestarting$/);
  assert.match(firing.annotations.description!, new RegExp(`pod ${podName} \\(${ns}\\) restarted about [2-9] times`));
  const restarts = await prom.query(forNamespace(ksmPanels.find((q) => q.panel === 'API container restarts')!.expr));
  assert.ok(
    restarts.data!.result.some((s) => s.metric.pod === podName && Number(s.value[1]) >= 2),
    `the restarts panel: ${JSON.stringify(restarts.data?.result)}`,
  );
  // Waiting containers has data only during the kubelet's back-off, which may pass between two samples.
  for (const q of ksmPanels)
    if (q.panel !== 'Waiting containers') assert.ok(withData.has(q.panel), `no data for "${q.panel}" from kube-state-metrics`);
  t.diagnostic(`panels with data: ${[...withData].sort().join(', ')}`);
});
