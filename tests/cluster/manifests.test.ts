// Every manifest in k8s/ is accepted by the real API server in a server-side
// dry-run apply (with the CRDs and namespaces it needs installed), the pods its
// workloads would create pass the namespaces' Pod Security admission, and
// kube-score finds nothing to fix (exceptions are `kube-score/ignore`
// annotations with a reason beside them in the manifest).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { apiMessage, deleteNamespace, kubeConfig, kubectl, kubectlOk, repoRoot, run, tool, waitFor } from './support.js';

type Obj = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};
interface Doc {
  file: string; // relative to the repo root
  obj: Obj;
}

const k8sDir = path.join(repoRoot, 'k8s');
/** API groups of tool configuration that lives in k8s/ but is not a cluster object. */
const CONFIG_GROUPS = new Set(['kind.x-k8s.io', 'kustomize.config.k8s.io', 'skaffold']);
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return yamlFiles(p);
      return /\.ya?ml$/.test(e.name) ? [p] : [];
    })
    .sort();
}

function load() {
  const objects: Doc[] = [];
  const configs: Doc[] = [];
  const values: Doc[] = [];
  for (const file of yamlFiles(k8sDir)) {
    const rel = path.relative(repoRoot, file);
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${rel} does not parse as YAML`);
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined) continue;
      assert.equal(typeof obj, 'object', `${rel}: a document that is not a mapping`);
      const o = obj as Obj;
      if (typeof o.apiVersion === 'string' && typeof o.kind === 'string') {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
        (CONFIG_GROUPS.has(group) ? configs : objects).push({ file: rel, obj: o });
      } else {
        values.push({ file: rel, obj: o });
      }
    }
  }
  return { objects, configs, values };
}

const byFile = (docs: Doc[]) => docs.reduce((m, d) => m.set(d.file, [...(m.get(d.file) ?? []), d.obj]), new Map<string, Obj[]>());
// JSON documents: a YAML 1.1 reader (kubectl, kube-score) cannot misread a
// re-serialized scalar such as `yes` as a boolean.
const toYaml = (objs: Obj[]) => objs.map((o) => JSON.stringify(o)).join('\n---\n');
const describe = (o: Obj) => `${o.kind}/${o.metadata?.name}`;

/** The Pod a workload would create, for a dry-run create through Pod Security admission. */
function podFor(o: Obj): k8s.V1Pod | undefined {
  const spec = o.spec as Record<string, unknown> | undefined;
  let template = spec?.template as k8s.V1PodTemplateSpec | undefined;
  if (o.kind === 'CronJob') {
    template = (spec?.jobTemplate as { spec?: { template?: k8s.V1PodTemplateSpec } } | undefined)?.spec?.template;
  }
  if (!template?.spec) return undefined;
  const podSpec: k8s.V1PodSpec = structuredClone(template.spec);
  const claims = (spec?.volumeClaimTemplates as k8s.V1PersistentVolumeClaim[] | undefined) ?? [];
  podSpec.volumes = [
    ...(podSpec.volumes ?? []),
    ...claims.map((c) => ({
      name: c.metadata?.name ?? 'data',
      persistentVolumeClaim: { claimName: `${c.metadata?.name}-${o.metadata?.name}-0` },
    })),
  ];
  return {
    metadata: { generateName: `${o.metadata?.name}-`, labels: template.metadata?.labels },
    spec: podSpec,
  };
}

/**
 * What the dry run needs for real gets per-run names, so that it neither collides with another run nor
 * removes what another test uses (the operator tests share the MateApp CRD): each CRD is installed
 * under its group prefixed with the run id, each namespace with the run id appended; objects in those
 * namespaces or of those groups are dry-run there.
 */
function perRun(objects: Doc[]) {
  const id = randomBytes(3).toString('hex');
  const crds = objects
    .filter((d) => d.obj.kind === 'CustomResourceDefinition')
    .map(({ obj }) => {
      const spec = obj.spec as { group: string; names: { plural: string } };
      const group = `${id}.${spec.group}`;
      return {
        from: spec.group,
        crd: { ...obj, metadata: { ...obj.metadata, name: `${spec.names.plural}.${group}` }, spec: { ...spec, group } },
      };
    });
  const namespaces = objects
    .filter((d) => d.obj.kind === 'Namespace')
    .map(({ obj }) => ({
      from: obj.metadata?.name ?? '',
      ns: { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata?.name}-${id}` } },
    }));
  const groups = new Map(crds.map((c) => [c.from, c.crd.spec.group]));
  const names = new Map(namespaces.map((n) => [n.from, n.ns.metadata.name]));
  const place = (o: Obj): Obj => {
    const [group, version] = o.apiVersion?.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    const ns = o.metadata?.namespace;
    return {
      ...o,
      apiVersion: groups.has(group!) ? `${groups.get(group!)}/${version}` : o.apiVersion,
      metadata: { ...o.metadata, ...(ns && names.has(ns) ? { namespace: names.get(ns) } : {}) },
    };
  };
  return { crds: crds.map((c) => c.crd), namespaces: namespaces.map((n) => n.ns), place };
}

test('every manifest in k8s/ is accepted by a server-side dry-run apply', async (t) => {
  const { objects } = load();
  assert.ok(objects.length > 0, 'k8s/ holds no Kubernetes manifests');
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const { crds, namespaces, place } = perRun(objects);

  // CRDs defined in k8s/ are installed for real (custom resources there need them, and only a real
  // install shows that the API server establishes them), under this run's group.
  t.after(async () => {
    for (const crd of crds) await kubectl(['delete', 'crd', crd.metadata?.name ?? '', '--ignore-not-found', '--wait=true']);
  });
  if (crds.length > 0) {
    await kubectlOk(['apply', '--server-side', '--field-manager=mate-manifest-test', '-f', '-'], toYaml(crds));
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((c) => `crd/${c.metadata?.name}`)]);
  }

  // Namespaces are created for real (with their Pod Security labels): a
  // dry-run cannot put objects into a namespace that does not exist.
  t.after(async () => {
    for (const ns of namespaces) await deleteNamespace(ns.metadata?.name ?? '');
  });
  for (const ns of namespaces) {
    const name = ns.metadata?.name ?? '';
    await kubectlOk(['apply', '--server-side', '--field-manager=mate-manifest-test', '-f', '-'], toYaml([ns]));
    await waitFor(`default ServiceAccount in ${name}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
  }

  for (const [file, objs] of byFile(objects)) {
    await t.test(file, async () => {
      // A dry run: whether the API server accepts the manifest, not who else manages the object
      // (the CRD, say, installed by the operator tests from an older checkout).
      const r = await kubectl(
        ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '--field-manager=mate-manifest-test', '-f', '-'],
        toYaml(objs.map(place)),
      );
      assert.equal(r.code, 0, `${file} was refused:\n${r.stderr}`);
      // Warnings include "would violate PodSecurity" for workloads.
      assert.doesNotMatch(r.stderr, /Warning:/, `${file} drew warnings:\n${r.stderr}`);
      for (const o of objs) assert.match(r.stdout, new RegExp(`${o.metadata?.name} serverside-applied \\(server dry run\\)`));
    });
  }

  // Pod Security is enforced on Pods, not on workloads: dry-run-create the pod
  // each workload would make, so the namespace's enforce level really applies.
  for (const { file, obj } of objects.filter((d) => WORKLOAD_KINDS.has(d.obj.kind ?? ''))) {
    await t.test(`${file}: ${describe(obj)}'s pods pass Pod Security admission`, async () => {
      const pod = podFor(obj);
      assert.ok(pod, `${describe(obj)} has no pod template`);
      const namespace = place(obj).metadata?.namespace ?? 'default';
      try {
        await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });
      } catch (err) {
        assert.fail(`${describe(obj)} in ${namespace}: ${apiMessage(err)}`);
      }
    });
  }
});

test('kube-score reports nothing on the manifests in k8s/', async (t) => {
  const { objects } = load();
  const dir = mkdtempSync(path.join(tmpdir(), 'mate-kube-score-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [...byFile(objects)].map(([file, objs]) => {
    const out = path.join(dir, file.replaceAll('/', '__'));
    writeFileSync(out, toYaml(objs));
    return out;
  });
  const kubeScore = tool('kube-score');
  // Default checks plus the optional seccomp and container-port ones (the
  // optional "requests equal limits" checks are left off: dev pods burst).
  const args = [
    'score',
    '--output-format=ci',
    '--exit-one-on-warning',
    '--enable-optional-test=container-seccomp-profile',
    '--enable-optional-test=container-ports-check',
  ];

  const r = await run(kubeScore, [...args, ...files]);
  const findings = r.stdout.split('\n').filter((l) => /^\[(CRITICAL|WARNING)\]/.test(l));
  assert.deepEqual(findings, [], `kube-score findings:\n${findings.join('\n')}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^\[OK\]/m, 'kube-score checked nothing');

  // Control: the same run flags a bare Deployment (no probes, limits, or
  // security context), so a clean result above means something.
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bad' },
      spec: {
        selector: { matchLabels: { app: 'bad' } },
        template: { metadata: { labels: { app: 'bad' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    }),
  );
  const control = await run(kubeScore, [...args, bad]);
  assert.notEqual(control.code, 0);
  assert.match(control.stdout, /^\[CRITICAL\] bad/m);
});

test('the kind cluster config has an ingress-ready node mapping ports 80 and 443', () => {
  const { configs } = load();
  const cluster = configs.find((d) => d.obj.kind === 'Cluster' && d.obj.apiVersion === 'kind.x-k8s.io/v1alpha4');
  assert.ok(cluster, 'no kind Cluster config in k8s/');
  assert.equal(cluster.file, path.join('k8s', 'kind', 'cluster.yaml'));
  const nodes = (cluster.obj.nodes ?? []) as {
    role?: string;
    labels?: Record<string, string>;
    extraPortMappings?: { containerPort?: number; hostPort?: number }[];
  }[];
  const ingress = nodes.find((n) => n.labels?.['ingress-ready'] === 'true');
  assert.ok(ingress, 'no node is labelled ingress-ready=true');
  const mapped = new Set(ingress.extraPortMappings?.map((m) => `${m.containerPort}:${m.hostPort}`));
  assert.ok(mapped.has('80:80') && mapped.has('443:443'), `port mappings: ${[...mapped].join(', ')}`);
});

test('the kube-prometheus-stack values enable the Grafana dashboard sidecar on grafana_dashboard=1', () => {
  const { values } = load();
  const kps = values.find((d) => d.file.endsWith('kube-prometheus-stack.values.yaml'));
  assert.ok(kps, 'no kube-prometheus-stack values file in k8s/');
  const grafana = kps.obj.grafana as { sidecar?: { dashboards?: Record<string, unknown> } } | undefined;
  const dashboards = grafana?.sidecar?.dashboards;
  assert.equal(dashboards?.enabled, true);
  assert.equal(dashboards?.label, 'grafana_dashboard');
  assert.equal(dashboards?.labelValue, '1');
  assert.match(readFileSync(path.join(repoRoot, kps.file), 'utf8'), /--version \d+\.\d+\.\d+/, 'chart version is not pinned');
});
