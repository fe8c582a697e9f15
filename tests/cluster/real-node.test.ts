// MATE on the control plane's real node (scripts/k8s/node-up.sh: kubelet,
// containerd, runc, CNI, kube-proxy, CoreDNS), with the service image built
// without Docker (scripts/k8s/images.sh) and pulled by the kubelet from the
// node's registry:
// - the image's config is what service/Dockerfile's runtime stage declares;
// - `helm install` of charts/mate into a restricted namespace runs for real:
//   the operator as the chart's Deployment, the migration Job's pod against
//   MariaDB with the schema owner's account, the API pods with an account of
//   row rights only against MariaDB, Redis, MinIO and an SMTP sink
//   (loopback services forwarded into the node's network), the post-install
//   hook's pod, `helm test`'s pod;
// - what the chart claims of the API pods holds in the running containers:
//   uid 10001, no capabilities, seccomp, no_new_privs, a read-only root with
//   writable volumes; the Service routes and cluster DNS answers; a deleted
//   pod drains and exits within its grace period;
// - the Filebeat sidecar, at the version the chart ships (built by
//   scripts/observability/tools.sh, imaged by images.sh), runs as a native
//   sidecar under the same restrictions and reads the API's log file.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { parseArg, parseDockerfile, parseEnv, parseLabels } from '../image/dockerfile.js';
import { headCommit } from '../image/oci-images.js';
import { Scope, apps, condition, core, ensureCrd, helm, namespace, stopwatch, waitForCondition } from '../operator/support.js';
import {
  buildInfoOf,
  containerIdOf,
  containerLogFile,
  crane,
  criJsonLines,
  execInContainer,
  filebeatImage,
  inNode,
  installChart,
  node,
  realNodeValues,
  releaseDependencies,
  serviceImage,
} from './real-node.js';
import { kubectlOk, repoRoot, waitFor } from './support.js';

const RELEASE = 'mate';

/** What service/Dockerfile's last stage declares with these build arguments, read from its text (not from the build). */
function declaredRuntime(buildArgs: Record<string, string>) {
  const df = parseDockerfile(readFileSync(path.join(repoRoot, 'service', 'Dockerfile'), 'utf8'));
  const stage = df.stages.at(-1)!;
  const vars = { ...df.globalArgs };
  const out = {
    env: {} as Record<string, string>,
    labels: {} as Record<string, string>,
    user: '',
    workdir: '/',
    volumes: [] as string[],
    exposed: [] as string[],
  };
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const ins of stage.instructions) {
    if (ins.keyword === 'ARG') {
      for (const [name, value] of Object.entries(parseArg(ins.args, df.globalArgs))) vars[name] = buildArgs[name] ?? value;
    }
    if (ins.keyword === 'ENV') Object.assign(out.env, parseEnv(ins.args, { ...vars, ...out.env }));
    if (ins.keyword === 'LABEL') Object.assign(out.labels, parseLabels(ins.args, vars));
    if (ins.keyword === 'USER') out.user = ins.args;
    if (ins.keyword === 'WORKDIR') out.workdir = path.posix.resolve(out.workdir, ins.args);
    if (ins.keyword === 'VOLUME') out.volumes.push(...(ins.json ?? ins.args.split(/\s+/)));
    if (ins.keyword === 'EXPOSE') out.exposed.push(...ins.args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
    if (ins.keyword === 'ENTRYPOINT') entrypoint = ins.json ?? [];
    if (ins.keyword === 'CMD') cmd = ins.json ?? [];
  }
  const nodeVersion = /^node:(\d+\.\d+\.\d+)-/.exec(stage.from)?.[1];
  return { ...out, entrypoint, cmd, nodeVersion };
}

test("the service image's config is what service/Dockerfile's runtime stage declares", async () => {
  const image = serviceImage();
  const r = await crane(['config', `${image.repository}@${image.digest}`]);
  assert.equal(r.code, 0, r.stderr);
  const config = (JSON.parse(r.stdout) as { config: Record<string, unknown> }).config as {
    User: string;
    WorkingDir: string;
    Env: string[];
    Entrypoint: string[];
    Cmd: string[];
    Volumes: Record<string, object>;
    ExposedPorts: Record<string, object>;
    Labels: Record<string, string>;
  };
  // Built from this checkout, tagged with its version: the build arguments images.sh passes.
  const head = headCommit(repoRoot);
  const want = declaredRuntime({ VERSION: image.tag, GIT_COMMIT: head });
  for (const [k, v] of Object.entries(want.labels)) assert.equal(config.Labels?.[k], v, `LABEL ${k}`);
  assert.equal(config.Labels['org.opencontainers.image.revision'], head, 'the image names another commit');
  assert.ok(want.nodeVersion, 'the runtime stage is not FROM node:<version>-…');
  assert.equal(config.User, want.user);
  assert.equal(config.WorkingDir, want.workdir);
  assert.deepEqual(config.Entrypoint, want.entrypoint);
  assert.deepEqual(config.Cmd, want.cmd);
  assert.deepEqual(Object.keys(config.Volumes ?? {}).sort(), [...want.volumes].sort());
  assert.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), [...want.exposed].sort());
  const env = Object.fromEntries(config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const [k, v] of Object.entries(want.env)) assert.equal(env[k], v, `ENV ${k}`);
  assert.equal(env.NODE_VERSION, want.nodeVersion, "the base image's Node version");
});

/** Reads /proc/<pid>/status fields of a container's PID 1, from inside the container. */
async function containerStatus(containerId: string): Promise<Record<string, string>> {
  const r = await execInContainer(containerId, ['cat', '/proc/1/status']);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

test('helm install on the real node: operator, migration, API, hooks and helm test run as real pods; the pods are what the chart claims', async (t) => {
  const mark = stopwatch(t);
  const image = serviceImage();
  const head = headCommit(repoRoot);
  const filebeat = filebeatImage();
  const chartValues = YAML.parse(readFileSync(path.join(repoRoot, 'charts', 'mate', 'values.yaml'), 'utf8')) as {
    app: { logging: { filebeatImage: string } };
  };
  assert.equal(
    chartValues.app.logging.filebeatImage.split(':').at(-1),
    filebeat.tag,
    'the chart ships another Filebeat than the one the tests build',
  );
  await ensureCrd();
  const scope = new Scope(t);
  const ns = await namespace(scope, 'realnode');

  // Least privilege: the API's database account may only read and write rows; the migration has its own.
  const deps = await releaseDependencies(scope, ns);
  mark('database, bucket, smtp sink, secrets');

  const values = realNodeValues({
    ...deps,
    api: { drainDelaySeconds: 2, shutdownTimeoutSeconds: 10 },
    // No Logstash here: the sidecar reads and retries its output (shipping is proven by tests/observability/logs.test.ts).
    logging: { enabled: true, logstashHosts: ['logstash.invalid:5044'], filebeatImage: filebeat.ref },
  });
  await installChart(scope, ns, RELEASE, values);
  mark('helm install --wait (post-install hook included)');

  // Everything ran on the real node, pulled from its registry, and is Ready for real.
  const pods = (await core().listNamespacedPod({ namespace: ns })).items;
  for (const p of pods) assert.equal(p.spec?.nodeName, node.name, `${p.metadata?.name} ran on ${p.spec?.nodeName}`);
  const operatorPod = pods.find((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'operator');
  assert.ok(operatorPod, 'no operator pod');
  assert.equal(operatorPod.status?.containerStatuses?.[0]?.ready, true, 'the operator pod is not Ready');
  assert.match(
    operatorPod.status?.containerStatuses?.[0]?.imageID ?? '',
    new RegExp(`${image.digest}$`),
    'the operator runs another image',
  );

  const app = await waitForCondition(ns, RELEASE, 'Ready', 'True', 'Available', 60_000);
  assert.equal(condition(app, 'MigrationComplete')?.status, 'True');
  // The Job retries a failed attempt (backoffLimit): one pod ran to success; any other attempt is reported with its log.
  const migrationPods = pods.filter((p) => p.metadata?.labels?.['job-name'] === app.status?.migration?.jobName);
  const migrationPod = migrationPods.find((p) => p.status?.phase === 'Succeeded');
  for (const p of migrationPods.filter((x) => x !== migrationPod)) {
    const log = readFileSync(containerLogFile(ns, p.metadata!.name!, 'migrate'), 'utf8')
      .trim()
      .split('\n')
      .slice(-5);
    t.diagnostic(`migration attempt ${p.metadata?.name}: ${p.status?.phase}; its log ends:\n${log.join('\n')}`);
  }
  assert.ok(migrationPod, `no migration pod ran to success: ${migrationPods.map((p) => p.status?.phase).join(', ')}`);
  assert.equal(migrationPod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);

  const apiPods = pods.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'api' && p.status?.phase === 'Running');
  assert.equal(apiPods.length, 2, 'two running API pods');
  mark('pods inspected');

  // What the chart claims of the API container, checked in the running process.
  for (const p of apiPods) {
    const api = p.status?.containerStatuses?.find((c) => c.name === 'api');
    assert.equal(api?.ready, true);
    const id = containerIdOf(api);
    const status = await containerStatus(id);
    assert.match(status.Uid!, /^10001\s+10001\s+10001\s+10001$/, 'runs as uid 10001');
    assert.match(status.Gid!, /^10001\s+10001\s+10001\s+10001$/, 'runs as gid 10001');
    assert.equal(status.CapEff, '0000000000000000', 'no effective capabilities');
    assert.equal(status.CapPrm, '0000000000000000', 'no permitted capabilities');
    assert.equal(status.NoNewPrivs, '1', 'no_new_privs');
    assert.equal(status.Seccomp, '2', 'a seccomp filter (RuntimeDefault)');
    const write = (file: string) =>
      execInContainer(id, ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(file)}, 'x'); console.log('written')`]);
    const root = await write('/app/service/written-by-test');
    assert.notEqual(root.code, 0, 'a write to the image root succeeded');
    assert.match(root.stderr + root.stdout, /EROFS|read-only file system/i);
    assert.equal((await write('/tmp/written-by-test')).code, 0, '/tmp is not writable');
    // Cluster DNS (CoreDNS) and the Service (kube-proxy), from inside the pod.
    const lookup = await execInContainer(id, [
      'node',
      '-e',
      `fetch('http://${RELEASE}.${ns}.svc.cluster.local/readyz').then(async r => { console.log(r.status, await r.text()) }, e => { console.error(e); process.exit(1) })`,
    ]);
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.match(lookup.stdout, /^200 /);
    // The build's identity: the version from the image tag (set by the operator), the commit from the image build.
    assert.equal(await buildInfoOf(id), `mate_build_info{version="${image.tag}",commit="${head}"} 1`);

    // The Filebeat sidecar: native (an init container that keeps running), restricted, reading api.log.
    assert.equal(p.spec?.initContainers?.find((c) => c.name === 'filebeat')?.restartPolicy, 'Always', 'not a native sidecar');
    const sidecar = p.status?.initContainerStatuses?.find((c) => c.name === 'filebeat');
    assert.ok(sidecar?.started && sidecar.state?.running, `the Filebeat sidecar is not running: ${JSON.stringify(sidecar?.state)}`);
    assert.match(sidecar.imageID ?? '', new RegExp(`${filebeat.digest}$`), 'the sidecar runs another image');
    const sidecarId = containerIdOf(sidecar);
    const fb = await containerStatus(sidecarId);
    assert.equal(fb.CapEff, '0000000000000000', 'the sidecar has effective capabilities');
    assert.equal(fb.NoNewPrivs, '1');
    assert.equal(fb.Seccomp, '2');
    assert.match(fb.Uid!, /^10001\s/, 'the sidecar runs as uid 10001');
    // Reading: Filebeat's process holds the API's log file open (what it read is acked only by an output).
    await waitFor(
      'Filebeat to open the API log file',
      async () => (await execInContainer(sidecarId, ['ls', '-l', '/proc/1/fd'])).stdout.includes('-> /var/log/mate/api.log') || undefined,
      60_000,
    );
  }
  mark('pod facts checked');

  // The Service's cluster IP from the node, as kube-proxy routes it.
  const svc = await core().readNamespacedService({ name: RELEASE, namespace: ns });
  const port = svc.spec?.ports?.[0]?.port;
  const viaService = await inNode([
    'curl',
    '-sS',
    '--max-time',
    '5',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `http://${svc.spec?.clusterIP}:${port}/readyz`,
  ]);
  assert.equal(viaService.stdout, '200', viaService.stderr);

  // helm test: its pod really calls /readyz through the Service.
  const helmTest = await helm(['test', RELEASE, '-n', ns, '--timeout=180s']);
  mark('helm test');
  assert.equal(helmTest.code, 0, helmTest.stdout + helmTest.stderr);
  assert.match(helmTest.stdout, /Phase:\s+Succeeded/);

  // A deleted pod gets SIGTERM, drains, and its process exits 0 within the grace period.
  const victim = apiPods[0]!;
  const grace = victim.spec?.terminationGracePeriodSeconds ?? 30;
  // Held open: the kubelet removes a deleted pod's log files.
  const log = openSync(containerLogFile(ns, victim.metadata!.name!, 'api'), 'r');
  const deleted = Date.now();
  await kubectlOk(['-n', ns, 'delete', 'pod', victim.metadata!.name!, '--wait=true', `--timeout=${grace + 30}s`]);
  const seconds = (Date.now() - deleted) / 1000;
  t.diagnostic(`pod deleted in ${seconds.toFixed(1)} s (grace ${grace} s)`);
  assert.ok(seconds < grace, `the pod took ${seconds.toFixed(1)} s, more than its grace period`);
  const events = criJsonLines(readFileSync(log, 'utf8')) as Array<{ message: string; event?: { action?: string } }>;
  closeSync(log);
  const actions = events.filter((e) => e.event?.action).map((e) => `${e.event!.action}: ${e.message}`);
  assert.deepEqual(
    actions.slice(-2),
    ['drain-start: draining for 2000 ms', 'shutdown-complete: stopped cleanly'],
    'the API did not drain and stop cleanly',
  );
  await waitFor(
    'a replacement API pod Ready',
    async () => ((await apps().readNamespacedDeployment({ name: RELEASE, namespace: ns })).status?.readyReplicas === 2 ? true : undefined),
    120_000,
  );
  mark('graceful termination');
});
