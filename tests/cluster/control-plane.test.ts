// The local control plane (scripts/k8s/up.sh) is up: /readyz passes every
// check, the API server is the pinned Kubernetes version, and kwok's fake
// nodes are Ready.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { k8sVersion, kubeConfig, kubectlOk, repoRoot } from './support.js';

// The shared nodes are the ones up.sh names kwok-node-1..K8S_FAKE_NODES; they are read by name, since other
// nodes (the operator tests' private pools, another run's) may come and go while this test runs.
const fakeNodes = Number(
  process.env.K8S_FAKE_NODES ??
    /^K8S_FAKE_NODES="\$\{K8S_FAKE_NODES:-(\d+)\}"$/m.exec(readFileSync(path.join(repoRoot, 'scripts', 'k8s', 'lib.sh'), 'utf8'))?.[1],
);

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
  assert.ok(fakeNodes >= 3, `scripts/k8s/lib.sh makes ${fakeNodes} fake nodes, expected at least 3`);
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (let i = 1; i <= fakeNodes; i++) {
    const node = await core.readNode({ name: `kwok-node-${i}` });
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', `node ${node.metadata?.name} is not Ready`);
    // The shared kwok manages exactly the nodes annotated so; the scheduler may place any pod on them.
    assert.equal(node.metadata?.annotations?.['kwok.x-k8s.io/node'], 'fake');
    assert.equal(node.metadata?.labels?.type, 'kwok');
    assert.ok(!node.spec?.unschedulable && !node.spec?.taints?.length, `node ${node.metadata?.name} is cordoned or tainted`);
  }
});
