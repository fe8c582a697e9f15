/**
 * Leader election with a coordination.k8s.io/v1 Lease, the way client-go's
 * leaderelection package does it: the holder renews the Lease every retry
 * period; a candidate takes it over when it has not seen it change for a
 * lease duration (its own observation time, so clock skew between nodes does
 * not matter); every write carries the resourceVersion it read, so two
 * candidates cannot both win. The leader that cannot renew within the renew
 * deadline stops leading; a leader that stops releases the Lease so a
 * follower takes over at once. The Lease is owned by the operator's
 * Deployment when it is given (ownerDeployment), so that deleting the
 * Deployment (`helm uninstall`) deletes the Lease too.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../platform/observability/logger.js';
import type { Kube } from './kube.js';
import { isConflict, isNotFound } from './kube.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  /** Name of the operator's Deployment in the Lease's namespace: the Lease's owner. */
  ownerDeployment?: string;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; ownerReferences?: k8s.V1OwnerReference[] };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const API = 'coordination.k8s.io/v1';
/** MicroTime: RFC 3339 with microseconds. */
const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** The acquire-or-renew round under way, which stop() lets finish (tick never rejects). */
  private round?: Promise<void>;
  private observed?: { record: string; at: number };
  private lastRenew = 0;
  private owner?: k8s.V1OwnerReference;
  /** When the Lease was last read (ms since the epoch): a follower that reads it stands by correctly. */
  lastContact?: number;

  constructor(
    private readonly kube: Kube,
    private readonly opts: LeaderElectionOptions,
    private readonly log: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.round = this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => (this.round = this.tick()), this.opts.retryPeriodSeconds * 1000);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const won = await this.tryAcquireOrRenew();
      if (won) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.log.info({ event: { action: 'leader-elected' }, lease: this.opts.name }, `${this.opts.identity} is the leader`);
          this.opts.onStartedLeading();
        }
      } else if (this.leading) {
        this.lose('another candidate holds the lease');
      }
    } catch (err) {
      this.log.warn({ err, event: { action: 'leader-renew-failed' } }, 'could not acquire or renew the lease');
      if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineSeconds * 1000) {
        this.lose('the lease was not renewed within the renew deadline');
      }
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.leading = false;
    this.log.warn({ event: { action: 'leader-lost' } }, `stopped leading: ${why}`);
    this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = new Date();
    const lease = await this.kube.get<Lease>(API, 'Lease', namespace, name);
    this.lastContact = Date.now();
    const ownerReferences = await this.ownerReferences();
    if (!lease) {
      try {
        await this.kube.create(API, 'Lease', namespace, {
          apiVersion: API,
          kind: 'Lease',
          metadata: { name, namespace, ...(ownerReferences ? { ownerReferences } : {}) },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity}|${spec.renewTime}|${spec.leaseDurationSeconds}`;
    if (this.observed?.record !== record) this.observed = { record, at: now.getTime() };
    const holder = spec.holderIdentity;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && this.observed.at + duration > now.getTime()) return false;

    const takingOver = holder !== identity;
    const updated: Lease = {
      ...lease,
      metadata: { ...lease.metadata, ...(ownerReferences ? { ownerReferences } : {}) },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder ? 1 : 0),
      },
    };
    try {
      await this.kube.update(API, 'Lease', namespace, name, updated);
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false;
      throw err;
    }
  }

  /** The Deployment as the Lease's owner, once it has been found (a Lease made before it was found gets it on its next renewal). */
  private async ownerReferences(): Promise<k8s.V1OwnerReference[] | undefined> {
    if (!this.opts.ownerDeployment) return undefined;
    if (!this.owner) {
      const d = await this.kube.get<k8s.V1Deployment>('apps/v1', 'Deployment', this.opts.namespace, this.opts.ownerDeployment);
      if (d?.metadata?.uid)
        this.owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: this.opts.ownerDeployment, uid: d.metadata.uid };
    }
    return this.owner ? [this.owner] : undefined;
  }

  /**
   * Stops campaigning; a leader gives the lease up so a follower can take over
   * at once. The round under way finishes first: its renewal would otherwise
   * overwrite the release, or win the conflict against it, and an acquisition
   * it makes is released too (the Lease names this candidate, whatever
   * `leading` says yet).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    const wasLeading = this.leading;
    this.leading = false;
    const { namespace, name, identity } = this.opts;
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.kube.get<Lease>(API, 'Lease', namespace, name);
        if (lease?.spec?.holderIdentity !== identity) break;
        await this.kube.update(API, 'Lease', namespace, name, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
        });
        break;
      } catch (err) {
        if (isConflict(err) && attempt < 3) continue;
        this.log.warn({ err }, 'could not release the lease');
        break;
      }
    }
    if (wasLeading) this.opts.onStoppedLeading();
  }
}
