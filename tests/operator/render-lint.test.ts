// What the operator creates passes the same bar as the chart and k8s/:
// kube-score finds nothing in a full MateApp's objects (Filebeat sidecar,
// TLS Ingress, NetworkPolicy, HPA, PDB, migration Job), and the API server
// accepts each of them in a dry run, the pods of the Deployment and of the Job
// included, in a namespace that enforces the restricted Pod Security Standard,
// without a warning.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { exampleApp } from '../../service/src/operator/fixtures.js';
import { loadMonitoringBundle } from '../../service/src/operator/monitoring.js';
import { migrationHash } from '../../service/src/operator/names.js';
import { deployment, migrationJob, renderSupporting } from '../../service/src/operator/render.js';
import { FIXTURE_MONITORING, Scope, apiStatus, core, kubectl, namespace, run, tempDir, tool } from './support.js';

function rendered(ns: string) {
  const app = exampleApp();
  app.metadata.namespace = ns;
  const image = 'registry.example.com/mate/service:1.2.3';
  const supporting = renderSupporting(
    app,
    { rushHour: false, minReplicas: 2, maxReplicas: 10 },
    loadMonitoringBundle(FIXTURE_MONITORING),
    true,
  );
  return [...supporting, deployment(app, image), migrationJob(app, image, migrationHash(app.spec, image))];
}

test('kube-score reports nothing on what the operator renders for a full MateApp', async (t) => {
  const scope = new Scope(t);
  const file = path.join(tempDir(scope, 'mate-render-'), 'operator-output.yaml');
  writeFileSync(
    file,
    rendered('mate')
      .map((o) => JSON.stringify(o))
      .join('\n---\n'),
  );
  const r = await run(tool('kube-score'), [
    'score',
    '--output-format=ci',
    '--exit-one-on-warning',
    '--enable-optional-test=container-seccomp-profile',
    '--enable-optional-test=container-ports-check',
    file,
  ]);
  const findings = r.stdout.split('\n').filter((l) => /^\[(CRITICAL|WARNING)\]/.test(l));
  assert.deepEqual(findings, [], `kube-score findings:\n${findings.join('\n')}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const kind of ['Deployment', 'Job', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress', 'Service']) {
    assert.match(r.stdout, new RegExp(`^\\[OK\\] \\S+ (\\S+/)?${kind}$`, 'm'), `kube-score did not look at the ${kind}`);
  }
});

test('the API server accepts every rendered object, and their pods pass the restricted Pod Security Standard', async (t) => {
  const scope = new Scope(t);
  const ns = await namespace(scope, 'render');
  const objs = rendered(ns);
  // Owner references need a real owner: the dry run checks the objects themselves.
  for (const o of objs) delete o.metadata.ownerReferences;
  for (const o of objs) {
    const r = await kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=mate-operator', '-f', '-'], JSON.stringify(o));
    assert.equal(r.code, 0, `${o.kind}/${o.metadata.name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Warning:/, `${o.kind}/${o.metadata.name}: ${r.stderr}`);
  }
  // The pods' ServiceAccount must exist for the pods' dry run.
  const sa = objs.find((o) => o.kind === 'ServiceAccount')!;
  const created = await kubectl(['apply', '--server-side', '--field-manager=mate-operator', '-f', '-'], JSON.stringify(sa));
  assert.equal(created.code, 0, created.stderr);
  for (const o of objs.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    const template = (o.spec as { template: k8s.V1PodTemplateSpec }).template;
    try {
      await core().createNamespacedPod({
        namespace: ns,
        dryRun: 'All',
        body: { metadata: { generateName: `${o.metadata.name}-`, labels: template.metadata?.labels }, spec: template.spec! },
      });
    } catch (err) {
      assert.fail(
        `${o.kind}/${o.metadata.name}'s pod was refused (${apiStatus(err)}): ${err instanceof k8s.ApiException ? String(err.body) : String(err)}`,
      );
    }
  }
});
