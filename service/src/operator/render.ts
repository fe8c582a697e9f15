/**
 * The objects a MateApp wants, as pure functions of its spec: what the
 * reconciler applies with server-side apply. Nothing here talks to the API
 * server, so the output can be unit-tested and linted (kube-score) as is.
 */
import type * as k8s from '@kubernetes/client-node';
import { dumpYaml } from '@kubernetes/client-node';
import type { MonitoringBundle } from './monitoring.js';
import {
  ANNOTATION_CONFIG_HASH,
  ANNOTATION_SECRETS_HASH,
  ANNOTATION_SPEC_HASH,
  API_CONTAINER,
  API_PORT,
  LABEL_DASHBOARD,
  LABEL_MIGRATION_HASH,
  LABEL_OWNER_NAME,
  LABEL_OWNER_NAMESPACE,
  LABEL_VERSION,
  LOG_DIR,
  LOG_FILE,
  apiSelector,
  commonLabels,
  instanceSelector,
  labelValue,
  names,
  shortHash,
  versionOf,
} from './names.js';
import { API_JOB, API_PORT_NAME, LOG_DATASET, METRICS_PATH } from '../platform/observability/contract.js';
import type { ScalingDecision } from './schedule.js';
import type { KubeObject, MateApp, MateAppSpec, Resources } from './types.js';
import { API_VERSION, GROUP, KIND } from './types.js';

type Obj<T> = T & KubeObject;

export function ownerReference(app: MateApp): k8s.V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: app.metadata.name,
    uid: app.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function meta(app: MateApp, name: string, component: string, extra: Partial<k8s.V1ObjectMeta> = {}): KubeObject['metadata'] {
  return {
    name,
    namespace: app.metadata.namespace,
    ...extra,
    // The operator's own labels last: the informers find the owner by them.
    labels: { ...extra.labels, ...commonLabels(app, component) },
    ownerReferences: [ownerReference(app)],
  };
}

const resources = (r: Resources): k8s.V1ResourceRequirements => ({
  requests: Object.fromEntries(Object.entries(r.requests).map(([k, v]) => [k, String(v)])),
  limits: Object.fromEntries(Object.entries(r.limits).map(([k, v]) => [k, String(v)])),
});

const restrictedContainer = (spec: MateAppSpec): k8s.V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: spec.securityContext.runAsUser,
  runAsGroup: spec.securityContext.runAsGroup,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

const podSecurity = (spec: MateAppSpec): k8s.V1PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: spec.securityContext.runAsUser,
  runAsGroup: spec.securityContext.runAsGroup,
  fsGroup: spec.securityContext.runAsGroup,
  seccompProfile: { type: 'RuntimeDefault' },
});

const secretEnv = (name: string, ref: { name: string; key: string }): k8s.V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } },
});

/** The Secret key of the migration Job's DATABASE_URL. */
export const migrationDatabaseRef = (spec: MateAppSpec) => spec.database.migrationUrlSecretRef ?? spec.database.urlSecretRef;

/** Every Secret key the operator's pods read: the API's, and the migration's database URL when it has its own. */
export function referencedSecrets(spec: MateAppSpec): { env: string; name: string; key: string }[] {
  const migration = spec.database.migrationUrlSecretRef;
  return [...secretRefs(spec), ...(migration ? [{ env: 'DATABASE_URL of the migration', ...migration }] : [])];
}

/** Every Secret key the API reads, by the env var it becomes. */
export function secretRefs(spec: MateAppSpec): { env: string; name: string; key: string }[] {
  const refs = [
    { env: 'DATABASE_URL', ...spec.database.urlSecretRef },
    { env: 'REDIS_URL', ...spec.redis.urlSecretRef },
    { env: 'SMTP_URL', ...spec.smtp.urlSecretRef },
    { env: 'JWT_KEYS', ...spec.jwt.keysSecretRef },
  ];
  const s3 = spec.s3.credentialsSecretRef;
  if (s3) {
    refs.push({ env: 'S3_ACCESS_KEY_ID', name: s3.name, key: s3.accessKeyIdKey });
    refs.push({ env: 'S3_SECRET_ACCESS_KEY', name: s3.name, key: s3.secretAccessKeyKey });
  }
  const admin = spec.admin?.secretRef;
  if (admin) {
    refs.push({ env: 'ADMIN_LOGIN_ID', name: admin.name, key: admin.loginIdKey });
    refs.push({ env: 'ADMIN_EMAIL', name: admin.name, key: admin.emailKey });
    refs.push({ env: 'ADMIN_PASSWORD', name: admin.name, key: admin.passwordKey });
  }
  return refs;
}

/** The API container's environment for `image` (its tag is the version mate_build_info reports). */
export function apiEnv(app: MateApp, image: string): k8s.V1EnvVar[] {
  const spec = app.spec;
  const publicBaseUrl = spec.api.publicBaseUrl ?? (spec.ingress.enabled && spec.ingress.host ? `https://${spec.ingress.host}` : undefined);
  const plain: Record<string, string | undefined> = {
    MATE_MODE: 'production',
    MATE_VERSION: versionOf(image),
    PORT: String(API_PORT),
    HOST: '0.0.0.0',
    PUBLIC_BASE_URL: publicBaseUrl,
    LOG_LEVEL: spec.api.logLevel,
    LOG_FILE: spec.logging.enabled ? LOG_FILE : undefined,
    DATABASE_POOL_MAX: String(spec.database.poolMax),
    REDIS_KEY_PREFIX: spec.redis.keyPrefix,
    S3_BUCKET: spec.s3.bucket,
    S3_REGION: spec.s3.region,
    S3_ENDPOINT: spec.s3.endpoint,
    S3_FORCE_PATH_STYLE: String(spec.s3.forcePathStyle),
    MAIL_FROM: spec.smtp.from,
    JWT_ISSUER: spec.jwt.issuer,
    JWT_AUDIENCE: spec.jwt.audience,
    SERVICE_DAY_START_HOUR: String(spec.serviceDay.startHour),
    SERVICE_TIME_ZONE: spec.serviceDay.timeZone,
    CORS_ORIGINS: spec.api.corsOrigins?.length ? spec.api.corsOrigins.join(',') : undefined,
    TRUSTED_PROXIES: spec.api.trustedProxies?.length ? spec.api.trustedProxies.join(',') : undefined,
    DRAIN_DELAY_MS: String(spec.api.drainDelaySeconds * 1000),
    SHUTDOWN_TIMEOUT_MS: String(spec.api.shutdownTimeoutSeconds * 1000),
  };
  const env: k8s.V1EnvVar[] = [];
  for (const [name, value] of Object.entries(plain)) if (value !== undefined) env.push({ name, value });
  for (const ref of secretRefs(spec)) env.push(secretEnv(ref.env, ref));
  // Extra settings never override the ones the operator manages.
  const managed = new Set(env.map((e) => e.name));
  for (const e of spec.api.env ?? []) if (!managed.has(e.name)) env.push({ name: e.name, value: e.value });
  return env;
}

const scheduling = (spec: MateAppSpec): Partial<k8s.V1PodSpec> => ({
  ...(spec.scheduling.nodeSelector ? { nodeSelector: spec.scheduling.nodeSelector } : {}),
  ...(spec.scheduling.tolerations?.length ? { tolerations: spec.scheduling.tolerations } : {}),
  ...(spec.scheduling.priorityClassName ? { priorityClassName: spec.scheduling.priorityClassName } : {}),
  ...(spec.imagePullSecrets?.length ? { imagePullSecrets: spec.imagePullSecrets } : {}),
});

/**
 * The Filebeat sidecar's config, the only one (tests/observability/logs.test.ts
 * runs Filebeat on it). It reads the API's ECS lines from the shared volume,
 * keeps each line's own fields (ndjson: to the top of the event, dotted keys
 * expanded, an undecodable line kept with error.message) and ships them to
 * Logstash (dashboards/logging/logstash/mate.conf). The Kubernetes fields come
 * from the Downward API (the sidecar's environment) and the labels the
 * operator gives the pod, so the sidecar needs no access to the API server
 * (add_kubernetes_metadata would need a ClusterRole to watch pods).
 */
export function filebeatConfig(app: MateApp): string {
  // As add_kubernetes_metadata writes them: dots in label names become underscores.
  const labels = Object.fromEntries(Object.entries(commonLabels(app, 'api')).map(([k, v]) => [k.replaceAll('.', '_'), v]));
  return dumpYaml(
    {
      'filebeat.inputs': [
        {
          type: 'filestream',
          id: `mate-api-${app.metadata.name}`,
          // The API rotates api.log to api.log.1 (one generation): read both; files are followed by inode.
          paths: [`${LOG_FILE}`, `${LOG_FILE}.1`],
          parsers: [{ ndjson: { target: '', overwrite_keys: true, expand_keys: true, add_error_key: true } }],
          prospector: { scanner: { check_interval: '1s' } },
          fields_under_root: true,
          fields: { event: { dataset: LOG_DATASET } },
        },
      ],
      processors: [
        {
          add_fields: {
            target: 'kubernetes',
            fields: {
              namespace: '${POD_NAMESPACE}',
              pod: { name: '${POD_NAME}', uid: '${POD_UID}' },
              node: { name: '${NODE_NAME}' },
              container: { name: API_CONTAINER },
              labels,
            },
          },
        },
        { drop_fields: { fields: ['agent.ephemeral_id'], ignore_missing: true } },
      ],
      'output.logstash': { hosts: app.spec.logging.logstashHosts ?? [], loadbalance: true },
      'logging.level': 'info',
      'logging.metrics.enabled': false,
    },
    { lineWidth: -1 },
  );
}

export function filebeatConfigMap(app: MateApp): Obj<k8s.V1ConfigMap> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(app, names(app).filebeatConfig, 'logging'),
    data: { 'filebeat.yml': filebeatConfig(app) },
  };
}

function podSpecBase(app: MateApp): k8s.V1PodSpec {
  const spec = app.spec;
  return {
    serviceAccountName: names(app).serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity(spec),
    ...scheduling(spec),
    containers: [],
  };
}

/**
 * The API's Deployment running `image`. `paused`: the rollout waits (no new
 * ReplicaSet grows, the progress deadline does not run) while no API pod of
 * any version is ready, as when a dependency is down (plan.ts).
 */
export function deployment(app: MateApp, image: string, opts: { paused?: boolean; secretsHash?: string } = {}): Obj<k8s.V1Deployment> {
  const spec = app.spec;
  const n = names(app);
  const selector = apiSelector(app);
  const logging = spec.logging.enabled;
  const podLabels = { ...spec.podLabels, ...commonLabels(app, 'api'), [LABEL_VERSION]: labelValue(versionOf(image) ?? 'unknown') };
  const annotations: Record<string, string> = { ...spec.podAnnotations, 'kubectl.kubernetes.io/default-container': API_CONTAINER };
  if (logging) annotations[ANNOTATION_CONFIG_HASH] = shortHash(filebeatConfig(app));
  // Environment variables from Secrets are read at a container's start: a new value needs new pods.
  if (opts.secretsHash) annotations[ANNOTATION_SECRETS_HASH] = opts.secretsHash;

  const volumes: k8s.V1Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }];
  const mounts: k8s.V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  const initContainers: k8s.V1Container[] = [];
  if (logging) {
    volumes.push(
      { name: 'logs', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'filebeat-data', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'filebeat-config', configMap: { name: n.filebeatConfig, defaultMode: 0o444 } },
    );
    mounts.push({ name: 'logs', mountPath: LOG_DIR });
    // A native sidecar: started before the API and stopped after it, so the
    // last lines of a draining pod are shipped too.
    initContainers.push({
      name: 'filebeat',
      image: spec.logging.filebeatImage,
      imagePullPolicy: spec.imagePullPolicy,
      restartPolicy: 'Always',
      args: ['-e', '-c', '/etc/filebeat/filebeat.yml', '--path.data', '/usr/share/filebeat/data', '--strict.perms=false'],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      ],
      resources: resources(spec.logging.resources),
      securityContext: restrictedContainer(spec),
      volumeMounts: [
        { name: 'logs', mountPath: LOG_DIR, readOnly: true },
        { name: 'filebeat-data', mountPath: '/usr/share/filebeat/data' },
        { name: 'filebeat-config', mountPath: '/etc/filebeat', readOnly: true },
      ],
    });
  }

  const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.V1Probe => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });

  const deploymentSpec: k8s.V1DeploymentSpec = {
    // No `replicas`: the HorizontalPodAutoscaler owns the count.
    selector: { matchLabels: selector },
    revisionHistoryLimit: spec.rollout.revisionHistoryLimit,
    progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
    ...(opts.paused ? { paused: true } : {}),
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: podLabels, annotations },
      spec: {
        ...podSpecBase(app),
        // The API drains by itself on SIGTERM (readiness false, still
        // serving for DRAIN_DELAY_MS), then bounds in-flight requests by
        // SHUTDOWN_TIMEOUT_MS: the grace period covers both, plus slack.
        terminationGracePeriodSeconds: spec.api.drainDelaySeconds + spec.api.shutdownTimeoutSeconds + 5,
        ...(initContainers.length ? { initContainers } : {}),
        containers: [
          {
            name: API_CONTAINER,
            image,
            imagePullPolicy: spec.imagePullPolicy,
            // The image's entrypoint is node; the argument picks the program.
            args: ['dist/main/api.js'],
            ports: [{ name: API_PORT_NAME, containerPort: API_PORT, protocol: 'TCP' }],
            env: apiEnv(app, image),
            resources: resources(spec.resources),
            securityContext: restrictedContainer(spec),
            startupProbe: probe('/healthz', 2, 60),
            readinessProbe: probe('/readyz', 5, 2),
            livenessProbe: probe('/healthz', 10, 3),
            volumeMounts: mounts,
          },
        ],
        volumes,
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
            ],
          },
        },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: selector },
            matchLabelKeys: ['pod-template-hash'],
          },
        ],
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    // The hash of the spec the operator applied: the plan trusts the Deployment's status for a
    // rollout only when it is the status of this spec (see plan.ts).
    metadata: meta(app, n.deployment, 'api', { annotations: { [ANNOTATION_SPEC_HASH]: shortHash(deploymentSpec) } }),
    spec: deploymentSpec,
  };
}

export function migrationJob(app: MateApp, image: string, hash: string): Obj<k8s.V1Job> {
  const spec = app.spec;
  const labels = { ...commonLabels(app, 'migration'), [LABEL_MIGRATION_HASH]: hash, [LABEL_VERSION]: labelValue(versionOf(image) ?? '') };
  const env = [
    ...apiEnv(app, image).filter((e) =>
      ['MATE_MODE', 'LOG_LEVEL', 'DATABASE_POOL_MAX', 'SERVICE_DAY_START_HOUR', 'SERVICE_TIME_ZONE'].includes(e.name),
    ),
    secretEnv('DATABASE_URL', migrationDatabaseRef(spec)),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(app, names(app).migrationJob(hash), 'migration', {
      labels,
      annotations: { [`${GROUP}/image`]: image },
    }),
    spec: {
      backoffLimit: spec.migration.backoffLimit,
      activeDeadlineSeconds: spec.migration.activeDeadlineSeconds,
      template: {
        metadata: { labels: { ...spec.podLabels, ...labels } },
        spec: {
          ...podSpecBase(app),
          restartPolicy: 'Never',
          containers: [
            {
              name: 'migrate',
              image,
              imagePullPolicy: spec.imagePullPolicy,
              args: spec.migration.args,
              env,
              resources: resources(spec.resources),
              securityContext: restrictedContainer(spec),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

export function serviceAccount(app: MateApp): Obj<k8s.V1ServiceAccount> {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(
      app,
      names(app).serviceAccount,
      'api',
      app.spec.serviceAccount.annotations ? { annotations: app.spec.serviceAccount.annotations } : {},
    ),
    automountServiceAccountToken: false,
  };
}

export function service(app: MateApp): Obj<k8s.V1Service> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(app, names(app).service, 'api'),
    spec: {
      type: 'ClusterIP',
      selector: apiSelector(app),
      ports: [{ name: API_PORT_NAME, port: 80, targetPort: API_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/** The API's paths: the versioned API and the legacy client's /api and /file. */
export const INGRESS_PATHS = ['/api/v1', '/api', '/file'];

export function ingress(app: MateApp): Obj<k8s.V1Ingress> {
  const i = app.spec.ingress;
  const backend = { service: { name: names(app).service, port: { name: 'http' } } };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(app, names(app).ingress, 'api', i.annotations ? { annotations: i.annotations } : {}),
    spec: {
      ingressClassName: i.className,
      ...(i.tlsSecretName ? { tls: [{ hosts: [i.host!], secretName: i.tlsSecretName }] } : {}),
      rules: [{ host: i.host, http: { paths: INGRESS_PATHS.map((path) => ({ path, pathType: 'Prefix', backend })) } }],
    },
  };
}

export function podDisruptionBudget(app: MateApp): Obj<k8s.V1PodDisruptionBudget> {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(app, names(app).pdb, 'api'),
    spec: {
      maxUnavailable: app.spec.podDisruptionBudget.maxUnavailable,
      selector: { matchLabels: apiSelector(app) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export function horizontalPodAutoscaler(app: MateApp, scaling: ScalingDecision): Obj<k8s.V2HorizontalPodAutoscaler> {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(app, names(app).hpa, 'api', {
      annotations: { 'mate.example.com/rush-hour': String(scaling.rushHour) },
    }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: names(app).deployment },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: app.spec.replicas.targetCPUUtilizationPercentage } },
        },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }] },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
    },
  };
}

function logstashPorts(spec: MateAppSpec): number[] {
  if (!spec.logging.enabled) return [];
  return (spec.logging.logstashHosts ?? []).map((h) => Number(h.slice(h.lastIndexOf(':') + 1)));
}

/** AWS STS, which the SDK calls for IRSA credentials (AssumeRoleWithWebIdentity), on HTTPS. */
const STS_PORT = 443;

/**
 * Egress to the dependencies: each one's ports to its own destinations
 * (networkPolicy.dependencyEgressCIDRs), else to egressCIDRs, else anywhere;
 * dependencies with the same destinations share one rule. STS is allowed only
 * where it is listed (a cluster whose pods get AWS credentials from IRSA).
 */
function dependencyEgress(spec: MateApp['spec']): { to?: { ipBlock: { cidr: string } }[]; ports: { protocol: string; port: number }[] }[] {
  const np = spec.networkPolicy;
  const own = np.dependencyEgressCIDRs ?? {};
  const dependencies: [keyof NonNullable<typeof np.dependencyEgressCIDRs>, number[]][] = [
    ['database', [spec.database.port]],
    ['redis', [spec.redis.port]],
    ['s3', [spec.s3.port]],
    ['smtp', [spec.smtp.port]],
    ['logging', logstashPorts(spec)],
    ['sts', own.sts ? [STS_PORT] : []],
  ];
  const rules = new Map<string, { cidrs: string[]; ports: Set<number> }>();
  for (const [dependency, ports] of dependencies) {
    const cidrs = [...(own[dependency] ?? np.egressCIDRs ?? [])].sort();
    const rule = rules.get(cidrs.join()) ?? { cidrs, ports: new Set<number>() };
    for (const port of ports) rule.ports.add(port);
    rules.set(cidrs.join(), rule);
  }
  return [...rules.values()]
    .filter((r) => r.ports.size > 0)
    .map((r) => ({
      ...(r.cidrs.length ? { to: r.cidrs.map((cidr) => ({ ipBlock: { cidr } })) } : {}),
      ports: [...r.ports].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP', port })),
    }));
}

/** Typed loosely: the client's model names `from` `_from`, and this is sent as JSON as is. */
export function networkPolicy(app: MateApp): KubeObject {
  const spec = app.spec;
  const np = spec.networkPolicy;
  const http = [{ protocol: 'TCP', port: API_PORT }];
  const nsLabel = (ns: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(app, names(app).networkPolicy, 'api'),
    spec: {
      podSelector: { matchLabels: instanceSelector(app) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ namespaceSelector: nsLabel(np.ingressControllerNamespace) }], ports: http },
        {
          from: [{ namespaceSelector: nsLabel(np.prometheusNamespace), podSelector: { matchLabels: np.prometheusPodLabels } }],
          ports: http,
        },
        { from: [{ podSelector: { matchLabels: np.clientPodLabels } }], ports: http },
      ],
      egress: [
        {
          to: [{ namespaceSelector: nsLabel(np.dnsNamespace), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...dependencyEgress(spec),
      ],
    },
  };
}

export function serviceMonitor(app: MateApp): KubeObject {
  const sm = app.spec.monitoring.serviceMonitor;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: meta(app, names(app).serviceMonitor, 'api', { labels: { ...sm.labels } }),
    spec: {
      selector: { matchLabels: { ...apiSelector(app) } },
      namespaceSelector: { matchNames: [app.metadata.namespace] },
      endpoints: [
        {
          port: API_PORT_NAME,
          path: METRICS_PATH,
          interval: sm.interval,
          scrapeTimeout: '10s',
          // Without it the job would be the Service's name (the release's), not the one the alerts select.
          relabelings: [{ action: 'replace', targetLabel: 'job', replacement: API_JOB }],
        },
      ],
    },
  };
}

export function prometheusRule(app: MateApp, ruleSpec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: meta(app, names(app).prometheusRule, 'monitoring', { labels: { ...app.spec.monitoring.prometheusRule.labels } }),
    spec: ruleSpec,
  };
}

/** The namespace the dashboards' ConfigMaps go to. */
export const dashboardsNamespace = (app: MateApp) => app.spec.monitoring.dashboards.namespace || app.metadata.namespace;

export function dashboardConfigMaps(app: MateApp, bundle: MonitoringBundle): Obj<k8s.V1ConfigMap>[] {
  const namespace = dashboardsNamespace(app);
  const crossNamespace = namespace !== app.metadata.namespace;
  return bundle.dashboards.map((d) => {
    const m = meta(app, names(app).dashboard(d.uid), 'dashboards', {
      labels: { grafana_dashboard: '1', [LABEL_DASHBOARD]: d.uid },
      annotations: { grafana_folder: app.spec.monitoring.dashboards.folder },
    });
    m.namespace = namespace;
    if (crossNamespace) {
      // No owner reference can point across namespaces: the finalizer deletes these.
      delete m.ownerReferences;
      m.labels = { ...m.labels, [LABEL_OWNER_NAMESPACE]: app.metadata.namespace, [LABEL_OWNER_NAME]: app.metadata.name };
    }
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: m, data: { [`${d.uid}.json`]: d.json } };
  });
}

export const MONITORING_API = 'monitoring.coreos.com/v1';

/** Everything but the Deployment and the migration Job (those follow the version logic). */
export function renderSupporting(app: MateApp, scaling: ScalingDecision, bundle: MonitoringBundle, monitoringApi: boolean): KubeObject[] {
  const spec = app.spec;
  const out: KubeObject[] = [serviceAccount(app)];
  if (spec.logging.enabled) out.push(filebeatConfigMap(app));
  out.push(service(app));
  if (spec.ingress.enabled && spec.ingress.host) out.push(ingress(app));
  out.push(podDisruptionBudget(app), horizontalPodAutoscaler(app, scaling));
  if (spec.networkPolicy.enabled) out.push(networkPolicy(app));
  if (monitoringApi && spec.monitoring.serviceMonitor.enabled) out.push(serviceMonitor(app));
  if (monitoringApi && spec.monitoring.prometheusRule.enabled && bundle.ruleSpec) out.push(prometheusRule(app, bundle.ruleSpec));
  if (spec.monitoring.dashboards.enabled) out.push(...dashboardConfigMaps(app, bundle));
  return out;
}

/** The kinds the operator creates, for its informers and its pruning. */
export const OWNED_KINDS: { apiVersion: string; kind: string; plural: string; optional?: boolean }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' },
  { apiVersion: MONITORING_API, kind: 'ServiceMonitor', plural: 'servicemonitors', optional: true },
  { apiVersion: MONITORING_API, kind: 'PrometheusRule', plural: 'prometheusrules', optional: true },
];
