// PodSecurity admission is on: a namespace labelled
// pod-security.kubernetes.io/enforce=restricted refuses a pod that runs as
// root, and accepts one that meets the restricted standard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { apiMessage, apiStatus, kubeConfig, restrictedContainerSecurity, testNamespace, waitFor } from './support.js';

test('a root pod is rejected in a namespace that enforces the restricted level', async (t) => {
  const namespace = await testNamespace(t, 'psa', {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  });
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);

  const rootPod: k8s.V1Pod = {
    metadata: { name: 'runs-as-root', namespace },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsUser: 0 },
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
    },
  };
  const err = await core.createNamespacedPod({ namespace, body: rootPod }).then(
    () => assert.fail('the API server accepted a pod that runs as root'),
    (e: unknown) => e,
  );
  assert.equal(apiStatus(err), 403, apiMessage(err));
  const message = apiMessage(err);
  assert.match(message, /violates PodSecurity "restricted:latest"/);
  assert.match(message, /runAsNonRoot|runAsUser=0/);
  await assert.rejects(core.readNamespacedPod({ name: 'runs-as-root', namespace }), (e) => apiStatus(e) === 404);

  // Control: the same namespace admits a pod that meets the standard, and it
  // runs on a kwok node.
  const compliant: k8s.V1Pod = {
    metadata: { name: 'restricted-ok', namespace },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', securityContext: restrictedContainerSecurity }],
    },
  };
  await core.createNamespacedPod({ namespace, body: compliant });
  const running = await waitFor('the compliant pod to run', async () => {
    const pod = await core.readNamespacedPod({ name: 'restricted-ok', namespace });
    return pod.status?.phase === 'Running' ? pod : undefined;
  });
  assert.match(running.spec?.nodeName ?? '', /^kwok-node-/);
});
