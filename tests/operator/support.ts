// Helpers for tests/operator: the MateApp CRD, a private kwok node pool with
// stages the failure tests need, the operator as a child process (the real
// entry point) or in-process (with an injected clock), Helm, Secrets, and a
// cleanup stack that tears things down in the right order (namespace first,
// while the operator still runs to remove its finalizer; then the operator;
// then kwok, which must delete the namespace's pods; then the nodes).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import {
  apiStatus,
  deleteNamespace,
  kubeConfig,
  kubeconfigPath,
  kubectl,
  kubectlOk,
  repoRoot,
  run,
  sleep,
  tool,
  toolsBin,
  waitFor,
} from '../cluster/support.js';
import type { RunResult } from '../cluster/support.js';
import { startOperator } from '../../service/src/operator/index.js';
import type { MateApp, RunningOperator } from '../../service/src/operator/index.js';
import type { Clock } from '../../service/src/platform/clock/index.js';
import { createLogger } from '../../service/src/platform/observability/logger.js';

export { apiStatus, kubeConfig, kubeconfigPath, kubectl, kubectlOk, repoRoot, run, sleep, tool, waitFor };
export type { MateApp, RunResult };

export const GROUP = 'mate.example.com';
export const CRD_FILE = path.join(repoRoot, 'k8s', 'crd', 'mateapp.yaml');
export const CHART_DIR = path.join(repoRoot, 'charts', 'mate');
export const FIXTURE_MONITORING = path.join(repoRoot, 'tests', 'operator', 'fixtures', 'monitoring');
const OPERATOR_MAIN = path.join(repoRoot, 'service', 'src', 'main', 'operator.ts');

/** Image tags our kwok stages treat specially (see kwokStages). */
export const UNREADY_SUFFIX = '-unready';
export const FAILING_MIGRATION_SUFFIX = '-failmigration';

// ----------------------------------------------------------------- cleanup

/** Cleanup functions run last-in first-out when the test ends; every one runs even if another fails. */
export class Scope {
  private readonly fns: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  constructor(t: TestContext) {
    t.after(() => this.close());
  }
  defer(what: string, fn: () => Promise<unknown> | unknown): void {
    this.fns.push({ what, fn });
  }
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const { what, fn } of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(new Error(`cleanup "${what}" failed`, { cause: err }));
      }
    }
    if (errors.length) throw errors[0];
  }
}

export function tempDir(scope: Scope, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scope.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes chart values to a file of the scope (for `helm install/upgrade -f`). */
export function valuesFile(scope: Scope, values: object): string {
  const file = path.join(tempDir(scope, 'mate-values-'), 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return file;
}

// --------------------------------------------------------------------- CRD

let crdReady: Promise<void> | undefined;
/**
 * Installs the MateApp CRD from k8s/crd/mateapp.yaml, exactly (it stays installed). A replace, not an
 * apply: a server-side apply keeps a field the file no longer has (a removed subresource, a rule)
 * while another field manager still owns it.
 */
export function ensureCrd(): Promise<void> {
  crdReady ??= (async () => {
    // Test files run in parallel processes: another may create or replace it in between.
    for (let attempt = 1; ; attempt++) {
      const replaced = await kubectl(['replace', '-f', CRD_FILE]);
      if (replaced.code === 0) break;
      const created = await kubectl(['create', '-f', CRD_FILE]);
      if (created.code === 0) break;
      if (attempt === 5) throw new Error(`cannot install the CRD: ${replaced.stderr} ${created.stderr}`);
    }
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/mateapps.${GROUP}`]);
  })();
  return crdReady;
}

// --------------------------------------------------------------- namespace

/**
 * A namespace for one test (restricted Pod Security by default), deleted at
 * cleanup. MateApps are deleted first and given 30 s for the operator to
 * finalize them; a finalizer still left then (the operator is gone) is removed
 * so that the namespace can go.
 */
export async function namespace(scope: Scope, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          'mate.test/owner': 'tests-operator',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          ...labels,
        },
      },
    },
  });
  scope.defer(`delete namespace ${name}`, async () => {
    await kubectl(['-n', name, 'delete', 'mateapps', '--all', '--wait=true', '--timeout=30s']);
    const left = await kubectl(['-n', name, 'get', 'mateapps', '-o', 'name']);
    for (const obj of left.stdout.split('\n').filter(Boolean)) {
      await kubectl(['-n', name, 'patch', obj, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    }
    await deleteNamespace(name);
  });
  await waitFor(`default ServiceAccount in ${name}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
  return name;
}

// ------------------------------------------------------------------- kwok

const kwokVersion =
  /^KWOK_VERSION="\$\{KWOK_VERSION:-(v[\d.]+)\}"$/m.exec(readFileSync(path.join(repoRoot, 'scripts', 'k8s', 'lib.sh'), 'utf8'))?.[1] ?? '';

type Stage = {
  metadata: { name: string };
  spec: { selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] }; delay?: unknown; next?: unknown };
};

const apiImageEndsWith = (suffix: string) => `.spec.containers.[] | select(.name == "api") | .image | endswith("${suffix}")`;
const firstImageEndsWith = (suffix: string) => `.spec.containers.[0].image | endswith("${suffix}")`;

/**
 * kwok's default stages (those scripts/k8s/tools.sh installs) plus:
 * - an API container whose image ends in -unready runs but never becomes Ready
 *   (a version that cannot pass its readiness probe);
 * - a Job's pod whose image ends in -failmigration fails with exit code 1;
 * - other Job pods complete after jobDelayMs (a migration that takes a while),
 *   except the release hooks' (hookPodRunner runs their command);
 * - `helm test` pods (annotation helm.sh/hook=test) complete.
 */
export function kwokStages(jobDelayMs: number): string {
  const file = path.join(path.dirname(toolsBin), `kwok-stages-${kwokVersion}.yaml`);
  const stages = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Stage | null)
    .filter((s): s is Stage => !!s);
  const byName = (name: string) => {
    const s = stages.find((x) => x.metadata.name === name);
    if (!s) throw new Error(`${file} has no stage ${name}`);
    return s;
  };
  const ready = byName('pod-ready');
  ready.spec.selector.matchExpressions.push({ key: apiImageEndsWith(UNREADY_SUFFIX), operator: 'NotIn', values: ['true'] });
  const complete = byName('pod-complete');
  complete.spec.selector.matchExpressions.push({ key: firstImageEndsWith(FAILING_MIGRATION_SUFFIX), operator: 'NotIn', values: ['true'] });
  // Release hooks are run for real (hookPodRunner), not completed.
  complete.spec.selector.matchExpressions.push({
    key: '.metadata.labels["app.kubernetes.io/component"]',
    operator: 'NotIn',
    values: ['hook'],
  });
  complete.spec.delay = { durationMilliseconds: jobDelayMs };

  const podRef = { apiGroup: 'v1', kind: 'Pod' };
  const notDeleted = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
  const phase = (p: string) => ({ key: '.status.phase', operator: 'In', values: [p] });
  const extra = [
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      metadata: { name: 'mate-pod-unready' },
      spec: {
        resourceRef: podRef,
        selector: {
          matchExpressions: [notDeleted, phase('Pending'), { key: apiImageEndsWith(UNREADY_SUFFIX), operator: 'In', values: ['true'] }],
        },
        next: {
          statusTemplate: [
            '{{ $now := Now }}',
            'conditions:',
            '- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}',
            '- {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}',
            '- {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}',
            'containerStatuses:',
            '{{ range .spec.containers }}',
            '- {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: false, restartCount: 0, started: true, state: {running: {startedAt: {{ $now | Quote }}}}}',
            '{{ end }}',
            'phase: Running',
            'startTime: {{ $now | Quote }}',
          ].join('\n'),
        },
      },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      metadata: { name: 'mate-job-pod-fail' },
      spec: {
        resourceRef: podRef,
        selector: {
          matchExpressions: [
            notDeleted,
            phase('Running'),
            { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] },
            { key: firstImageEndsWith(FAILING_MIGRATION_SUFFIX), operator: 'In', values: ['true'] },
          ],
        },
        delay: { durationMilliseconds: 500 },
        next: {
          statusTemplate: [
            '{{ $now := Now }}',
            'containerStatuses:',
            '{{ range .spec.containers }}',
            '- {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: false, restartCount: 0, started: false, state: {terminated: {exitCode: 1, reason: Error, message: "migration failed", startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}',
            '{{ end }}',
            'phase: Failed',
          ].join('\n'),
        },
      },
    },
    {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Stage',
      metadata: { name: 'mate-helm-test-complete' },
      spec: {
        resourceRef: podRef,
        selector: {
          matchExpressions: [
            notDeleted,
            phase('Running'),
            { key: '.metadata.annotations["helm.sh/hook"]', operator: 'In', values: ['test'] },
          ],
        },
        delay: { durationMilliseconds: 500 },
        next: {
          statusTemplate: [
            '{{ $now := Now }}',
            'containerStatuses:',
            '{{ range .spec.containers }}',
            '- {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: false, restartCount: 0, started: false, state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}',
            '{{ end }}',
            'phase: Succeeded',
          ].join('\n'),
        },
      },
    },
  ];
  return [...stages, ...extra].map((s) => `---\n${stringify(s, { lineWidth: 0 })}`).join('');
}

export interface KwokPool {
  id: string;
  /** Put a MateApp's pods (spec.scheduling) or a chart's pods on this pool. */
  nodeSelector: Record<string, string>;
  tolerations: k8s.V1Toleration[];
}

/**
 * A private pool of kwok nodes, run by a kwok process of our own with
 * kwokStages(): the shared kwok (scripts/k8s/up.sh) has only the default
 * stages. The nodes are tainted, so only pods that tolerate the taint and
 * select the pool land here.
 */
export async function kwokPool(scope: Scope, opts: { nodes?: number; jobDelayMs?: number } = {}): Promise<KwokPool> {
  const id = `mop-${randomBytes(3).toString('hex')}`;
  const nodes = Array.from({ length: opts.nodes ?? 2 }, (_, i) => `${id}-${i + 1}`);
  const dir = tempDir(scope, `mate-kwok-${id}-`);
  const stagesFile = path.join(dir, 'stages.yaml');
  writeFileSync(stagesFile, kwokStages(opts.jobDelayMs ?? 2000));

  const manifests = nodes.map((name, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': id, 'node.alpha.kubernetes.io/ttl': '0' },
      // Only labels of this pool's own: not the shared nodes' type=kwok, which control-plane.test.ts
      // and anyone else listing "the kwok nodes" would count.
      labels: {
        'mate.test/pool': id,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': `zone-${(i % 3) + 1}`,
      },
    },
    spec: { taints: [{ key: 'mate.test/pool', value: id, effect: 'NoSchedule' }] },
    status: {
      allocatable: { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      capacity: { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    },
  }));
  scope.defer(`delete kwok nodes ${id}`, async () => {
    await kubectl(['delete', 'node', ...nodes, '--ignore-not-found', '--wait=false']);
    await kubectl(['-n', 'kube-node-lease', 'delete', 'lease', ...nodes, '--ignore-not-found']);
  });
  await kubectlOk(
    ['apply', '--server-side', '--field-manager=mate-operator-tests', '-f', '-'],
    manifests.map((m) => JSON.stringify(m)).join('\n---\n'),
  );

  const logFile = path.join(dir, 'kwok.log');
  const octet = 100 + (parseInt(id.slice(4), 16) % 100);
  const child = spawnLogged(
    tool('kwok'),
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${stagesFile}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=${id}`,
      '--node-lease-duration-seconds=40',
      `--cidr=10.${octet}.0.0/16`,
      `--node-ip=10.0.${octet}.1`,
    ],
    {},
    logFile,
  );
  scope.defer(`stop kwok ${id}`, () => child.stop());
  await waitFor(
    `kwok pool ${id} to be Ready`,
    async () =>
      (await kubectl(['wait', '--for=condition=Ready', '--timeout=5s', ...nodes.map((n) => `node/${n}`)])).code === 0 ? true : undefined,
    60_000,
    500,
  );
  return {
    id,
    nodeSelector: { 'mate.test/pool': id },
    tolerations: [{ key: 'mate.test/pool', operator: 'Equal', value: id, effect: 'NoSchedule' }],
  };
}

/** Chart values of a release whose operator the test runs itself (the chart's has 0 replicas), its pods on a kwok pool. */
export function testOperatorValues(scope: Scope, pool: KwokPool): string {
  return valuesFile(scope, {
    image: { repository: IMAGE_REPO, tag: '1.0.0' },
    operator: { replicas: 0 },
    app: { commuteScaling: { enabled: false }, scheduling: { nodeSelector: pool.nodeSelector, tolerations: pool.tolerations } },
    hooks: { waitReady: { enabled: false } },
    test: { enabled: false },
  });
}

// --------------------------------------------------------------- processes

export interface Logged {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

function spawnLogged(file: string, args: string[], env: Record<string, string>, logFile?: string): Logged {
  const child = spawn(file, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let log = '';
  const collect = (d: string) => {
    log += d;
    const parts = log.split('\n');
    log = parts.pop() ?? '';
    lines.push(...parts);
    if (logFile) writeFileSync(logFile, `${parts.join('\n')}\n`, { flag: 'a' });
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  let stopped: Promise<number> | undefined;
  return {
    child,
    lines,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
}

export interface OperatorProcess extends Logged {
  name: string;
  metricsUrl: string;
  /** Parsed ECS log lines. */
  records(): Record<string, unknown>[];
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

/** Fast leader election for tests: a dead leader's Lease expires in 4 s. */
export const TEST_LEASE = { LEASE_DURATION_SECONDS: '4', RENEW_DEADLINE_SECONDS: '3', RETRY_PERIOD_SECONDS: '1' };

/**
 * The operator's real entry point (service/src/main/operator.ts) as a child
 * process, watching one namespace, with its metrics on a free port.
 */
export async function operatorProcess(
  scope: Scope,
  opts: { namespace: string; name?: string; kubeconfig?: string; env?: Record<string, string> },
): Promise<OperatorProcess> {
  const name = opts.name ?? `op-${randomBytes(2).toString('hex')}`;
  const p = spawnLogged(process.execPath, ['--import', 'tsx', OPERATOR_MAIN], {
    KUBECONFIG: opts.kubeconfig ?? kubeconfigPath,
    WATCH_NAMESPACES: opts.namespace,
    POD_NAMESPACE: opts.namespace,
    POD_NAME: name,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    MONITORING_DIR: FIXTURE_MONITORING,
    LOG_LEVEL: 'debug',
    ...TEST_LEASE,
    ...opts.env,
  });
  scope.defer(`stop operator ${name}`, () => p.stop());
  const records = () =>
    p.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const metricsUrl = await waitFor(
    `operator ${name} to start`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`operator ${name} exited ${p.child.exitCode}:\n${p.lines.slice(-20).join('\n')}`);
      const rec = records().find((r) => (r.url as { full?: string } | undefined)?.full);
      return (rec?.url as { full?: string } | undefined)?.full;
    },
    60_000,
    200,
  );
  return {
    ...p,
    name,
    metricsUrl,
    records,
    metric: async (metric, labels = {}) => {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      return parseMetric(text, metric, labels);
    },
  };
}

export function parseMetric(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total = (total ?? 0) + Number(m[4]);
  }
  return total;
}

export interface InProcessOperator extends RunningOperator {
  logs: string[];
}

/** The operator in this process (an injectable clock), without leader election. */
export async function operatorInProcess(scope: Scope, opts: { namespace: string; clock?: Clock }): Promise<InProcessOperator> {
  const logs: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', out }).child({ service: { name: 'mate-operator' } });
  const running = await startOperator({
    kubeConfig: kubeConfig(),
    log,
    namespaces: [opts.namespace],
    clock: opts.clock,
    leaderElection: false,
    monitoringDir: FIXTURE_MONITORING,
    resyncSeconds: 300,
  });
  scope.defer('stop the in-process operator', () => running.stop());
  return Object.assign(running, { logs });
}

// ------------------------------------------------------------ MateApps

export const SECRET_NAMES = { database: 'mate-database', redis: 'mate-redis', smtp: 'mate-smtp', jwt: 'mate-jwt' };

/** The Secrets a MateApp references by default (values are placeholders: nothing connects on kwok). */
export async function createSecrets(namespace: string, skip: (keyof typeof SECRET_NAMES)[] = []): Promise<void> {
  const data: Record<keyof typeof SECRET_NAMES, Record<string, string>> = {
    database: { url: 'mysql://mate:mate@mysql.example:3306/mate' },
    redis: { url: 'redis://redis.example:6379' },
    smtp: { url: 'smtp://mail.example:587' },
    jwt: { keys: `k1:${'x'.repeat(40)}` },
  };
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const [k, name] of Object.entries(SECRET_NAMES) as [keyof typeof SECRET_NAMES, string][]) {
    if (skip.includes(k)) continue;
    await core.createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, stringData: data[k] } });
  }
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export const IMAGE_REPO = 'registry.example.com/mate/service';

export function mateApp(
  namespace: string,
  name: string,
  spec: DeepPartial<MateApp['spec']> & Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: 'MateApp',
    metadata: { name, namespace },
    spec: {
      image: `${IMAGE_REPO}:1.0.0`,
      database: { urlSecretRef: { name: SECRET_NAMES.database } },
      redis: { urlSecretRef: { name: SECRET_NAMES.redis } },
      s3: { bucket: 'mate-images' },
      smtp: { urlSecretRef: { name: SECRET_NAMES.smtp } },
      jwt: { keysSecretRef: { name: SECRET_NAMES.jwt } },
      ingress: { host: 'mate.example.com' },
      commuteScaling: { enabled: false },
      ...spec,
    },
  };
}

export async function apply(obj: unknown): Promise<void> {
  await kubectlOk(['apply', '--server-side', '--field-manager=mate-operator-tests', '--force-conflicts', '-f', '-'], JSON.stringify(obj));
}

export async function getMateApp(namespace: string, name: string): Promise<MateApp> {
  return JSON.parse(await kubectlOk(['-n', namespace, 'get', `mateapps.${GROUP}`, name, '-o', 'json'])) as MateApp;
}

export function condition(app: MateApp, type: string) {
  return app.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the MateApp's condition has this status (and reason), for its current generation. */
export async function waitForCondition(
  namespace: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 90_000,
): Promise<MateApp> {
  return waitFor(
    `MateApp ${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const app = await getMateApp(namespace, name);
      const c = condition(app, type);
      const current = app.status?.observedGeneration === app.metadata.generation;
      return current && c?.status === status && (!reason || c.reason === reason) ? app : undefined;
    },
    timeoutMs,
    250,
  );
}

export interface EventSummary {
  type: string;
  reason: string;
  message: string;
}

export async function mateAppEvents(namespace: string, name: string): Promise<EventSummary[]> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=MateApp,involvedObject.name=${name}` });
  return list.items.map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '' }));
}

export const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);
export const batch = () => kubeConfig().makeApiClient(k8s.BatchV1Api);
export const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);

export function apiImageOf(d: k8s.V1Deployment | undefined): string | undefined {
  return d?.spec?.template.spec?.containers.find((c) => c.name === 'api')?.image;
}

export async function readDeployment(namespace: string, name: string): Promise<k8s.V1Deployment | undefined> {
  try {
    return await apps().readNamespacedDeployment({ namespace, name });
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

export async function migrationJobs(namespace: string, name: string): Promise<k8s.V1Job[]> {
  const list = await batch().listNamespacedJob({
    namespace,
    labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/component=migration`,
  });
  return list.items;
}

export const jobComplete = (j: k8s.V1Job | undefined) => !!j?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');

// ------------------------------------------------------------------- helm

export function helm(args: string[]): Promise<RunResult> {
  return run(tool('helm'), [`--kubeconfig=${kubeconfigPath}`, ...args]);
}

export async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Settings of the chart's operator container that the process keeps as they are (the rest is the test's: port, log, Lease timings). */
const CHART_OPERATOR_SETTINGS = ['WATCH_NAMESPACES', 'MATEAPP_SELECTOR', 'OPERATOR_DEPLOYMENT', 'LEADER_ELECTION', 'LEADER_ELECTION_ID'];

/** The settings the chart gives its operator (the installed Deployment's env), for operatorProcess. */
export async function chartOperatorEnv(namespace: string, deployment = 'mate-operator'): Promise<Record<string, string>> {
  const d = await apps().readNamespacedDeployment({ namespace, name: deployment });
  const env = d.spec?.template.spec?.containers.find((c) => c.name === 'operator')?.env ?? [];
  return Object.fromEntries(env.filter((e) => CHART_OPERATOR_SETTINGS.includes(e.name)).map((e) => [e.name, e.value ?? '']));
}

/**
 * A kubeconfig that authenticates as a ServiceAccount (a TokenRequest token),
 * so the operator runs with exactly the chart's RBAC.
 */
export async function serviceAccountKubeconfig(scope: Scope, namespace: string, serviceAccount: string): Promise<string> {
  const token = (await kubectlOk(['-n', namespace, 'create', 'token', serviceAccount, '--duration=2h'])).trim();
  const admin = kubeConfig();
  const cluster = admin.getCurrentCluster()!;
  const kc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mate-local', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: serviceAccount, context: { cluster: 'mate-local', user: serviceAccount, namespace } }],
    'current-context': serviceAccount,
  };
  const file = path.join(tempDir(scope, 'mate-sa-'), 'kubeconfig');
  writeFileSync(file, JSON.stringify(kc), { mode: 0o600 });
  return file;
}

/** Polls `sample` every intervalMs until stop() is called; returns the samples. */
export function sampler<T>(sample: () => Promise<T>, intervalMs = 100) {
  const samples: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        samples.push(await sample());
      } catch {
        // a failed read is not a sample
      }
      await sleep(intervalMs);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** Marks the time of a test's steps in its diagnostics (shown by the spec reporter). */
export function stopwatch(t: TestContext): (step: string) => void {
  const start = Date.now();
  let last = start;
  return (step) => {
    const now = Date.now();
    t.diagnostic(`${step}: +${((now - last) / 1000).toFixed(1)} s (${((now - start) / 1000).toFixed(1)} s)`);
    last = now;
  };
}

/** Runs a release hook command of the operator's entry point (wait-ready, delete-mateapp) to its end. */
export async function runHook(
  command: string,
  env: {
    MATEAPP_NAMESPACE: string;
    MATEAPP_NAME: string;
    MATEAPP_IMAGE?: string;
    WAIT_TIMEOUT_SECONDS?: string;
    WAIT_ERROR_GRACE_SECONDS?: string;
  },
  kubeconfig = kubeconfigPath,
): Promise<{ code: number; output: string; seconds: number }> {
  const started = Date.now();
  const p = spawnLogged(process.execPath, ['--import', 'tsx', OPERATOR_MAIN, command], { KUBECONFIG: kubeconfig, ...env });
  const code = await p.exited;
  return { code, output: p.lines.join('\n'), seconds: (Date.now() - started) / 1000 };
}

export interface HookRun {
  pod: string;
  command: string;
  code: number;
  output: string;
}

/**
 * The release hooks' pods on a kwok pool, run for real: kwok leaves them Running (kwokStages), so
 * each one's command (the operator entry point with the pod's args and env) runs here as the pod's
 * ServiceAccount, and the pod is then marked Succeeded or Failed with the exit code, as the kubelet
 * would. Stops with the scope.
 */
export function hookPodRunner(scope: Scope, namespace: string): HookRun[] {
  const runs: HookRun[] = [];
  const started = new Set<string>();
  const pending: Promise<void>[] = [];
  const runPod = async (pod: k8s.V1Pod) => {
    const name = pod.metadata!.name!;
    const container = pod.spec!.containers[0]!;
    const command = container.args?.[1] ?? '';
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])) as Parameters<typeof runHook>[1];
    const kubeconfig = await serviceAccountKubeconfig(scope, namespace, pod.spec!.serviceAccountName!);
    const { code, output } = await runHook(command, env, kubeconfig);
    runs.push({ pod: name, command, code, output });
    const terminated = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: new Date().toISOString() };
    const status = {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [
        { name: container.name, image: container.image, imageID: '', ready: false, restartCount: 0, state: { terminated } },
      ],
    };
    await kubectlOk(['-n', namespace, 'patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const pods = await core()
        .listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=hook' })
        .catch(() => ({ items: [] as k8s.V1Pod[] }));
      for (const pod of pods.items) {
        if (pod.status?.phase !== 'Running' || started.has(pod.metadata!.name!)) continue;
        started.add(pod.metadata!.name!);
        pending.push(
          runPod(pod).catch((err: unknown) => void runs.push({ pod: pod.metadata!.name!, command: '', code: -1, output: String(err) })),
        );
      }
      await sleep(250);
    }
  })();
  scope.defer('stop the hook pod runner', async () => {
    running = false;
    await loop;
    await Promise.all(pending);
  });
  return runs;
}
