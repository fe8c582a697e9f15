// The local control plane (scripts/k8s/up.sh) is up: /readyz passes every
// check, the API server is the pinned Kubernetes version, and kwok's fake
// nodes are Ready.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { k8sVersion, kubeConfig, kubectlOk } from './support.js';

test('the control plane answers /readyz with every check ok', async () => {
  const verbose = await kubectlOk(['get', '--raw', '/readyz?verbose']);
  assert.match(verbose, /^readyz check passed$/m, verbose);
  assert.doesNotMatch(verbose, /^\[-\]/m, `failing readyz checks:\n${verbose}`);
  // Same answer through @kubernetes/client-node's own health client.
  assert.equal(await new k8s.Health(kubeConfig()).readyz({}), true);
});

test('the API server is the Kubernetes version pinned in tools/kube/go.mod', async () => {
  const info = await kubeConfig().makeApiClient(k8s.VersionApi).getCode();
  assert.equal(info.gitVersion, k8sVersion);
});

test('kwok runs Ready fake nodes for the scheduler to use', async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  assert.ok(nodes.items.length >= 3, `expected at least 3 kwok nodes, got ${nodes.items.length}`);
  for (const node of nodes.items) {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', `node ${node.metadata?.name} is not Ready`);
    assert.equal(node.metadata?.annotations?.['kwok.x-k8s.io/node'], 'fake');
  }
});
