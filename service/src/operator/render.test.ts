// The objects the operator renders, without a cluster (tests/operator/render-lint.test.ts
// puts the same objects through kube-score and the API server's admission).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAllYaml } from '@kubernetes/client-node';
import type * as k8s from '@kubernetes/client-node';
import { LABEL_MIGRATION_HASH, migrationHash, versionOf } from './names.js';
import { INGRESS_PATHS, apiEnv, deployment, filebeatConfig, ingress, migrationJob, networkPolicy, renderSupporting } from './render.js';
import { exampleApp } from './fixtures.js';
import { defaultMonitoringDir, loadMonitoringBundle } from './monitoring.js';
import { API_CONTAINER, API_JOB } from '../platform/observability/contract.js';

const spec = <T>(o: object) => (o as { spec: T }).spec;

describe('what a MateApp renders to', () => {
  it('a Deployment that rolls without unavailable pods, restricted, probed, draining within its grace period', () => {
    const d = deployment(exampleApp(), 'registry.example.com/mate/service:1.2.3');
    const s = d.spec!;
    assert.equal(s.replicas, undefined, 'the HPA owns the replica count');
    assert.deepEqual(s.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pod = s.template.spec!;
    const api = pod.containers.find((c) => c.name === 'api')!;
    assert.deepEqual(api.args, ['dist/main/api.js']);
    assert.equal(api.command, undefined, "the image's entrypoint (node) is kept");
    assert.equal(api.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(api.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(api.startupProbe?.httpGet?.path, '/healthz');
    assert.deepEqual(api.securityContext?.capabilities, { drop: ['ALL'] });
    assert.equal(api.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(api.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(
      api.volumeMounts?.map((m) => m.mountPath),
      ['/tmp', '/var/log/mate'],
    );
    // DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS < terminationGracePeriodSeconds.
    const env = Object.fromEntries(api.env!.map((e) => [e.name, e.value]));
    assert.ok((Number(env.DRAIN_DELAY_MS) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000 < pod.terminationGracePeriodSeconds!);
    assert.equal(s.template.metadata?.labels?.['app.kubernetes.io/version'], '1.2.3');
  });

  it('the API settings from the spec, and every secret by reference only', () => {
    const env = apiEnv(exampleApp(), 'registry.example.com/mate/service:1.2.3@sha256:' + 'a'.repeat(64));
    const byName = new Map(env.map((e) => [e.name, e]));
    assert.equal(byName.get('MATE_VERSION')?.value, '1.2.3', 'the version mate_build_info reports is the image tag');
    for (const [name, secret, key] of [
      ['DATABASE_URL', 'mate-database', 'url'],
      ['REDIS_URL', 'mate-redis', 'url'],
      ['SMTP_URL', 'mate-smtp', 'url'],
      ['JWT_KEYS', 'mate-jwt', 'keys'],
      ['ADMIN_PASSWORD', 'mate-admin', 'password'],
    ] as const) {
      assert.deepEqual(byName.get(name)?.valueFrom?.secretKeyRef, { name: secret, key }, name);
      assert.equal(byName.get(name)?.value, undefined);
    }
    assert.equal(byName.get('SERVICE_TIME_ZONE')?.value, 'Asia/Seoul');
    assert.equal(byName.get('PUBLIC_BASE_URL')?.value, 'https://mate.example.com');
    assert.equal(byName.get('LOG_FILE')?.value, '/var/log/mate/api.log');
    assert.equal(byName.get('KAKAO_CLIENT_ID')?.value, 'kakao-id');
    assert.equal(env.filter((e) => e.name === 'LOG_LEVEL').length, 1, 'extra env cannot override a managed setting');
  });

  it('a Filebeat native sidecar shipping the ECS log file to Logstash', () => {
    const d = deployment(exampleApp(), 'registry.example.com/mate/service:1.2.3');
    const fb = d.spec!.template.spec!.initContainers!.find((c) => c.name === 'filebeat')!;
    assert.equal(fb.restartPolicy, 'Always');
    assert.equal(fb.image, 'docker.elastic.co/beats/filebeat:7.17.29');
    assert.ok(d.spec!.template.metadata?.annotations?.['mate.example.com/config-hash']);
    const cfg = loadAllYaml(filebeatConfig(exampleApp()))[0] as Record<string, any>;
    const input = cfg['filebeat.inputs'][0];
    assert.equal(input.type, 'filestream');
    assert.deepEqual(input.paths, ['/var/log/mate/api.log', '/var/log/mate/api.log.1']);
    assert.equal(input.parsers[0].ndjson.target, '');
    assert.deepEqual(cfg['output.logstash'].hosts, ['logstash.mate-dev:5044']);
  });

  it('an Ingress for /api/v1 and the legacy /api and /file, with TLS', () => {
    const i = spec<{ rules: { host: string; http: { paths: { path: string }[] } }[]; tls: unknown[] }>(ingress(exampleApp()));
    assert.deepEqual(INGRESS_PATHS, ['/api/v1', '/api', '/file']);
    assert.deepEqual(
      i.rules[0]!.http.paths.map((p) => p.path),
      INGRESS_PATHS,
    );
    assert.deepEqual(i.tls, [{ hosts: ['mate.example.com'], secretName: 'mate-tls' }]);
  });

  it('a NetworkPolicy: in from the ingress controller, Prometheus and labelled clients; out to DNS and the dependency ports', () => {
    const np = spec<{ ingress: { from: unknown[] }[]; egress: { to?: unknown[]; ports: { port: number; protocol: string }[] }[] }>(
      networkPolicy(exampleApp()),
    );
    assert.equal(np.ingress.length, 3);
    assert.deepEqual(
      np.egress[0]!.ports.map((p) => `${p.protocol}/${p.port}`),
      ['UDP/53', 'TCP/53'],
    );
    assert.deepEqual(
      np.egress[1]!.ports.map((p) => p.port),
      [443, 587, 3306, 5044, 6379],
    );
    assert.deepEqual(np.egress[1]!.to, [{ ipBlock: { cidr: '10.0.0.0/16' } }]);
  });

  it("a NetworkPolicy with a dependency's own destinations: its port in a rule of its own; STS only when listed", () => {
    const app = exampleApp();
    app.spec.networkPolicy.dependencyEgressCIDRs = { s3: ['0.0.0.0/0'], sts: ['0.0.0.0/0'], redis: ['10.1.0.0/24'] };
    const egress = spec<{ egress: { to?: { ipBlock: { cidr: string } }[]; ports: { port: number }[] }[] }>(networkPolicy(app)).egress;
    const rules = egress.slice(1).map((r) => ({ to: r.to?.map((t) => t.ipBlock.cidr), ports: r.ports.map((p) => p.port) }));
    assert.deepEqual(rules, [
      { to: ['10.0.0.0/16'], ports: [587, 3306, 5044] },
      { to: ['10.1.0.0/24'], ports: [6379] },
      { to: ['0.0.0.0/0'], ports: [443] },
    ]);
    const withoutSts = exampleApp();
    withoutSts.spec.networkPolicy.dependencyEgressCIDRs = { database: ['10.2.0.0/24'] };
    const ports = spec<{ egress: { ports: { port: number }[] }[] }>(networkPolicy(withoutSts)).egress.flatMap((r) =>
      r.ports.map((p) => p.port),
    );
    assert.deepEqual(ports.filter((p) => p === 443).length, 1, 'only S3 on 443: STS is closed unless listed');
  });

  it('a Deployment whose pods carry the hash of the Secret values they read, when given', () => {
    const annotations = (secretsHash?: string) =>
      deployment(exampleApp(), 'registry.example.com/mate/service:1.2.3', { secretsHash }).spec?.template.metadata?.annotations ?? {};
    assert.equal(annotations('0123456789abcdef')['mate.example.com/secrets-hash'], '0123456789abcdef');
    assert.ok(!('mate.example.com/secrets-hash' in annotations()));
  });

  it('a Deployment paused while a dependency is down, not otherwise', () => {
    assert.equal(deployment(exampleApp(), 'registry.example.com/mate/service:1.2.3').spec?.paused, undefined);
    assert.equal(deployment(exampleApp(), 'registry.example.com/mate/service:1.2.3', { paused: true }).spec?.paused, true);
  });

  it('a migration Job named after a hash of the image and the migration settings', () => {
    const app = exampleApp();
    const image = 'registry.example.com/mate/service:1.2.3';
    const hash = migrationHash(app.spec, image);
    assert.match(hash, /^[0-9a-f]{10}$/);
    assert.notEqual(migrationHash(app.spec, 'registry.example.com/mate/service:1.2.4'), hash);
    assert.notEqual(
      migrationHash({ ...app.spec, database: { ...app.spec.database, urlSecretRef: { name: 'other', key: 'url' } } }, image),
      hash,
    );
    assert.equal(migrationHash({ ...app.spec, replicas: { min: 5, max: 9, targetCPUUtilizationPercentage: 50 } }, image), hash);
    const job = migrationJob(app, image, hash);
    assert.equal(job.metadata.name, `mate-migrate-${hash}`);
    assert.deepEqual(job.spec!.template.spec!.containers[0]!.args, ['dist/main/migrate.js']);
    assert.equal(job.spec!.template.spec!.restartPolicy, 'Never');
  });

  it("the migration's own database account, when given: the Job reads it, the API never does", () => {
    const app = exampleApp();
    const image = 'registry.example.com/mate/service:1.2.3';
    const dbUrl = (env: k8s.V1EnvVar[] | undefined) => env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    const shared = migrationJob(app, image, migrationHash(app.spec, image));
    assert.deepEqual(dbUrl(shared.spec!.template.spec!.containers[0]!.env), { name: 'mate-database', key: 'url' });

    app.spec.database.migrationUrlSecretRef = { name: 'mate-database-migrator', key: 'url' };
    const hash = migrationHash(app.spec, image);
    assert.notEqual(hash, shared.metadata.labels?.[LABEL_MIGRATION_HASH], 'a new account is a new migration');
    const job = migrationJob(app, image, hash);
    assert.deepEqual(dbUrl(job.spec!.template.spec!.containers[0]!.env), { name: 'mate-database-migrator', key: 'url' });
    const api = deployment(app, image).spec!.template.spec!.containers[0]!;
    assert.deepEqual(dbUrl(api.env), { name: 'mate-database', key: 'url' });
    assert.doesNotMatch(JSON.stringify(deployment(app, image)), /mate-database-migrator/, 'the API pods can read the migrator account');
  });

  it('everything else, each with a controller owner reference', () => {
    const app = exampleApp();
    const bundle = {
      dir: '/x',
      dashboards: [{ uid: 'mate-overview', file: 'mate-overview.json', json: '{}' }],
      ruleSpec: { groups: [] },
      problems: [],
    };
    const objs = renderSupporting(app, { rushHour: false, minReplicas: 2, maxReplicas: 10 }, bundle, true);
    assert.deepEqual(
      objs.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'ServiceAccount/mate-api',
        'ConfigMap/mate-filebeat',
        'Service/mate',
        'Ingress/mate',
        'PodDisruptionBudget/mate',
        'HorizontalPodAutoscaler/mate',
        'NetworkPolicy/mate',
        'ServiceMonitor/mate',
        'PrometheusRule/mate-alerts',
        'ConfigMap/mate-dashboard-mate-overview',
      ],
    );
    for (const o of objs) assert.equal(o.metadata.ownerReferences?.[0]?.controller, true, `${o.kind} has no controller reference`);
    const without = renderSupporting(app, { rushHour: false, minReplicas: 2, maxReplicas: 10 }, bundle, false);
    assert.ok(!without.some((o) => o.apiVersion.startsWith('monitoring.coreos.com')), 'monitoring objects without their CRDs');
  });

  it('a ServiceMonitor whose targets carry the job and container every shipped alert and panel selects', () => {
    const app = exampleApp();
    const bundle = loadMonitoringBundle(defaultMonitoringDir({}));
    assert.deepEqual(bundle.problems, []);
    const objs = renderSupporting(app, { rushHour: false, minReplicas: 2, maxReplicas: 10 }, bundle, true);
    const service = objs.find((o) => o.kind === 'Service')!;
    type Endpoint = {
      port: string;
      relabelings?: Array<{ action?: string; sourceLabels?: string[]; targetLabel: string; replacement?: string }>;
    };
    const sm = spec<{ jobLabel?: string; selector: { matchLabels: Record<string, string> }; endpoints: Endpoint[] }>(
      objs.find((o) => o.kind === 'ServiceMonitor')!,
    );
    // The Prometheus Operator's job: the Service's name, or the value of its jobLabel label; then the endpoint's relabelings.
    const labels = service.metadata.labels ?? {};
    let job = sm.jobLabel ? labels[sm.jobLabel] : service.metadata.name;
    for (const r of sm.endpoints[0]!.relabelings ?? [])
      if (r.targetLabel === 'job' && (r.action ?? 'replace') === 'replace' && !r.sourceLabels?.length) job = r.replacement;
    assert.equal(job, API_JOB);
    for (const [k, v] of Object.entries(sm.selector.matchLabels)) assert.equal(labels[k], v, 'the ServiceMonitor selects the Service');
    const ports = spec<{ ports: Array<{ name: string; targetPort: string }> }>(service).ports;
    assert.ok(
      ports.some((p) => p.name === sm.endpoints[0]!.port),
      'the scraped port is a port of the Service',
    );
    const pod = deployment(app, 'registry.example.com/mate/service:1.2.3').spec!.template.spec!;
    assert.ok(pod.containers.some((c) => c.name === API_CONTAINER && c.ports?.some((p) => p.name === ports[0]!.targetPort)));

    // Every job and container the shipped rules and dashboards select on.
    const shipped = JSON.stringify(bundle.ruleSpec) + bundle.dashboards.map((d) => d.json).join('');
    const selected = (label: string) =>
      new Set([...shipped.matchAll(new RegExp(`\\b${label}=\\\\?"([^"\\\\]+)\\\\?"`, 'g'))].map((m) => m[1]));
    assert.deepEqual([...selected('job')], [API_JOB]);
    assert.deepEqual([...selected('container')], [API_CONTAINER]);
  });

  it('an image pinned by digest in the Deployment and the Job as given; its tag names the version', () => {
    const image = `registry.example.com/mate/service:1.2.3@sha256:${'b'.repeat(64)}`;
    const d = deployment(exampleApp(), image);
    assert.equal(d.spec!.template.spec!.containers.find((c) => c.name === 'api')!.image, image);
    assert.equal(d.spec!.template.metadata?.labels?.['app.kubernetes.io/version'], '1.2.3');
    const job = migrationJob(exampleApp(), image, migrationHash(exampleApp().spec, image));
    assert.equal(job.spec!.template.spec!.containers[0]!.image, image);
    assert.equal(versionOf(image), '1.2.3');
  });

  it('knows the version an image names', () => {
    assert.equal(versionOf('registry.example.com:5000/mate/service:1.2.3'), '1.2.3');
    assert.equal(versionOf(`registry.example.com/mate/service@sha256:${'a'.repeat(64)}`), 'sha256:aaaaaaaaaaaa');
    assert.equal(versionOf('localhost:5000/mate'), 'latest');
  });
});
