// Zero-downtime releases on the real node, through a real Ingress controller
// (Traefik, tests/cluster/ingress.ts): the pressure suite's morning rush (90 %
// reads, 10 % reservations and cancellations by seeded riders) runs through
// the Ingress while
//   1. `helm upgrade` to a new image: the migration Job first, then the rollout;
//   2. `helm upgrade --atomic` to an image whose API exits at start (a crash loop);
//   3. `helm upgrade --atomic` to an image whose API never turns ready;
//   4. `kubectl delete pod` of a serving pod.
// Not one request may fail in any phase, the ready endpoints of the Service
// never drop below the replicas wanted during the upgrades (nor below the
// others while a deleted pod is replaced), the failed upgrades are rolled back by
// the operator and by Helm, and afterwards every acknowledged reservation is in
// the database and no carpool is overbooked. Each phase's figures are printed.
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { run as load, type RunResult } from '../load/lib/load.js';
import { createStack } from '../load/lib/stack.js';
import { checkLedger, morningRush, seed } from '../load/lib/workloads.js';
import { CHART_DIR, Scope, apps, core, ensureCrd, helm, mateAppEvents, namespace, stopwatch, tempDir } from '../operator/support.js';
import { getThrough, startTraefik, waitForRoute } from './ingress.js';
import {
  buildInfoOf,
  containerIdOf,
  containerLogFile,
  crane,
  criJsonLines,
  dependencySecrets,
  installChart,
  node,
  onNode,
  serviceImage,
} from './real-node.js';
import { kubeConfig, kubectlOk, run, waitFor } from './support.js';

const RELEASE = 'mate';
const HOST = 'mate.test';
const REPLICAS = 2;
const RATE = Number(process.env.ROLLOUT_RATE ?? 40);

type Image = ReturnType<typeof serviceImage>;

/** A variant of the service image under a tag of its own: a new label only, or a layer that replaces the API's entry point. */
async function variant(scope: Scope, image: Image, tag: string, apiJs?: string): Promise<string> {
  const base = `${image.repository}@${image.digest}`;
  const target = `${image.repository}:${tag}`;
  let r;
  if (apiJs === undefined) {
    r = await crane(['mutate', base, '--label', `dev.mate.test-variant=${tag}`, '-t', target]);
  } else {
    const config = JSON.parse((await crane(['config', base])).stdout) as { config: { WorkingDir: string } };
    const dir = tempDir(scope, 'mate-layer-');
    const file = path.join(dir, 'root', config.config.WorkingDir, 'dist', 'main', 'api.js');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, apiJs);
    const tar = path.join(dir, 'layer.tar');
    const t = await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', path.join(dir, 'root'), '-cf', tar, '.']);
    assert.equal(t.code, 0, t.stderr);
    r = await crane(['append', '-b', base, '-f', tar, '-t', target]);
  }
  assert.equal(r.code, 0, r.stderr);
  return tag;
}

/** The ready endpoints of the API's Service (what the Ingress routes to), sampled every 200 ms: the lowest seen. */
function watchReadyEndpoints(ns: string) {
  const discovery = kubeConfig().makeApiClient(k8s.DiscoveryV1Api);
  let min = Infinity;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${RELEASE}` });
      const ready = slices.items.flatMap((sl) => sl.endpoints ?? []).filter((e) => e.conditions?.ready).length;
      min = Math.min(min, ready);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    /** The lowest count since the last call. */
    take: () => {
      const m = min;
      min = Infinity;
      return m;
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

interface Phase {
  name: string;
  /** The fewest ready endpoints allowed: a rollout keeps every replica wanted; a deleted pod is gone until its replacement is ready. */
  floor: number;
  seconds: number;
  result: RunResult;
  minReady: number;
}

function fmt(p: Phase): string {
  const r = p.result;
  return `${p.name}: ${p.seconds.toFixed(1)} s, ${r.requests} requests (${Math.round(r.rps)}/s), ${r.failures} failed, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms, fewest ready endpoints ${p.minReady}`;
}

test(
  'helm upgrades and a pod deletion under the morning rush through the Ingress: no failed request, no lost reservation',
  { timeout: 900_000 },
  async (t: TestContext) => {
    const mark = stopwatch(t);
    const image = serviceImage();
    await ensureCrd();
    const scope = new Scope(t);
    const ns = await namespace(scope, 'rollout');

    const stack = await createStack({ env: { ACCESS_TOKEN_TTL_SECONDS: String(2 * 3600) } });
    scope.defer('close the stack', () => stack.close());
    const seeded = await seed(stack.fixtureApp(''), { carpools: 16, riders: 80, contenders: 0, hot: 0, signins: 0 });
    const rush = morningRush(seeded);
    const s3 = await dependencySecrets(ns, {
      databaseUrl: stack.env.DATABASE_URL!,
      redisUrl: stack.env.REDIS_URL!,
      smtpUrl: stack.env.SMTP_URL!,
      jwtKeys: stack.env.JWT_KEYS!,
      bucket: stack.env.S3_BUCKET!,
    });
    mark('stack and seed');

    const ingress = await startTraefik(scope, ns);
    const values = {
      image: { repository: image.repository, tag: image.tag },
      operator: { replicas: 1, ...onNode() },
      app: {
        replicas: { min: REPLICAS, max: REPLICAS },
        commuteScaling: { enabled: false },
        scheduling: onNode(),
        s3,
        redis: { keyPrefix: stack.env.REDIS_KEY_PREFIX },
        serviceDay: { startHour: Number(stack.env.SERVICE_DAY_START_HOUR) },
        api: {
          drainDelaySeconds: 3,
          shutdownTimeoutSeconds: 10,
          env: [{ name: 'ACCESS_TOKEN_TTL_SECONDS', value: stack.env.ACCESS_TOKEN_TTL_SECONDS }],
        },
        ingress: { enabled: true, className: ingress.className, host: HOST },
        rollout: { progressDeadlineSeconds: 20 },
      },
      hooks: { timeoutSeconds: 200, errorGraceSeconds: 30 },
      test: { enabled: false },
    };
    const valuesFile = await installChart(scope, ns, RELEASE, values);
    mark('helm install');

    // The Ingress routes the three prefixes to the API (its problem documents, not Traefik's 404).
    await waitForRoute(ingress, HOST, '/api/v1/carpools');
    const routed = {
      v1: await getThrough(ingress, HOST, '/api/v1/carpools'),
      legacy: await getThrough(ingress, HOST, '/api/carpool/list'),
      files: await getThrough(ingress, HOST, '/file/none'),
      elsewhere: await getThrough(ingress, HOST, '/readyz'),
    };
    for (const [name, r] of Object.entries(routed).slice(0, 3))
      assert.ok(
        r.status === 401 || r.contentType.startsWith('application/problem+json'),
        `${name} was not routed to the API: ${r.status} ${r.body.slice(0, 200)}`,
      );
    assert.equal(routed.elsewhere.status, 404, 'a path outside the Ingress reached the API');
    assert.ok(!routed.elsewhere.contentType.startsWith('application/problem+json'), 'a path outside the Ingress reached the API');
    mark('routes through the Ingress');

    const v2 = await variant(scope, image, `${image.tag}-v2-${ns}`);
    const crashing = await variant(
      scope,
      image,
      `${image.tag}-crash-${ns}`,
      "console.error('this build exits at start'); process.exit(3);\n",
    );
    const neverReady = await variant(
      scope,
      image,
      `${image.tag}-unready-${ns}`,
      "import('node:http').then(({ createServer }) => createServer((q, s) => { s.statusCode = q.url === '/readyz' ? 503 : 200; s.end(); }).listen(Number(process.env.PORT)));\n",
    );
    mark('image variants');

    const upgrade = (tag: string) =>
      helm([
        'upgrade',
        RELEASE,
        CHART_DIR,
        '-n',
        ns,
        '-f',
        valuesFile,
        '--set-string',
        `image.tag=${tag}`,
        '--wait',
        '--atomic',
        '--timeout=240s',
      ]);
    const deployedImage = async () =>
      (await apps().readNamespacedDeployment({ name: RELEASE, namespace: ns })).spec?.template.spec?.containers.find(
        (c) => c.name === 'api',
      )?.image;
    const allReady = () =>
      waitFor(
        `${REPLICAS} ready API pods of one version`,
        async () => {
          const d = await apps().readNamespacedDeployment({ name: RELEASE, namespace: ns });
          const s = d.status;
          return s?.readyReplicas === REPLICAS && s.updatedReplicas === REPLICAS && s.replicas === REPLICAS ? true : undefined;
        },
        120_000,
      );

    const ready = watchReadyEndpoints(ns);
    scope.defer('stop the endpoint watch', () => ready.stop());
    const workload = {
      next: () => {
        const req = rush.next();
        return { ...req, headers: { ...req.headers, host: HOST } };
      },
      done: rush.done,
      failed: rush.failed,
    };
    const phases: Phase[] = [];
    const phase = async (name: string, action: () => Promise<void>, floor = REPLICAS) => {
      const t0 = performance.now();
      ready.take();
      const acting = action();
      const result = await load(name, { url: ingress.url, workload, connections: 8, rate: RATE, duration: 600, until: acting });
      await acting;
      const p = { name, floor, seconds: (performance.now() - t0) / 1000, result, minReady: ready.take() };
      phases.push(p);
      t.diagnostic(fmt(p));
      mark(name);
    };

    await phase('steady', () => new Promise((r) => setTimeout(r, 5000)));

    await phase('helm upgrade to a new image', async () => {
      // The old pods' logs, held open: the kubelet removes a deleted pod's files.
      const oldPods = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=api' })).items;
      const oldLogs = oldPods.map((p) => ({ pod: p.metadata!.name!, fd: openSync(containerLogFile(ns, p.metadata!.name!, 'api'), 'r') }));
      const r = await upgrade(v2);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(await deployedImage(), `${image.repository}:${v2}`);
      await allReady();
      // The new revision's migration ran, in a pod of its own, before the new pods.
      const migrations = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=migration' })).items;
      const migration = migrations
        .filter((p) => p.spec?.containers[0]?.image === `${image.repository}:${v2}`)
        .sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))
        .at(-1);
      assert.ok(migration, 'no migration pod of the new image');
      const finished = migration.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(finished?.exitCode, 0, 'the migration pod did not succeed');
      const apiPods = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=api' })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
      for (const p of apiPods)
        assert.ok(
          new Date(p.metadata!.creationTimestamp!) >= new Date(finished!.finishedAt!),
          `${p.metadata?.name} started before the migration finished`,
        );
      // mate_build_info tells the releases apart: the new tag (the same build, so the same commit).
      for (const p of apiPods) {
        const api = p.status?.containerStatuses?.find((c) => c.name === 'api');
        assert.match(await buildInfoOf(containerIdOf(api)), new RegExp(`^mate_build_info\\{version="${v2}",commit="[0-9a-f]{40}"\\} 1$`));
      }
      // Each old pod got SIGTERM, drained and stopped cleanly.
      for (const { pod, fd } of oldLogs) {
        const actions = criJsonLines(readFileSync(fd, 'utf8'))
          .map((l) => (l.event as { action?: string } | undefined)?.action)
          .filter(Boolean);
        closeSync(fd);
        assert.deepEqual(actions.slice(-2), ['drain-start', 'shutdown-complete'], `${pod} did not drain and stop cleanly`);
      }
    });

    for (const [name, tag] of [
      ['helm upgrade --atomic to an image that crash-loops', crashing],
      ['helm upgrade --atomic to an image that never turns ready', neverReady],
    ] as const) {
      await phase(name, async () => {
        const r = await upgrade(tag);
        assert.notEqual(r.code, 0, `the upgrade to ${tag} succeeded: ${r.stdout}`);
        assert.match(r.stderr + r.stdout, /roll(ed)?[ -]?back|rollback/i, 'helm did not roll back');
        assert.equal(await deployedImage(), `${image.repository}:${v2}`, 'the Deployment does not run the last good image');
        const events = await mateAppEvents(ns, RELEASE);
        assert.ok(
          events.some((e) => e.reason === 'RolledBack' && e.message.includes(tag)),
          `the operator did not roll back ${tag}: ${JSON.stringify(events)}`,
        );
        await allReady();
      });
    }

    await phase(
      'kubectl delete pod of a serving pod',
      async () => {
        const pods = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=api' })).items;
        const victim = pods.find((p) => p.status?.containerStatuses?.every((c) => c.ready))!;
        await kubectlOk(['-n', ns, 'delete', 'pod', victim.metadata!.name!, '--wait=true', '--timeout=60s']);
        await allReady();
      },
      REPLICAS - 1,
    );
    await ready.stop();

    const summary = phases.map(fmt).join('\n');
    console.log(`rollout through the Ingress on ${node.name}, ${RATE} req/s:\n${summary}`);
    for (const p of phases) {
      assert.equal(p.result.failures, 0, `${p.name}: failed requests ${JSON.stringify(p.result.outcomes)}\n${summary}`);
      assert.ok(p.minReady >= p.floor, `${p.name}: only ${p.minReady} ready endpoints\n${summary}`);
    }
    const ledger = await checkLedger(stack.fixtureApp(''), seeded.riders, seeded.carpoolIds);
    assert.ok(rush.writes.acks.reserved > 0, 'reservations were made');
    assert.deepEqual(
      { lost: ledger.lost, unexpected: ledger.unexpected, overbooked: ledger.overbooked, mismatched: ledger.mismatched },
      { lost: 0, unexpected: 0, overbooked: 0, mismatched: 0 },
    );
    console.log(
      `reservations: ${rush.writes.acks.reserved} acknowledged, ${rush.writes.acks.cancelled} cancelled; ${ledger.judged} riders judged: lost 0, overbooked 0`,
    );
  },
);
