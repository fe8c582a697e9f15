// What observe reads, and from where: the owned objects from the informers'
// caches (no request), only the referenced Secrets from the API server, and
// the API server for what no informer holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exampleApp } from './fixtures.js';
import type { Kube } from './kube.js';
import { KubeError } from './kube.js';
import { migrationHash } from './names.js';
import { observe } from './observe.js';
import type { ObserveDeps } from './observe.js';
import type { KubeObject } from './types.js';

const bundle = { dir: '/x', dashboards: [], ruleSpec: { groups: [] }, problems: [] };

/** A Kube that answers from a few objects and records every request. */
function kube(secrets: Record<string, 'forbidden' | object>, requests: string[]): Kube {
  return {
    get: async (_apiVersion: string, kind: string, _ns: string, name: string) => {
      requests.push(`GET ${kind}/${name}`);
      const s = secrets[name];
      if (s === 'forbidden') throw new KubeError(403, 'Forbidden', 'secrets is forbidden');
      return kind === 'Secret' ? s : undefined;
    },
    list: async (_apiVersion: string, kind: string, namespace: string) => {
      requests.push(`LIST ${kind} in ${namespace}`);
      return { items: [] };
    },
  } as unknown as Kube;
}

describe('what a reconcile observes', () => {
  const app = exampleApp();
  app.metadata.uid = 'uid-1';
  const jobName = `mate-migrate-${migrationHash(app.spec, app.spec.image)}`;
  const secrets = { 'mate-database': { data: { url: 'eA==' } }, 'mate-redis': 'forbidden' as const };

  it('the owned objects from the informers, only the referenced Secrets from the API server', async () => {
    const requests: string[] = [];
    const mine = { uid: 'uid-1', apiVersion: 'mate.example.com/v1alpha1', kind: 'MateApp', name: 'mate' };
    const service: KubeObject = { apiVersion: '', kind: '', metadata: { name: 'mate', ownerReferences: [mine] } };
    const theirs: KubeObject = { apiVersion: '', kind: '', metadata: { name: 'other', ownerReferences: [{ ...mine, uid: 'uid-2' }] } };
    const deps: ObserveDeps = {
      kube: kube(secrets, requests),
      cached: (_v, kind) => (kind === 'Service' ? [service, theirs] : []),
      cachedObject: (_v, kind, _ns, name) =>
        kind === 'Deployment' ? { apiVersion: 'apps/v1', kind, metadata: { name } } : kind === 'Job' ? null : undefined,
      monitoringBundle: () => bundle,
      monitoringApi: async () => true,
    };
    const o = await observe(deps, app);
    assert.ok(
      requests.every((r) => r.startsWith('GET Secret/')),
      `an owned object was asked of the API server: ${requests.join(', ')}`,
    );
    assert.equal(new Set(requests).size, requests.length, 'a Secret read twice');
    assert.equal(o.deployment?.metadata?.name, 'mate');
    assert.equal(o.job, undefined, `${jobName} is not in the cache`);
    assert.deepEqual(
      o.owned.map((x) => `${x.apiVersion}/${x.kind}/${x.metadata.name}`),
      ['v1/Service/mate'],
      'another MateApp’s object, or one without its kind',
    );
    assert.equal(o.secrets.get('mate-redis'), 'forbidden');
    assert.equal(o.secrets.get('mate-smtp'), null);
    assert.deepEqual(o.secrets.get('mate-database'), secrets['mate-database']);
  });

  it('the API server when nothing is informed (not synced yet, or a namespace not watched)', async () => {
    const requests: string[] = [];
    const elsewhere = exampleApp();
    elsewhere.spec.monitoring.dashboards.namespace = 'grafana';
    await observe({ kube: kube(secrets, requests), monitoringBundle: () => bundle, monitoringApi: async () => false }, elsewhere);
    assert.ok(requests.includes('GET Deployment/mate'));
    assert.ok(requests.includes(`GET Job/${jobName}`));
    assert.ok(requests.includes('LIST Service in mate'));
    assert.ok(requests.includes('LIST ConfigMap in grafana'), 'the dashboards in another namespace');
    assert.ok(!requests.some((r) => /ServiceMonitor|PrometheusRule/.test(r)), 'monitoring kinds without their API');
  });
});
