// Deployments really roll on the local control plane: the controller manager
// makes ReplicaSets and Pods, the scheduler places them on kwok nodes, kwok
// makes them Running/Ready. An image change rolls out through a second
// ReplicaSet and, with maxUnavailable 0, ready replicas never drop below the
// desired count while it does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, restrictedContainerSecurity, sleep, testNamespace, waitFor } from './support.js';

const DESIRED = 3;
const IMAGE_V1 = 'registry.k8s.io/pause:3.9';
const IMAGE_V2 = 'registry.k8s.io/pause:3.10';

function deployment(namespace: string): k8s.V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'rollout' };
  return {
    metadata: { name: 'rollout', namespace, labels },
    spec: {
      replicas: DESIRED,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'app',
              image: IMAGE_V1,
              securityContext: restrictedContainerSecurity,
              resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
            },
          ],
        },
      },
    },
  };
}

function rolledOut(d: k8s.V1Deployment): boolean {
  const s = d.status;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    s?.updatedReplicas === DESIRED &&
    s?.readyReplicas === DESIRED &&
    s?.availableReplicas === DESIRED &&
    s?.replicas === DESIRED
  );
}

test('a Deployment reaches its ready replicas on kwok nodes and rolls out an image change without dropping below them', async (t) => {
  const namespace = await testNamespace(t, 'rollout', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
  const kc = kubeConfig();
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);

  await apps.createNamespacedDeployment({ namespace, body: deployment(namespace) });
  await waitFor('the first rollout', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'rollout', namespace });
    return rolledOut(d) ? d : undefined;
  });

  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=rollout' });
  assert.equal(pods.items.length, DESIRED);
  for (const pod of pods.items) {
    assert.match(pod.spec?.nodeName ?? '', /^kwok-node-/, `pod ${pod.metadata?.name} is not on a kwok node`);
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  }
  const firstSets = await apps.listNamespacedReplicaSet({ namespace });
  assert.equal(firstSets.items.length, 1);
  const firstSet = firstSets.items[0]?.metadata?.name;

  // Poll the Deployment's status throughout the second rollout.
  const samples: { ready: number; available: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const d = await apps.readNamespacedDeployment({ name: 'rollout', namespace });
      samples.push({
        ready: d.status?.readyReplicas ?? 0,
        available: d.status?.availableReplicas ?? 0,
      });
      await sleep(50);
    }
  })();

  try {
    const current = await apps.readNamespacedDeployment({ name: 'rollout', namespace });
    const container = current.spec?.template.spec?.containers[0];
    assert.ok(container);
    container.image = IMAGE_V2;
    await apps.replaceNamespacedDeployment({ name: 'rollout', namespace, body: current });
    await waitFor(
      'the image rollout',
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'rollout', namespace });
        return rolledOut(d) && d.spec?.template.spec?.containers[0]?.image === IMAGE_V2 ? d : undefined;
      },
      120_000,
    );
    await sleep(300); // a few samples after the rollout finished
  } finally {
    polling = false;
    await poller;
  }

  assert.ok(samples.length >= 5, `only ${samples.length} status samples were taken`);
  const minReady = Math.min(...samples.map((s) => s.ready));
  const minAvailable = Math.min(...samples.map((s) => s.available));
  assert.ok(minReady >= DESIRED, `ready replicas dropped to ${minReady} during the rollout`);
  assert.ok(minAvailable >= DESIRED, `available replicas dropped to ${minAvailable} during the rollout`);

  const sets = await apps.listNamespacedReplicaSet({ namespace });
  assert.equal(sets.items.length, 2, 'an image change makes a second ReplicaSet');
  const oldSet = sets.items.find((rs) => rs.metadata?.name === firstSet);
  const newSet = sets.items.find((rs) => rs.metadata?.name !== firstSet);
  // maxSurge 1: the controller went one pod over while it rolled. The surge can be shorter than the status
  // polling period, so it is read from the controller's scaling events: the new ReplicaSet was scaled up
  // before the old one was first scaled down.
  const scaling = (await core.listNamespacedEvent({ namespace })).items
    .filter((e) => e.reason === 'ScalingReplicaSet')
    .sort((a, b) => eventTime(a) - eventTime(b))
    .map((e) => e.message ?? '');
  const firstUp = scaling.findIndex((m) => m.startsWith(`Scaled up replica set ${newSet?.metadata?.name} `));
  const firstDown = scaling.findIndex((m) => m.startsWith(`Scaled down replica set ${firstSet} `));
  assert.ok(firstUp >= 0 && (firstDown < 0 || firstUp < firstDown), `the rollout never surged: ${JSON.stringify(scaling)}`);
  assert.equal(oldSet?.spec?.replicas, 0, 'the old ReplicaSet is scaled to zero');
  assert.equal(newSet?.spec?.replicas, DESIRED);
  assert.equal(newSet?.status?.readyReplicas, DESIRED);
  assert.equal(newSet?.spec?.template?.spec?.containers[0]?.image, IMAGE_V2);
  assert.equal(newSet?.metadata?.ownerReferences?.[0]?.kind, 'Deployment');

  const after = await waitFor('the old pods to be gone', async () => {
    const list = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/name=rollout' });
    return list.items.length === DESIRED ? list : undefined;
  });
  for (const pod of after.items) assert.equal(pod.spec?.containers[0]?.image, IMAGE_V2);
});

/** When an event happened: events.k8s.io fills eventTime, the core API's older writers firstTimestamp. */
function eventTime(e: k8s.CoreV1Event): number {
  return new Date(e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? 0).getTime();
}
