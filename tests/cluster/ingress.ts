// Traefik (scripts/k8s/tools.sh builds it from its Go module) as the Ingress
// controller of one test: a process in the real node's network namespace,
// beside kubelet and kube-proxy, that watches the test's namespace through
// the API server with a ServiceAccount token of least privilege, and sends
// each request straight to a ready pod of the Ingress's backend Service (from
// its EndpointSlices), as Traefik does in a cluster. Its entry point is
// forwarded to 127.0.0.1 for the load generator.
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../load/lib/processes.js';
import { kubeConfig, kubectlOk, sleep, tool, waitFor } from './support.js';
import { fromNode, node } from './real-node.js';
import { tempDir, type Scope } from '../operator/support.js';

/** The IngressClass controller name Traefik answers to. */
const TRAEFIK_CONTROLLER = 'traefik.io/ingress-controller';

export interface IngressController {
  className: string;
  /** The entry point, on loopback. */
  url: string;
  log(): string;
}

export async function startTraefik(scope: Scope, namespace: string): Promise<IngressController> {
  const className = `traefik-${namespace}`;
  const sa = 'ingress-controller';
  const dir = tempDir(scope, 'mate-traefik-');
  const rbac = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: sa, namespace },
      rules: [
        { apiGroups: [''], resources: ['services', 'secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
    },
    // Cluster-scoped: the test's own IngressClass, and read access to IngressClasses and Nodes.
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: className }, spec: { controller: TRAEFIK_CONTROLLER } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: className },
      rules: [
        { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: className },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: className },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
    },
  ];
  scope.defer('delete the IngressClass and ClusterRole', () =>
    kubectlOk(['delete', '--ignore-not-found', `ingressclass/${className}`, `clusterrole/${className}`, `clusterrolebinding/${className}`]),
  );
  await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
  const token = (await kubectlOk(['-n', namespace, 'create', 'token', sa, '--duration=2h'])).trim();

  const cluster = kubeConfig().getCurrentCluster()!;
  const caFile = path.join(dir, 'ca.crt');
  writeFileSync(caFile, cluster.caFile ? readFileSync(cluster.caFile) : Buffer.from(cluster.caData!, 'base64'));
  const apiServerPort = new URL(cluster.server).port;
  const port = await freePort();
  const logFile = path.join(dir, 'traefik.log');
  const out = createWriteStream(logFile);
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${node.netns}`,
      tool('traefik'),
      `--entryPoints.web.address=${node.ip}:${port}`,
      '--providers.kubernetesIngress=true',
      // The API server as the node sees it (scripts/k8s/node-up.sh forwards its port into the node).
      `--providers.kubernetesIngress.endpoint=https://127.0.0.1:${apiServerPort}`,
      `--providers.kubernetesIngress.token=${token}`,
      `--providers.kubernetesIngress.certAuthFilePath=${caFile}`,
      `--providers.kubernetesIngress.namespaces=${namespace}`,
      `--providers.kubernetesIngress.ingressClass=${className}`,
      '--providers.providersThrottleDuration=100ms',
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=INFO',
    ],
    // Traefik sends backend requests through HTTP(S)_PROXY when set (a machine whose registries are
    // reached through one): its backends are pods in the node, never behind that proxy.
    { stdio: ['ignore', 'pipe', 'pipe'], env: withoutProxy(process.env) },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  scope.defer('stop traefik', async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
  });
  const url = await fromNode(port, `${node.ip}:${port}`);
  return { className, url, log: () => readFileSync(logFile, 'utf8') };
}

function withoutProxy(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)));
}

/** Waits until a request through the controller reaches the API (a problem document, not the controller's own 404). */
export async function waitForRoute(ingress: IngressController, host: string, routePath: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${routePath} routed through the Ingress`,
    async () => {
      const r = await getThrough(ingress, host, routePath).catch(() => undefined);
      return r && (r.status < 300 || r.contentType.startsWith('application/problem+json')) ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\ntraefik's log:\n${ingress.log().slice(-4000)}`);
  });
}

/** A GET through the controller for a host (fetch would not send a Host header of its own). */
export function getThrough(
  ingress: IngressController,
  host: string,
  routePath: string,
): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(new URL(routePath, ingress.url), { headers: { host }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
