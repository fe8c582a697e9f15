/**
 * The operator's control loop: informers (list + watch, from
 * @kubernetes/client-node) on MateApps and on everything the operator owns
 * feed a work queue keyed by namespace/name; workers take keys off it and
 * run the reconciler, retrying failures with exponential backoff and
 * requeueing keys that asked to be looked at later (rush-window edges,
 * resync). Only the leader runs the loop; followers wait on the Lease.
 *
 * One operator per release: with a MateApp selector it informs itself only of
 * the MateApps carrying that label, and a key whose MateApp is not in that
 * cache (another release's, seen through the objects it owns) is dropped.
 * The owned objects' informers are the reconciler's cache: it reads the
 * Deployment, the Job and what it prunes from them (observe.ts).
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import * as k8s from '@kubernetes/client-node';
import type { Clock } from '../platform/clock/index.js';
import type { Logger } from '../platform/observability/logger.js';
import { EventRecorder } from './events.js';
import { Heartbeat, isReady } from './health.js';
import type { KubeList } from './kube.js';
import { Kube, collectionPath } from './kube.js';
import { LeaderElector } from './leader.js';
import type { OperatorMetrics } from './metrics.js';
import { createOperatorMetrics, serveMetrics } from './metrics.js';
import type { MonitoringBundle } from './monitoring.js';
import { loadMonitoringBundle } from './monitoring.js';
import { LABEL_INSTANCE, LABEL_OWNER_NAME, LABEL_OWNER_NAMESPACE, MANAGED_SELECTOR, appKey } from './names.js';
import { MONITORING_API, OWNED_KINDS } from './render.js';
import { Reconciler } from './reconciler.js';
import { WorkQueue } from './queue.js';
import type { KubeObject, MateApp } from './types.js';
import { API_VERSION, KIND } from './types.js';

export interface OperatorOptions {
  kubeConfig: k8s.KubeConfig;
  log: Logger;
  /** Namespaces to watch; empty: every namespace. */
  namespaces: string[];
  /** Label selector of the MateApps this operator reconciles (its release's); empty: every MateApp it can see. */
  mateAppSelector?: string;
  /** Read for the rush window (tests move it). */
  clock?: Clock;
  identity?: string;
  /** false: act at once, without a Lease (a single operator, or a test). */
  leaderElection:
    | false
    | {
        namespace: string;
        name: string;
        leaseDurationSeconds: number;
        renewDeadlineSeconds: number;
        retryPeriodSeconds: number;
        /** The operator's Deployment (in the Lease's namespace): the Lease's owner, so that uninstalling removes it. */
        ownerDeployment?: string;
      };
  /** Port of /metrics, /healthz and /readyz; undefined: no server; 0: any free port. */
  metricsPort?: number;
  metricsHost?: string;
  monitoringDir: string;
  workers?: number;
  resyncSeconds?: number;
  /** A reconcile running this long makes the liveness probe fail (default 10 min). */
  stuckAfterSeconds?: number;
  /** Called when leadership is lost (the entry point exits so that a fresh process campaigns again). */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  identity: string;
  metrics: OperatorMetrics;
  /** http://host:port of the metrics server, when there is one. */
  metricsUrl?: string;
  isLeader(): boolean;
  /** Stops the loop, releases the Lease, closes the server. */
  stop(): Promise<void>;
}

type Informer = k8s.Informer<KubeObject> & k8s.ObjectCache<KubeObject>;

/** Equality-based selectors ("a=b,c=d"), the only kind the operator uses. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  return selector
    .split(',')
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split('=') as [string, string];
      return labels?.[key.trim()] === value.trim();
    });
}

/** The loop itself: informers, queue and workers; started when leading, stopped when not. */
class Loop {
  private queue = this.newQueue();
  /** By apiVersion/kind/namespace ('' for all namespaces). */
  private informers = new Map<string, Informer>();
  private workers: Promise<void>[] = [];
  private seen = new Map<string, string>();
  private running = false;
  synced = false;

  constructor(
    private readonly kube: Kube,
    private readonly reconciler: Reconciler,
    private readonly opts: OperatorOptions,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
    private readonly heartbeat: Heartbeat,
  ) {}

  private newQueue(): WorkQueue {
    return new WorkQueue({ onAdd: () => this.metrics.queueAdds.inc() });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.queue = this.newQueue();
    this.seen.clear();
    const namespaces = this.opts.namespaces.length ? this.opts.namespaces : [undefined];
    const monitoringApi = await this.kube.serves(MONITORING_API).catch(() => false);
    for (const ns of namespaces) {
      this.informer(API_VERSION, KIND, ns, this.opts.mateAppSelector || undefined, (o) => this.onMateApp(o as unknown as MateApp));
      for (const kind of OWNED_KINDS) {
        if (kind.optional && !monitoringApi) continue;
        this.informer(kind.apiVersion, kind.kind, ns, MANAGED_SELECTOR, (o) => this.onOwned(o));
      }
    }
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    this.synced = true;
    const n = this.opts.workers ?? 2;
    for (let i = 0; i < n; i++) this.workers.push(this.work());
    this.log.info(
      { event: { action: 'loop-started' }, namespaces: this.opts.namespaces },
      `watching ${this.opts.namespaces.join(', ') || 'all namespaces'}`,
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.synced = false;
    this.queue.shutDown();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private informer(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector: string | undefined,
    on: (o: KubeObject) => void,
  ) {
    const path = collectionPath(apiVersion, kind, namespace);
    const list = () =>
      this.kube.list<KubeObject>(apiVersion, kind, namespace, labelSelector) as Promise<
        KubeList<KubeObject> & k8s.KubernetesListObject<KubeObject>
      >;
    const informer = k8s.makeInformer<KubeObject>(this.opts.kubeConfig, path, list, labelSelector) as Informer;
    informer.on('add', on);
    informer.on('update', on);
    informer.on('delete', on);
    let failures = 0;
    informer.on('connect', () => (failures = 0));
    informer.on('error', (err: unknown) => {
      if (!this.running) return;
      const delay = Math.min(30_000, 500 * 2 ** failures++);
      this.log.warn({ err, kind, namespace }, `watch of ${kind} failed; restarting in ${delay} ms`);
      setTimeout(() => {
        if (this.running) void informer.start();
      }, delay).unref();
    });
    this.informers.set(`${apiVersion}/${kind}/${namespace ?? ''}`, informer);
  }

  private informerFor(apiVersion: string, kind: string, namespace: string): Informer | undefined {
    return this.informers.get(`${apiVersion}/${kind}/${namespace}`) ?? this.informers.get(`${apiVersion}/${kind}/`);
  }

  /** The informer's copy of the objects (undefined: that kind or namespace is not informed, ask the API server). */
  cached(apiVersion: string, kind: string, namespace: string, labelSelector: string): KubeObject[] | undefined {
    if (!this.synced) return undefined;
    return this.informerFor(apiVersion, kind, namespace)
      ?.list(namespace)
      .filter((o) => matchesSelector(o.metadata.labels, labelSelector));
  }

  /** One object from the informer's copy (null: informed and absent; undefined: not informed, ask the API server). */
  cachedObject(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | null | undefined {
    if (!this.synced) return undefined;
    const informer = this.informerFor(apiVersion, kind, namespace);
    return informer ? (informer.get(name, namespace) ?? null) : undefined;
  }

  /** This operator's MateApp (its selector's): a key for any other is not ours to reconcile. */
  private ours(namespace: string, name: string): boolean {
    return !!this.informerFor(API_VERSION, KIND, namespace)?.get(name, namespace);
  }

  private onMateApp(app: MateApp): void {
    const key = appKey(app.metadata.namespace, app.metadata.name);
    // Status writes (ours) do not need another reconcile: only spec and lifecycle changes do.
    const m = app.metadata;
    const signature = `${m.generation}|${m.deletionTimestamp ?? ''}|${(m.finalizers ?? []).join(',')}|${m.uid}`;
    if (this.seen.get(key) === signature) return;
    this.seen.set(key, signature);
    this.queue.add(key);
  }

  private onOwned(o: KubeObject): void {
    const owner = o.metadata.ownerReferences?.find((r) => r.kind === KIND && r.apiVersion.startsWith(`${API_VERSION.split('/')[0]}/`));
    const labels = o.metadata.labels ?? {};
    if (owner && o.metadata.namespace) this.queue.add(appKey(o.metadata.namespace, owner.name));
    else if (labels[LABEL_OWNER_NAMESPACE] && labels[LABEL_OWNER_NAME])
      this.queue.add(appKey(labels[LABEL_OWNER_NAMESPACE], labels[LABEL_OWNER_NAME]));
    else if (labels[LABEL_INSTANCE] && o.metadata.namespace) this.queue.add(appKey(o.metadata.namespace, labels[LABEL_INSTANCE]));
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.length);
      const [namespace, name] = key.split('/') as [string, string];
      if (!this.ours(namespace, name)) {
        this.queue.forget(key);
        this.queue.done(key);
        continue;
      }
      const end = this.metrics.duration.startTimer();
      const log = this.log.child({ mateapp: name, namespace });
      this.heartbeat.begin(key);
      try {
        const result = await this.reconciler.reconcile(namespace, name);
        this.metrics.reconciles.inc({ result: 'success' });
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined && this.running) this.queue.addAfter(key, result.requeueAfterMs);
        log.debug({ event: { action: 'reconciled' }, requeueAfterMs: result.requeueAfterMs }, 'reconciled');
      } catch (err) {
        this.metrics.reconciles.inc({ result: 'error' });
        this.metrics.queueRetries.inc();
        const delay = this.queue.addRateLimited(key);
        log.error({ err, event: { action: 'reconcile-failed' }, retryInMs: delay }, `reconcile failed; retrying in ${delay} ms`);
      } finally {
        end();
        this.heartbeat.end(key);
        this.queue.done(key);
      }
    }
  }
}

export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const identity = opts.identity ?? `${os.hostname()}_${randomBytes(4).toString('hex')}`;
  const log = opts.log;
  const heartbeat = new Heartbeat((opts.stuckAfterSeconds ?? 600) * 1000);
  const metrics = createOperatorMetrics(() => heartbeat.longestRunningSeconds());
  const kube = new Kube(opts.kubeConfig, (verb, code, seconds) => {
    metrics.apiRequests.inc({ verb, code: String(code) });
    metrics.apiLatency.observe({ verb }, seconds);
  });
  const clock = opts.clock ?? (() => new Date());

  let bundle: { at: number; value: MonitoringBundle } | undefined;
  const monitoringBundle = () => {
    if (!bundle || Date.now() - bundle.at > 60_000) bundle = { at: Date.now(), value: loadMonitoringBundle(opts.monitoringDir) };
    return bundle.value;
  };
  let api: { at: number; value: boolean } | undefined;
  const monitoringApi = async () => {
    if (!api || Date.now() - api.at > 60_000) api = { at: Date.now(), value: await kube.serves(MONITORING_API) };
    return api.value;
  };

  // The reconciler reads the caches of the loop that drives it (made below, before any reconcile).
  const reconciler: Reconciler = new Reconciler({
    kube,
    cached: (apiVersion, kind, namespace, labelSelector) => loop.cached(apiVersion, kind, namespace, labelSelector),
    cachedObject: (apiVersion, kind, namespace, name) => loop.cachedObject(apiVersion, kind, namespace, name),
    log,
    clock,
    events: new EventRecorder(kube, log, identity),
    metrics,
    monitoringBundle,
    monitoringApi,
    resyncMs: (opts.resyncSeconds ?? 300) * 1000,
  });
  const loop: Loop = new Loop(kube, reconciler, opts, metrics, log, heartbeat);

  let server: http.Server | undefined;
  let metricsUrl: string | undefined;
  if (opts.metricsPort !== undefined) {
    server = await serveMetrics(
      metrics,
      {
        alive: () => heartbeat.alive(),
        ready: () =>
          isReady({
            leaderElection: !!elector,
            leading: elector?.isLeader ?? true,
            synced: loop.synced,
            lastLeaseContact: elector?.lastContact,
            leaseDurationMs: opts.leaderElection ? opts.leaderElection.leaseDurationSeconds * 1000 : 0,
            now: Date.now(),
          }),
      },
      opts.metricsPort,
      opts.metricsHost,
    );
    const address = server.address() as { port: number };
    metricsUrl = `http://127.0.0.1:${address.port}`;
  }

  let elector: LeaderElector | undefined;
  let stopping: Promise<void> | undefined;
  metrics.leader.set(0);
  const lead = () => {
    metrics.leader.set(1);
    loop.start().catch((err: unknown) => {
      log.error({ err }, 'could not start the control loop');
      opts.onLostLeadership?.();
    });
  };
  if (opts.leaderElection) {
    elector = new LeaderElector(
      kube,
      {
        ...opts.leaderElection,
        identity,
        onStartedLeading: lead,
        onStoppedLeading: () => {
          metrics.leader.set(0);
          void loop.stop().then(() => {
            if (!stopping) opts.onLostLeadership?.();
          });
        },
      },
      log,
    );
    elector.start();
  } else {
    lead();
  }
  log.info({ event: { action: 'operator-started' }, identity, metricsUrl }, `MATE operator ${identity} started`);

  return {
    identity,
    metrics,
    metricsUrl,
    isLeader: () => (elector ? elector.isLeader : true),
    stop: () =>
      (stopping ??= (async () => {
        if (elector) await elector.stop();
        await loop.stop();
        metrics.leader.set(0);
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      })()),
  };
}
