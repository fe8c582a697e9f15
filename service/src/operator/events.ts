/**
 * Kubernetes Events on a MateApp (`kubectl describe mateapp` shows them).
 * Each event has a name derived from what it reports, so reporting the same
 * thing twice (a retried reconcile, a restarted operator) creates it once.
 */
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

  /** Records an event once per (app, reason, key); never throws (events are best effort). */
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
      if (isConflict(err)) return; // already recorded
      this.log.warn({ err, reason }, 'could not record an event');
    }
  }
}
