/**
 * Observe: everything one reconcile of a MateApp decides on, read before
 * anything is decided (plan.ts) or written (apply.ts). The owned objects come
 * from the informers' caches, as in controller-runtime; the API server is
 * asked only for what no informer holds: a kind or namespace that is not
 * watched (or not synced yet), the Secrets (the operator may get exactly the
 * referenced ones, not list or watch Secrets), and the MateApp itself, read by
 * the reconciler (its status is the operator's memory of the last good
 * version and of a rollback: a cache one event behind could forget them).
 */
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './kube.js';
import { isForbidden, isNotFound } from './kube.js';
import type { MonitoringBundle } from './monitoring.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_OWNER_NAME, LABEL_OWNER_NAMESPACE, MANAGED_BY, migrationHash, names } from './names.js';
import { OWNED_KINDS, dashboardsNamespace, referencedSecrets } from './render.js';
import type { KubeObject, MateApp } from './types.js';

/** A referenced Secret: the object, null when it does not exist, 'forbidden' when it is not ours to read. */
export type ObservedSecret = k8s.V1Secret | null | 'forbidden';

export interface Observed {
  app: MateApp;
  deployment?: k8s.V1Deployment;
  /** The migration Job of spec.image and the current migration settings, when it exists. */
  job?: k8s.V1Job;
  /** The Secrets the spec references, by name. */
  secrets: Map<string, ObservedSecret>;
  /** Whether the Prometheus Operator's API (ServiceMonitor, PrometheusRule) is served. */
  monitoringApi: boolean;
  bundle: MonitoringBundle;
  /** What the MateApp controls in its namespace, the Deployment aside. */
  owned: KubeObject[];
  /** Its dashboards' ConfigMaps in other namespaces (the old and the current dashboards namespace). */
  foreign: KubeObject[];
}

export interface ObserveDeps {
  kube: Kube;
  /**
   * The informers' copy of the owned objects matching an equality selector;
   * undefined when that kind or namespace is not informed (then the API server is asked).
   */
  cached?: (apiVersion: string, kind: string, namespace: string, labelSelector: string) => KubeObject[] | undefined;
  /** One object from the informers' cache: null when informed and absent, undefined when not informed. */
  cachedObject?: (apiVersion: string, kind: string, namespace: string, name: string) => KubeObject | null | undefined;
  monitoringBundle: () => MonitoringBundle;
  monitoringApi: () => Promise<boolean>;
}

const typed = (o: KubeObject, t: { apiVersion: string; kind: string }): KubeObject => ({ ...o, apiVersion: t.apiVersion, kind: t.kind });

export async function observe(deps: ObserveDeps, app: MateApp): Promise<Observed> {
  const ns = app.metadata.namespace;
  const n = names(app);
  const get = async <T>(apiVersion: string, kind: string, name: string): Promise<T | undefined> => {
    const hit = deps.cachedObject?.(apiVersion, kind, ns, name);
    if (hit !== undefined) return (hit ?? undefined) as T | undefined;
    return deps.kube.get<T>(apiVersion, kind, ns, name);
  };
  const list = async (apiVersion: string, kind: string, namespace: string, selector: string): Promise<KubeObject[]> =>
    deps.cached?.(apiVersion, kind, namespace, selector) ?? (await deps.kube.list<KubeObject>(apiVersion, kind, namespace, selector)).items;

  const monitoringApi = await deps.monitoringApi();
  const deployment = await get<k8s.V1Deployment>('apps/v1', 'Deployment', n.deployment);
  const job = app.spec.migration.enabled
    ? await get<k8s.V1Job>('batch/v1', 'Job', n.migrationJob(migrationHash(app.spec, app.spec.image)))
    : undefined;

  const secrets = new Map<string, ObservedSecret>();
  for (const ref of referencedSecrets(app.spec)) {
    if (secrets.has(ref.name)) continue;
    try {
      secrets.set(ref.name, (await deps.kube.get<k8s.V1Secret>('v1', 'Secret', ns, ref.name)) ?? null);
    } catch (err) {
      if (!isForbidden(err)) throw err;
      secrets.set(ref.name, 'forbidden'); // not ours to read: the kubelet will tell
    }
  }

  const selector = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_INSTANCE}=${app.metadata.name}`;
  const owned: KubeObject[] = [];
  for (const kind of OWNED_KINDS) {
    if (kind.kind === 'Deployment' || (kind.optional && !monitoringApi)) continue;
    const items = await list(kind.apiVersion, kind.kind, ns, selector);
    // The items of a LIST do not say their kind: the plan needs it.
    for (const o of items) if (o.metadata.ownerReferences?.some((r) => r.uid === app.metadata.uid)) owned.push(typed(o, kind));
  }

  const foreign: KubeObject[] = [];
  const owner = `${LABEL_OWNER_NAMESPACE}=${ns},${LABEL_OWNER_NAME}=${app.metadata.name}`;
  const otherNamespaces = new Set(
    [app.status?.monitoring?.namespace, dashboardsNamespace(app)].filter((x): x is string => !!x && x !== ns),
  );
  for (const other of otherNamespaces) {
    try {
      for (const o of await list('v1', 'ConfigMap', other, owner)) foreign.push(typed(o, { apiVersion: 'v1', kind: 'ConfigMap' }));
    } catch (err) {
      if (!isNotFound(err) && !isForbidden(err)) throw err;
    }
  }

  return { app, deployment, job, secrets, monitoringApi, bundle: deps.monitoringBundle(), owned, foreign };
}
