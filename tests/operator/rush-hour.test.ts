// Commute-aware scaling, with the operator's clock injected (set to a Monday
// morning in Seoul): just before 06:30 the HPA's floor is replicas.min; at
// 06:30 the operator, which requeued itself for that edge, raises it to
// commuteScaling.minReplicas (and scales the Deployment up at once); at 09:30
// it lowers it again. Both are visible in the MateApp's status and Events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  Scope,
  apply,
  createSecrets,
  ensureCrd,
  getMateApp,
  kubeConfig,
  mateApp,
  mateAppEvents,
  namespace,
  operatorInProcess,
  readDeployment,
  stopwatch,
  waitFor,
  waitForCondition,
} from './support.js';

/** A clock that runs at real speed from a chosen instant; `set` jumps it. */
function movableClock(start: Date) {
  let offset = start.getTime() - Date.now();
  return {
    now: () => new Date(Date.now() + offset),
    set(at: Date) {
      offset = at.getTime() - Date.now();
    },
  };
}

const hpaMin = async (ns: string) =>
  (await kubeConfig().makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: 'api', namespace: ns })).spec
    ?.minReplicas;

test('the rush window raises the HPA floor at 06:30 Seoul time and lowers it at 09:30, on the operator’s own requeue', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'rush');
  await createSecrets(ns);
  // Monday 2026-03-02, 06:00 in Seoul (UTC+9).
  const clock = movableClock(new Date('2026-03-02T06:00:00+09:00'));
  const op = await operatorInProcess(scope, { namespace: ns, clock: clock.now });
  const spec = (cpu: number) => ({
    replicas: { min: 2, max: 6, targetCPUUtilizationPercentage: cpu },
    commuteScaling: { enabled: true, timeZone: 'Asia/Seoul', start: '06:30', end: '09:30', minReplicas: 4 },
  });
  await apply(mateApp(ns, 'api', spec(70)));
  const before = await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('Ready at 06:00');
  assert.deepEqual(
    { ...before.status?.scaling },
    {
      rushHour: false,
      minReplicas: 2,
      maxReplicas: 6,
      window: '06:30-09:30 Asia/Seoul Mon,Tue,Wed,Thu,Fri,Sat,Sun',
      nextTransition: '2026-03-01T21:30:00Z',
    },
  );
  assert.equal(await hpaMin(ns), 2);

  // Three seconds before the window: a spec change makes the operator look, and schedule the edge.
  clock.set(new Date('2026-03-02T06:29:57+09:00'));
  const poked = op.logs.length;
  await apply(mateApp(ns, 'api', spec(71)));
  await waitFor('the reconcile that schedules the 06:30 edge', async () => {
    const scheduled = op.logs
      .slice(poked)
      .map((l) => JSON.parse(l) as { event?: { action?: string }; requeueAfterMs?: number })
      .some((r) => r.event?.action === 'reconciled' && (r.requeueAfterMs ?? Infinity) <= 3100);
    return scheduled ? true : undefined;
  });
  assert.equal(await hpaMin(ns), 2, 'the floor was raised before the window');
  const rush = await waitFor(
    'the floor to be raised at 06:30',
    async () => {
      const app = await getMateApp(ns, 'api');
      return app.status?.scaling?.rushHour ? app : undefined;
    },
    15_000,
  );
  mark('06:30 edge');
  assert.ok(clock.now() >= new Date('2026-03-02T06:30:00+09:00'), 'the floor was raised before 06:30');
  assert.equal(await hpaMin(ns), 4);
  assert.equal(rush.status?.scaling?.minReplicas, 4);
  assert.equal(rush.status?.scaling?.nextTransition, '2026-03-02T00:30:00Z');
  // The Deployment is raised at once, not at the HPA's next sync.
  await waitFor(
    '4 ready replicas',
    async () => ((await readDeployment(ns, 'api'))?.status?.readyReplicas === 4 ? true : undefined),
    20_000,
  );

  clock.set(new Date('2026-03-02T09:29:57+09:00'));
  await apply(mateApp(ns, 'api', spec(72)));
  const after = await waitFor(
    'the floor to be lowered at 09:30',
    async () => {
      const app = await getMateApp(ns, 'api');
      return app.status?.scaling && !app.status.scaling.rushHour ? app : undefined;
    },
    15_000,
  );
  mark('09:30 edge');
  assert.ok(clock.now() >= new Date('2026-03-02T09:30:00+09:00'), 'the floor was lowered before 09:30');
  assert.equal(await hpaMin(ns), 2);
  assert.equal(after.status?.scaling?.minReplicas, 2);
  assert.equal(after.status?.scaling?.nextTransition, '2026-03-02T21:30:00Z', 'the next edge is 06:30 the next day');

  const reasons = (await mateAppEvents(ns, 'api')).map((e) => e.reason);
  assert.ok(reasons.includes('RushHourStarted') && reasons.includes('RushHourEnded'), reasons.join(', '));
});
