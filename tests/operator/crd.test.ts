// The MateApp CRD (k8s/crd/mateapp.yaml) on the real API server: one source
// (the chart's copy and values.schema.json are generated from it), a
// structural schema with defaults, validation that refuses bad MateApps
// before any operator sees them (image reference, min > max, missing Secret
// references, logging without Logstash hosts, name length, negative quantities,
// a request above its limit), the status subresource (and no scale
// subresource: spec.replicas.min has one writer, Helm) and the printer columns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chartCrd, crdSource, generated, repoRoot as genRoot } from '../../k8s/crd/generate.js';
import { CRD_FILE, GROUP, Scope, ensureCrd, getMateApp, kubectl, kubectlOk, mateApp, namespace } from './support.js';

test('the chart CRD, values.schema.json and the values table are generated from k8s/crd/mateapp.yaml and up to date', async () => {
  assert.equal(
    readFileSync(chartCrd, 'utf8'),
    readFileSync(crdSource, 'utf8'),
    'charts/mate/crds/mateapp.yaml differs from k8s/crd/mateapp.yaml',
  );
  assert.equal(crdSource, CRD_FILE);
  for (const { file, content } of await generated()) {
    assert.equal(
      readFileSync(file, 'utf8'),
      content,
      `${path.relative(genRoot, file)} is stale: run node --import tsx k8s/crd/generate.ts`,
    );
  }
});

test('the CRD is established with a status subresource, no scale subresource, and printer columns', async () => {
  await ensureCrd();
  const crd = JSON.parse(await kubectlOk(['get', 'crd', `mateapps.${GROUP}`, '-o', 'json'])) as {
    spec: {
      versions: {
        name: string;
        subresources?: { status?: object; scale?: Record<string, string> };
        additionalPrinterColumns?: { name: string; jsonPath: string }[];
      }[];
    };
    status: { conditions: { type: string; status: string }[]; acceptedNames: { shortNames?: string[] } };
  };
  const established = crd.status.conditions.find((c) => c.type === 'Established');
  assert.equal(established?.status, 'True');
  assert.equal(
    crd.status.conditions.find((c) => c.type === 'NonStructuralSchema'),
    undefined,
    'the schema is not structural',
  );
  const v = crd.spec.versions.find((x) => x.name === 'v1alpha1');
  assert.ok(v?.subresources?.status, 'no status subresource');
  assert.equal(v.subresources.scale, undefined, 'a scale subresource: a second writer of spec.replicas.min besides Helm');
  const columns = v.additionalPrinterColumns?.map((c) => c.name) ?? [];
  for (const c of ['Version', 'Ready', 'Reason', 'Replicas', 'Min', 'Max', 'Age']) assert.ok(columns.includes(c), `no ${c} column`);
  assert.deepEqual(crd.status.acceptedNames.shortNames, ['mate']);
});

test('the API server fills the defaults and refuses invalid MateApps', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'crd');

  const dryRun = async (obj: Record<string, unknown>) =>
    kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(obj));

  const ok = await dryRun(mateApp(ns, 'good'));
  assert.equal(ok.code, 0, ok.stderr);
  const defaulted = JSON.parse(ok.stdout) as { spec: Record<string, any> };
  assert.deepEqual(defaulted.spec.replicas, { min: 2, max: 10, targetCPUUtilizationPercentage: 70 });
  assert.equal(defaulted.spec.imagePullPolicy, 'Always');
  assert.equal(defaulted.spec.database.urlSecretRef.key, 'url');
  assert.equal(defaulted.spec.jwt.keysSecretRef.key, 'keys');
  assert.deepEqual(defaulted.spec.migration, {
    enabled: true,
    args: ['dist/main/migrate.js'],
    backoffLimit: 1,
    activeDeadlineSeconds: 900,
  });
  assert.equal(defaulted.spec.rollout.progressDeadlineSeconds, 600);
  assert.equal(defaulted.spec.rollout.autoRollback, true);
  assert.equal(defaulted.spec.serviceDay.timeZone, 'Asia/Seoul');
  assert.equal(defaulted.spec.ingress.className, 'nginx');
  assert.equal(defaulted.spec.logging.enabled, false);
  assert.equal(defaulted.spec.monitoring.dashboards.enabled, true);
  assert.equal(defaulted.spec.resources.limits.memory, '512Mi');
  // The rush window's defaults (commuteScaling given as {} here).
  const rush = await dryRun(mateApp(ns, 'rush', { commuteScaling: {} }));
  assert.equal(rush.code, 0, rush.stderr);
  const c = (JSON.parse(rush.stdout) as { spec: Record<string, any> }).spec.commuteScaling;
  assert.deepEqual(
    { enabled: c.enabled, timeZone: c.timeZone, start: c.start, end: c.end, minReplicas: c.minReplicas, days: c.days.length },
    { enabled: true, timeZone: 'Asia/Seoul', start: '06:30', end: '09:30', minReplicas: 4, days: 7 },
  );

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['an image without a tag', mateApp(ns, 'a', { image: 'registry.example.com/mate/service' }), /spec\.image/],
    ['an upper-case repository', mateApp(ns, 'b', { image: 'registry.example.com/Mate/Service:1.0.0' }), /spec\.image/],
    ['the latest tag', mateApp(ns, 'c', { image: 'registry.example.com/mate/service:latest' }), /pin a version/],
    ['a malformed digest', mateApp(ns, 'd', { image: 'registry.example.com/mate/service@sha256:abc' }), /spec\.image/],
    ['min > max replicas', mateApp(ns, 'e', { replicas: { min: 5, max: 3 } }), /replicas\.min must not exceed replicas\.max/],
    ['zero replicas', mateApp(ns, 'f', { replicas: { min: 0, max: 3 } }), /spec\.replicas\.min/],
    [
      'a rush floor above max',
      mateApp(ns, 'g', { replicas: { min: 2, max: 3 }, commuteScaling: { enabled: true, minReplicas: 5 } }),
      /must not exceed replicas\.max/,
    ],
    [
      'a rush window that ends before it starts',
      mateApp(ns, 'h', { commuteScaling: { enabled: true, start: '09:30', end: '06:30' } }),
      /must start before it ends/,
    ],
    ['logging without Logstash hosts', mateApp(ns, 'i', { logging: { enabled: true } }), /logstashHosts needs at least one/],
    ['an Ingress without a host', mateApp(ns, 'j', { ingress: { enabled: true } }), /ingress\.host is required/],
    ['a name over 40 characters', mateApp(ns, 'x'.repeat(41)), /at most 40 characters/],
    [
      'a negative CPU request',
      mateApp(ns, 'm', { resources: { requests: { cpu: '-100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } }),
      /spec\.resources\.requests\.cpu in body should match/,
    ],
    [
      'a negative integer memory limit',
      mateApp(ns, 'n', { resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: -1 } } }),
      /spec\.resources\.limits\.memory in body should be greater than or equal to 0/,
    ],
    [
      'a CPU request above its limit',
      mateApp(ns, 'o', { resources: { requests: { cpu: 2, memory: '256Mi' }, limits: { cpu: '1500m', memory: '512Mi' } } }),
      /spec\.resources\.requests\.cpu: Invalid value: .*requests\.cpu must not exceed limits\.cpu/,
    ],
    [
      "a Filebeat sidecar's memory request above its limit",
      mateApp(ns, 'p', {
        logging: {
          enabled: true,
          logstashHosts: ['logstash:5044'],
          resources: { requests: { cpu: '20m', memory: '1Gi' }, limits: { cpu: '200m', memory: '160Mi' } },
        },
      }),
      /spec\.logging\.resources\.requests\.memory: Invalid value: .*requests\.memory must not exceed limits\.memory/,
    ],
  ];
  const missingRef = mateApp(ns, 'k');
  delete (missingRef.spec as Record<string, unknown>).database;
  refused.push(['a missing database Secret reference', missingRef, /spec\.database: Required value/]);
  const emptyRef = mateApp(ns, 'l', { jwt: { keysSecretRef: {} } } as never);
  refused.push(['a Secret reference without a name', emptyRef, /spec\.jwt\.keysSecretRef\.name: Required value/]);

  for (const [what, obj, message] of refused) {
    const r = await dryRun(obj);
    assert.notEqual(r.code, 0, `${what} was accepted`);
    assert.match(r.stderr, message, `${what}: ${r.stderr}`);
  }
});

test('kubectl scale on a MateApp is refused: Helm is the one writer of spec.replicas.min', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'crd-scale');
  await kubectlOk(['apply', '--server-side', '-f', '-'], JSON.stringify(mateApp(ns, 'scaled', { replicas: { min: 2, max: 6 } })));
  const scaled = await kubectl(['-n', ns, 'scale', `mateapps.${GROUP}/scaled`, '--replicas=4']);
  assert.notEqual(scaled.code, 0, 'kubectl scale was accepted');
  assert.match(scaled.stderr, /could not find the requested resource|not found/i);
  assert.equal((await getMateApp(ns, 'scaled')).spec.replicas.min, 2);
});
