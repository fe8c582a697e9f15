// Helpers for the tests on the control plane's real node (scripts/k8s/node-up.sh):
// its settings as the scripts define them, the service image the set-up
// pushed (scripts/k8s/images.sh), and the node's network namespace and
// container runtime.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createTestBucket } from '../../service/src/testing/buckets.js';
import { createTestDatabase } from '../../service/src/testing/databases.js';
import { testServices } from '../../service/src/testing/env.js';
import { startSmtpSink } from '../../service/src/testing/smtp.js';
import { CHART_DIR, core, helm, valuesFile, type Scope } from '../operator/support.js';
import { kubectlOk, repoRoot, run, tool, type RunResult } from './support.js';

const k8sScripts = path.join(repoRoot, 'scripts', 'k8s');

/** Settings of scripts/k8s/lib.sh as the scripts see them (environment overrides included): the one source. */
function nodeSettings<const K extends string>(names: readonly K[]): Record<K, string> {
  const script = `source "${k8sScripts}/lib.sh" && printf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`;
  const values = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\0');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? ''])) as Record<K, string>;
}

export const node = (() => {
  const s = nodeSettings([
    'K8S_NODE_NAME',
    'K8S_NODE_NETNS',
    'K8S_NODE_DIR',
    'K8S_NODE_IP',
    'K8S_NODE_TAINT',
    'K8S_NODE_LABEL',
    'K8S_REGISTRY',
    'K8S_BIN',
  ] as const);
  const [labelKey, labelValue] = s.K8S_NODE_LABEL.split('=') as [string, string];
  return {
    name: s.K8S_NODE_NAME,
    netns: s.K8S_NODE_NETNS,
    dir: s.K8S_NODE_DIR,
    ip: s.K8S_NODE_IP,
    registry: s.K8S_REGISTRY,
    bin: s.K8S_BIN,
    /** Where a pod must ask to run to land on the real node. */
    nodeSelector: { [labelKey]: labelValue },
    tolerations: [{ key: s.K8S_NODE_TAINT, operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
    /** The kubelet's container logs (podLogsDir): <namespace>_<pod>_<uid>/<container>/<restart>.log */
    podLogs: path.join(s.K8S_NODE_DIR, 'pod-logs'),
    containerd: path.join(s.K8S_NODE_DIR, 'containerd', 'containerd.sock'),
  };
})();

/** An image scripts/k8s/images.sh pushed (repository:tag@digest), as images.env names it. */
function pushedImage(variable: 'MATE_SERVICE_IMAGE' | 'MATE_FILEBEAT_IMAGE') {
  const ref = process.env[variable];
  const m = ref && /^(.+):([^:@/]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw new Error(`${variable} is not set: run the test with \`npm test\`, which builds the image (scripts/k8s/images.sh)`);
  return { ref: ref!, repository: m[1]!, tag: m[2]!, digest: m[3]! };
}
export const serviceImage = () => pushedImage('MATE_SERVICE_IMAGE');
/** The Filebeat sidecar's image, at the version scripts/observability/tools.sh builds. */
export const filebeatImage = () => pushedImage('MATE_FILEBEAT_IMAGE');

export function crane(args: string[]): Promise<RunResult> {
  return run(tool('crane'), ['--insecure', ...args]);
}

/**
 * A command in the node's network namespace (nsenter: `ip netns exec` would
 * remount /sys), without the machine's proxy settings: a proxy on the
 * machine's loopback is not reachable from there, and every address the tests
 * ask for there is the node's own.
 */
export function inNode(argv: string[]): Promise<RunResult> {
  const noProxy = ['http_proxy', 'https_proxy', 'all_proxy'].flatMap((v) => ['-u', v, '-u', v.toUpperCase()]);
  return run('nsenter', [`--net=/run/netns/${node.netns}`, 'env', ...noProxy, ...argv]);
}

/**
 * A command in a running container of the node (as its own user, in its
 * namespaces), through containerd. ctr runs in containerd's mount namespace:
 * the exec's stdio FIFOs are made under the node's own /run.
 */
export function execInContainer(containerId: string, argv: string[]): Promise<RunResult> {
  const containerd = readFileSync(path.join(node.dir, 'pids', 'containerd.pid'), 'utf8').trim();
  const execId = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return run('nsenter', [
    `--target=${containerd}`,
    '--mount',
    tool('ctr'),
    '--address',
    node.containerd,
    '-n',
    'k8s.io',
    'tasks',
    'exec',
    '--exec-id',
    execId,
    containerId,
    ...argv,
  ]);
}

/** The mate_build_info line a running API container serves on its own /metrics. */
export async function buildInfoOf(containerId: string): Promise<string> {
  const r = await execInContainer(containerId, [
    'node',
    '-e',
    "fetch('http://127.0.0.1:8080/metrics').then(r => r.text()).then(t => console.log(t.split('\\n').find(l => l.startsWith('mate_build_info'))))",
  ]);
  if (r.code !== 0) throw new Error(`no metrics from container ${containerId}: ${r.stderr}`);
  return r.stdout.trim();
}

/** containerd's id of a container from its pod status (containerd://<id>). */
export function containerIdOf(status: { containerID?: string } | undefined): string {
  const id = status?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error('the container has no id yet');
  return id;
}

/** A loopback service's URL as the node's pods reach it: the node's address, the port forwarded into the node. */
export async function throughNode(url: string): Promise<string> {
  const u = new URL(url);
  const r = await run('bash', [path.join(k8sScripts, 'node-forward.sh'), 'in', u.port]);
  if (r.code !== 0) throw new Error(`node-forward.sh in ${u.port}: ${r.stderr}`);
  u.hostname = node.ip;
  return u.toString();
}

/** An address inside the node's network (a pod, a Service, a process of the node) made reachable on 127.0.0.1:port. */
export async function fromNode(port: number, target: string): Promise<string> {
  const r = await run('bash', [path.join(k8sScripts, 'node-forward.sh'), 'out', String(port), target]);
  if (r.code !== 0) throw new Error(`node-forward.sh out ${port} ${target}: ${r.stderr}`);
  return `http://127.0.0.1:${port}`;
}

/** The kubelet's log file of a container's current run (podLogsDir/<namespace>_<pod>_<uid>/<container>/<restart>.log). */
export function containerLogFile(namespace: string, pod: string, container: string): string {
  const dir = readdirSync(node.podLogs).find((d) => d.startsWith(`${namespace}_${pod}_`));
  if (!dir) throw new Error(`no container log of ${namespace}/${pod}`);
  const runs = readdirSync(path.join(node.podLogs, dir, container)).sort((a, b) => parseInt(a) - parseInt(b));
  return path.join(node.podLogs, dir, container, runs.at(-1)!);
}

/** The API's JSON lines in the kubelet's CRI log lines (<time> <stream> <tag> <line>). */
export function criJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .map((l) => /^\S+ \S+ \S+ (\{.*\})$/.exec(l)?.[1])
    .filter((l): l is string => !!l)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Values that put every pod of the chart on the real node (its label and taint). */
export const onNode = () => ({ nodeSelector: node.nodeSelector, tolerations: node.tolerations });

/**
 * The chart's values for a release on the real node, of the image images.sh
 * pushed: the operator, two API pods (no rush-hour scaling) and the test pod
 * there; `app` adds to the MateApp's values.
 */
export function realNodeValues(app: Record<string, unknown>) {
  const image = serviceImage();
  return {
    image: { repository: image.repository, tag: image.tag },
    operator: { replicas: 1, ...onNode() },
    app: { replicas: { min: 2, max: 2 }, commuteScaling: { enabled: false }, scheduling: onNode(), ...app },
    test: onNode(),
  };
}

/** `helm install --wait` of charts/mate (uninstalled at cleanup); on failure, the pods, Jobs and events say why. */
export async function installChart(scope: Scope, namespace: string, release: string, values: object): Promise<string> {
  const file = valuesFile(scope, values);
  scope.defer('helm uninstall', () => helm(['uninstall', release, '-n', namespace, '--wait', '--timeout=120s']));
  const install = await helm(['install', release, CHART_DIR, '-n', namespace, '-f', file, '--wait', '--timeout=300s']);
  if (install.code !== 0) {
    const state = await kubectlOk(['-n', namespace, 'get', 'pods,jobs,events', '-o', 'wide']).catch((e: unknown) => String(e));
    throw new Error(`helm install failed:\n${install.stdout}\n${install.stderr}\n${state}`);
  }
  return file;
}

/**
 * A release's own database (the API's account of row rights, the migration's
 * that owns the schema), bucket and SMTP sink, all the scope's, with their
 * Secrets in `namespace`; returns the chart's `app` values that use them.
 */
export async function releaseDependencies(scope: Scope, namespace: string): Promise<{ s3: unknown; database: unknown }> {
  const db = await createTestDatabase();
  scope.defer('drop database', () => db.drop());
  const bucket = await createTestBucket(`mate-${namespace.slice(0, 20)}`);
  scope.defer('drop bucket', () => bucket.drop());
  const smtp = await startSmtpSink();
  scope.defer('close smtp', () => smtp.close());
  const s3 = await dependencySecrets(namespace, {
    databaseUrl: db.appUrl,
    migrationDatabaseUrl: db.migratorUrl,
    redisUrl: testServices().redisUrl,
    smtpUrl: smtp.url,
    jwtKeys: `k1:${randomBytes(24).toString('hex')}`,
    bucket: bucket.bucket,
  });
  return { s3, database: { migrationUrlSecretRef: { name: 'mate-database-migrator', key: 'url' } } };
}

/**
 * The Secrets the chart's MateApp references, for loopback test services
 * reached through the node, and the chart's `app.s3` values for the test
 * MinIO. With `migrationDatabaseUrl`, also `mate-database-migrator` for the
 * chart's `app.database.migrationUrlSecretRef`.
 */
export async function dependencySecrets(
  namespace: string,
  deps: { databaseUrl: string; migrationDatabaseUrl?: string; redisUrl: string; smtpUrl: string; jwtKeys: string; bucket: string },
): Promise<Record<string, unknown>> {
  const s3 = testServices().s3;
  const secrets: Record<string, Record<string, string>> = {
    'mate-database': { url: await throughNode(deps.databaseUrl) },
    ...(deps.migrationDatabaseUrl ? { 'mate-database-migrator': { url: await throughNode(deps.migrationDatabaseUrl) } } : {}),
    'mate-redis': { url: await throughNode(deps.redisUrl) },
    'mate-smtp': { url: await throughNode(deps.smtpUrl) },
    'mate-jwt': { keys: deps.jwtKeys },
    'mate-s3': { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
  for (const [name, stringData] of Object.entries(secrets))
    await core().createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, stringData } });
  return {
    bucket: deps.bucket,
    region: s3.region,
    endpoint: (await throughNode(s3.endpoint)).replace(/\/$/, ''),
    forcePathStyle: true,
    port: Number(new URL(s3.endpoint).port),
    credentialsSecretRef: { name: 'mate-s3' },
  };
}
