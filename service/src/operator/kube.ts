/**
 * A small client for what the operator does to the API server: server-side
 * apply (objects and the MateApp's status), get, list, delete, scale and
 * events. Authentication and TLS come from @kubernetes/client-node's
 * KubeConfig (in-cluster service account, kubeconfig file, exec plugins);
 * the requests are plain HTTPS so that every apply is exactly the JSON the
 * operator rendered (no model serializer in between).
 */
import https from 'node:https';
import http from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject, MateApp, MateAppStatus } from './types.js';
import { API_VERSION, FIELD_MANAGER, KIND, PLURAL } from './types.js';

export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export const isNotFound = (err: unknown) => err instanceof KubeError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeError && err.status === 409;
export const isForbidden = (err: unknown) => err instanceof KubeError && err.status === 403;
/** The API server refuses the object itself (400 BadRequest, 422 Invalid): sending it again cannot succeed. */
export const isRejected = (err: unknown) => err instanceof KubeError && (err.status === 400 || err.status === 422);

const PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  Job: 'jobs',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Event: 'events',
  Ingress: 'ingresses',
  NetworkPolicy: 'networkpolicies',
  PodDisruptionBudget: 'poddisruptionbudgets',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  ServiceMonitor: 'servicemonitors',
  PrometheusRule: 'prometheusrules',
  Lease: 'leases',
  [KIND]: PLURAL,
};

export function pluralOf(kind: string): string {
  const p = PLURALS[kind];
  if (!p) throw new Error(`no plural known for kind ${kind}`);
  return p;
}

export function collectionPath(apiVersion: string, kind: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${pluralOf(kind)}`;
}

export function objectPath(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${collectionPath(apiVersion, kind, namespace)}/${encodeURIComponent(name)}`;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** The verb the request is counted under, when not its method (LIST for a GET of a collection). */
  verb?: string;
}

export interface KubeList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Told of every request's outcome (the API client metrics): verb, HTTP status (0: no answer), seconds. */
export type RequestObserver = (verb: string, code: number, seconds: number) => void;

export class Kube {
  private readonly server: URL;

  constructor(
    readonly kc: k8s.KubeConfig,
    private readonly observe?: RequestObserver,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server.toString().replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    options.headers = {
      ...options.headers,
      ...(body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}),
    };
    const transport = url.protocol === 'http:' ? http : https;
    const started = process.hrtime.bigint();
    const observe = (code: number) => this.observe?.(opts.verb ?? method, code, Number(process.hrtime.bigint() - started) / 1e9);
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          observe(status);
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const s = parsed as { reason?: string; message?: string } | undefined;
          reject(new KubeError(status, s?.reason ?? String(status), `${method} ${url.pathname}: ${status} ${s?.message ?? text}`));
        });
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', (err) => {
        observe(0);
        reject(err);
      });
      req.end(body);
    });
  }

  /** Server-side apply, force: the operator owns every field it sets. `dryRun`: validated and admitted, not stored. */
  apply<T extends KubeObject>(obj: T, opts: { fieldManager?: string; dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('PATCH', objectPath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), {
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: true, dryRun: opts.dryRun ? 'All' : undefined },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Server-side apply of the MateApp's status subresource. */
  applyStatus(app: MateApp, status: MateAppStatus): Promise<MateApp> {
    const path = `${objectPath(API_VERSION, KIND, app.metadata.namespace, app.metadata.name)}/status`;
    return this.request<MateApp>('PATCH', path, {
      query: { fieldManager: FIELD_MANAGER, force: true },
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { name: app.metadata.name, namespace: app.metadata.namespace }, status },
      contentType: 'application/apply-patch+yaml',
    });
  }

  async get<T>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', objectPath(apiVersion, kind, namespace, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', collectionPath(apiVersion, kind, namespace), { query: { labelSelector }, verb: 'LIST' });
  }

  /** Deletes; a missing object is fine. */
  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    propagationPolicy = 'Background',
  ): Promise<boolean> {
    try {
      await this.request('DELETE', objectPath(apiVersion, kind, namespace, name), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  patchMerge<T>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    subresource?: string,
  ): Promise<T> {
    const path = objectPath(apiVersion, kind, namespace, name) + (subresource ? `/${subresource}` : '');
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  create<T>(apiVersion: string, kind: string, namespace: string | undefined, body: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath(apiVersion, kind, namespace), { body, query: { fieldManager: FIELD_MANAGER } });
  }

  update<T>(apiVersion: string, kind: string, namespace: string | undefined, name: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', objectPath(apiVersion, kind, namespace, name), { body, query: { fieldManager: FIELD_MANAGER } });
  }

  /** True when the API server serves this group/version (e.g. the Prometheus Operator's CRDs are installed). */
  async serves(apiVersion: string): Promise<boolean> {
    try {
      await this.request('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
