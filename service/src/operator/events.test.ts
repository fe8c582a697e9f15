// Events: one per occurrence, a repeat counted on it (count, lastTimestamp).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../platform/observability/logger.js';
import { EventRecorder } from './events.js';
import { exampleApp } from './fixtures.js';
import type { Kube } from './kube.js';
import { KubeError } from './kube.js';

/** A Kube holding Events by name, as the API server would (create conflicts on a taken name). */
function eventStore() {
  const events = new Map<string, Record<string, any>>();
  let version = 0;
  const kube = {
    create: async (_v: string, _k: string, _ns: string, body: Record<string, any>) => {
      if (events.has(body.metadata.name)) throw new KubeError(409, 'AlreadyExists', 'events already exists');
      events.set(body.metadata.name, { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } });
    },
    get: async (_v: string, _k: string, _ns: string, name: string) => events.get(name),
    patchMerge: async (_v: string, _k: string, _ns: string, name: string, patch: Record<string, any>) => {
      const e = events.get(name)!;
      if (patch.metadata.resourceVersion !== e.metadata.resourceVersion) throw new KubeError(409, 'Conflict', 'modified');
      events.set(name, { ...e, ...patch, metadata: { ...e.metadata, resourceVersion: String(++version) } });
    },
  } as unknown as Kube;
  return { kube, events };
}

describe('Events on a MateApp', () => {
  it('the same occurrence again counts on the one Event; another occurrence is another Event', async () => {
    const { kube, events } = eventStore();
    const recorder = new EventRecorder(kube, createLogger({ level: 'fatal' }), 'op-1');
    const app = exampleApp();
    for (let i = 0; i < 3; i++) await recorder.record(app, 'Warning', 'MigrationFailed', 'migration Job failed', 'hash-1');
    await recorder.record(app, 'Warning', 'MigrationFailed', 'migration Job failed', 'hash-2');
    const all = [...events.values()];
    assert.deepEqual(
      all.map((e) => e.count),
      [3, 1],
    );
    assert.match(all[0]!.metadata.name, /^mate\.migrationfailed\.[0-9a-f]{12}$/);
    assert.ok(all[0]!.lastTimestamp >= all[0]!.firstTimestamp);
  });
});
