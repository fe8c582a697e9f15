// Leader election with a coordination.k8s.io Lease: of two operator
// processes only the one holding the Lease reconciles (the other's reconcile
// counter stays at zero and it writes nothing); when the leader dies, the
// other takes the Lease once it expires and carries on; a leader stopped with
// SIGTERM hands the Lease over at once. Each test's operators watch only its
// namespace and hold a Lease there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  Scope,
  TEST_LEASE,
  apply,
  createSecrets,
  ensureCrd,
  kubeConfig,
  mateApp,
  namespace,
  operatorProcess,
  stopwatch,
  waitFor,
  waitForCondition,
} from './support.js';
import type { OperatorProcess } from './support.js';

const LEASE = 'mate-operator';

const lease = (ns: string) => kubeConfig().makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: ns });
const reconciles = async (op: OperatorProcess) => (await op.metric('mate_operator_reconcile_total')) ?? 0;
// A reconcile is counted when it ends, after the writes a test sees (the status, the HPA): wait for the count.
const reconciled = (op: OperatorProcess) =>
  waitFor(`${op.name} to count a reconcile`, async () => ((await reconciles(op)) > 0 ? true : undefined), 30_000);
const acted = (op: OperatorProcess) =>
  op.records().filter((r) => ['reconciled', 'k8s-event', 'loop-started'].includes((r.event as { action?: string })?.action ?? ''));

/**
 * Every version of the Lease, through a watch: who held it, when they acquired and last renewed it (a poll
 * could miss the dead leader's last renewal).
 */
async function leaseHistory(scope: Scope, ns: string) {
  const seen: { holder: string; acquired: number; renewed: number }[] = [];
  const at = (t: unknown) => new Date(t as string).getTime();
  const watch = await new k8s.Watch(kubeConfig()).watch(
    `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
    { fieldSelector: `metadata.name=${LEASE}` },
    (_type: string, l: k8s.V1Lease) =>
      seen.push({ holder: l.spec?.holderIdentity ?? '', acquired: at(l.spec?.acquireTime), renewed: at(l.spec?.renewTime) }),
    () => {},
  );
  scope.defer('stop the Lease watch', () => watch.abort());
  return seen;
}

async function hpaMax(ns: string): Promise<number | undefined> {
  const hpa = await kubeConfig().makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: 'api', namespace: ns });
  return hpa.spec?.maxReplicas;
}

test('two operator processes: only the Lease holder acts, and the other takes over when it dies', async (t) => {
  const mark = stopwatch(t);
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'leader');
  await createSecrets(ns);
  const history = await leaseHistory(scope, ns);
  const a = await operatorProcess(scope, { namespace: ns, name: 'alpha' });
  const b = await operatorProcess(scope, { namespace: ns, name: 'bravo' });
  const holder = await waitFor('a leader', async () => (await lease(ns)).spec?.holderIdentity || undefined);
  const [leader, follower] = holder.startsWith('alpha_') ? [a, b] : [b, a];
  assert.match(holder, new RegExp(`^${leader.name}_\\d+$`));
  mark(`${leader.name} leads`);

  await apply(mateApp(ns, 'api'));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  mark('Ready');
  assert.equal(await leader.metric('mate_operator_leader'), 1);
  assert.equal(await follower.metric('mate_operator_leader'), 0);
  await reconciled(leader);
  assert.equal(await reconciles(follower), 0, 'the follower reconciled');
  assert.deepEqual(acted(follower), [], 'the follower acted');
  assert.ok(acted(leader).length > 0);

  // The leader dies without releasing the Lease: the follower waits for it to
  // expire (4 s in tests), then leads and reconciles a change.
  const killedAt = Date.now();
  await leader.stop('SIGKILL');
  const taken = await waitFor('the follower to take the Lease', async () => history.find((h) => h.holder.startsWith(`${follower.name}_`)));
  const takeover = (Date.now() - killedAt) / 1000;
  // Measured from the leader's last renewal, not from the kill: on a loaded machine renewals come late,
  // and the Lease is valid for its duration after the last one. The follower times that from its own read
  // of the renewal (client-go's rule, immune to clock skew), so one retry period is allowed.
  const renewals = history.filter((h) => h.holder === holder).map((h) => h.renewed);
  assert.ok(renewals.length > 0, "the watch saw none of the leader's renewals");
  const lastRenewal = Math.max(...renewals);
  const waited = (taken.acquired - lastRenewal) / 1000;
  mark(`${follower.name} took over after ${takeover.toFixed(1)} s, ${waited.toFixed(1)} s after the last renewal`);
  const duration = Number(TEST_LEASE.LEASE_DURATION_SECONDS);
  const retry = Number(TEST_LEASE.RETRY_PERIOD_SECONDS);
  assert.ok(waited >= duration - retry, `took over ${waited} s after the leader's last renewal, before the ${duration} s Lease expired`);
  assert.ok(takeover < 15, `took over only after ${takeover} s`);
  assert.equal((await lease(ns)).spec?.leaseTransitions, 1);
  await apply(mateApp(ns, 'api', { replicas: { min: 2, max: 8 } }));
  await waitFor('the new leader to apply the change', async () => ((await hpaMax(ns)) === 8 ? true : undefined));
  assert.equal(await follower.metric('mate_operator_leader'), 1);
  await reconciled(follower);
  mark('change applied by the new leader');
});

test('a leader stopped with SIGTERM releases the Lease and the other takes over at once', async (t) => {
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'handover');
  await createSecrets(ns);
  // Long leases: a takeover faster than their duration can only come from a release.
  const env = { LEASE_DURATION_SECONDS: '30', RENEW_DEADLINE_SECONDS: '20', RETRY_PERIOD_SECONDS: '1' };
  const a = await operatorProcess(scope, { namespace: ns, name: 'alpha', env });
  const b = await operatorProcess(scope, { namespace: ns, name: 'bravo', env });
  const holder = await waitFor('a leader', async () => (await lease(ns)).spec?.holderIdentity || undefined);
  const [leader, follower] = holder.startsWith('alpha_') ? [a, b] : [b, a];
  const stoppedAt = Date.now();
  assert.equal(await leader.stop('SIGTERM'), 0, 'the operator did not exit 0 on SIGTERM');
  await waitFor('the follower to take the Lease', async () =>
    (await lease(ns)).spec?.holderIdentity?.startsWith(`${follower.name}_`) ? true : undefined,
  );
  const handover = (Date.now() - stoppedAt) / 1000;
  t.diagnostic(`handover after ${handover.toFixed(1)} s`);
  assert.ok(handover < 10, `handover took ${handover} s (the 30 s lease expired instead of being released)`);
  await apply(mateApp(ns, 'api'));
  await waitForCondition(ns, 'api', 'Ready', 'True', 'Available');
  await reconciled(follower);
});
