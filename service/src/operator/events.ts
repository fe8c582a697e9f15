/**
 * Kubernetes Events on a MateApp (`kubectl describe mateapp` shows them).
 * Each event has a name derived from what it reports, so reporting the same
 * thing again (a reconcile that finds the same state, a retry, a restarted
 * operator) does not make another: it counts the repeat on the one there is
 * (count and lastTimestamp, as the Kubernetes event recorder does).
 */
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../platform/observability/logger.js';
import type { Kube } from './kube.js';
import { isConflict } from './kube.js';
import { shortHash } from './names.js';
import type { MateApp } from './types.js';
import { FIELD_MANAGER } from './types.js';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
    private readonly instance: string,
  ) {}

  /** Records an event once per (app, reason, key), counting repeats; never throws (events are best effort). */
  async record(app: MateApp, type: EventType, reason: string, message: string, key: string): Promise<void> {
    const name = `${app.metadata.name}.${reason.toLowerCase()}.${shortHash(`${app.metadata.uid}|${key}`, 12)}`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await this.kube.create('v1', 'Event', app.metadata.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: app.metadata.namespace },
        involvedObject: {
          apiVersion: app.apiVersion,
          kind: app.kind,
          name: app.metadata.name,
          namespace: app.metadata.namespace,
          uid: app.metadata.uid,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: FIELD_MANAGER },
        reportingComponent: FIELD_MANAGER,
        reportingInstance: this.instance.slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      this.log.info({ event: { action: 'k8s-event', reason }, mateapp: app.metadata.name, namespace: app.metadata.namespace }, message);
    } catch (err) {
      if (isConflict(err)) return this.repeated(app.metadata.namespace, name, now, reason);
      this.log.warn({ err, reason }, 'could not record an event');
    }
  }

  private async repeated(namespace: string, name: string, now: string, reason: string): Promise<void> {
    try {
      const event = await this.kube.get<k8s.CoreV1Event>('v1', 'Event', namespace, name);
      if (!event) return; // expired between the two calls
      // The resourceVersion makes two operators' counts of one repeat conflict instead of both landing.
      await this.kube.patchMerge('v1', 'Event', namespace, name, {
        metadata: { resourceVersion: event.metadata.resourceVersion },
        count: (event.count ?? 1) + 1,
        lastTimestamp: now,
      });
    } catch (err) {
      if (!isConflict(err)) this.log.warn({ err, reason }, 'could not count a repeated event');
    }
  }
}
