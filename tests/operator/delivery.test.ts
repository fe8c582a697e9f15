// Delivery: skaffold.yaml is valid for the skaffold it pins (v2.16.1), checked
// against skaffold's own JSON schema for its apiVersion, taken from the
// skaffold Go module (`go mod download`; `go install` of skaffold is refused
// by the module proxy, and its go.mod has replace directives); it builds the
// one image from service/Dockerfile, deploys the chart with that image, and
// its kind and eks profiles' values files pass the chart's schema. The CD and
// e2e workflows are actionlint-clean and do what the README promises: CD waits
// for CI on the same commit and deploys the image it built by digest; every
// action of every workflow is pinned by commit SHA.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { networkPolicy } from '../../service/src/operator/render.js';
import { CHART_DIR, ensureCrd, kubectlOk, repoRoot, run, tool } from './support.js';
import type { MateApp } from './support.js';

const SKAFFOLD_MODULE = 'github.com/GoogleContainerTools/skaffold/v2';
const SKAFFOLD_VERSION = 'v2.16.1';

type Release = { name: string; chartPath: string; namespace: string; valuesFiles?: string[]; setValueTemplates?: Record<string, string> };
type Skaffold = {
  apiVersion: string;
  build: { artifacts: { image: string; context: string; docker: { dockerfile: string; target?: string } }[] };
  deploy: { helm: { releases: Release[] } };
  portForward: { resourceType: string; resourceName: string; port: number; localPort: number }[];
  profiles: {
    name: string;
    manifests?: { kustomize?: { paths: string[] } };
    deploy: { helm: { releases: Release[]; hooks?: { before?: { host?: { command: string[] } }[] } }; kubectl?: object };
  }[];
};

const skaffoldFile = path.join(repoRoot, 'skaffold.yaml');
const load = () => parse(readFileSync(skaffoldFile, 'utf8')) as Skaffold;

async function skaffoldModuleDir(): Promise<string> {
  const r = await run('go', ['mod', 'download', '-json', `${SKAFFOLD_MODULE}@${SKAFFOLD_VERSION}`]);
  const info = JSON.parse(r.stdout || '{}') as { Dir?: string; Error?: string };
  assert.ok(info.Dir, `go mod download ${SKAFFOLD_MODULE}@${SKAFFOLD_VERSION}: ${info.Error ?? r.stderr}`);
  return info.Dir;
}

test('skaffold.yaml validates against skaffold v2.16.1’s JSON schema for its apiVersion (the latest it knows)', async () => {
  const dir = await skaffoldModuleDir();
  const latest = /const Version string = "(skaffold\/[\w]+)"/.exec(
    readFileSync(path.join(dir, 'pkg/skaffold/schema/latest/config.go'), 'utf8'),
  )?.[1];
  const config = load();
  assert.equal(config.apiVersion, latest, `skaffold ${SKAFFOLD_VERSION}'s latest config version is ${latest}`);
  const schemaFile = path.join(dir, 'docs-v2/content/en/schemas', `${config.apiVersion.split('/')[1]}.json`);
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;
  // skaffold's schema carries editor keywords (preferredOrder, x-intellij-*): not strict.
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  assert.equal(validate(config), true, ajv.errorsText(validate.errors, { separator: '\n' }));

  // Control: the same validator refuses a misspelt field and a wrong type.
  assert.equal(validate({ ...config, deploy: { helm: { relases: [] } } }), false);
  assert.equal(
    validate({ ...config, portForward: [{ resourceType: 'service', resourceName: 'mate', port: 80, localPort: 'eighty' }] }),
    false,
  );
});

test('skaffold builds service/Dockerfile and deploys the chart with that image, for kind and eks', async () => {
  const config = load();
  assert.equal(config.build.artifacts.length, 1);
  const artifact = config.build.artifacts[0]!;
  assert.equal(artifact.docker.dockerfile, 'service/Dockerfile');
  assert.equal(artifact.docker.target, 'runtime');
  assert.ok(existsSync(path.join(repoRoot, artifact.context, artifact.docker.dockerfile)) || !existsSync(path.join(repoRoot, 'service')));
  const sanitized = artifact.image.replace(/[-/.:]/g, '_');
  const releases = [config.deploy.helm.releases, ...config.profiles.map((p) => p.deploy.helm.releases)].flat();
  for (const r of releases) {
    assert.equal(path.resolve(repoRoot, r.chartPath), CHART_DIR);
    assert.deepEqual(r.setValueTemplates, {
      'image.repository': `{{.IMAGE_REPO_${sanitized}}}`,
      'image.tag': `{{.IMAGE_TAG_${sanitized}}}`,
    });
    for (const f of r.valuesFiles ?? []) assert.ok(existsSync(path.join(repoRoot, f)), `${f} is missing`);
  }
  const kind = config.profiles.find((p) => p.name === 'kind');
  const eks = config.profiles.find((p) => p.name === 'eks');
  assert.ok(kind && eks, 'profiles kind and eks');
  assert.deepEqual(kind.manifests?.kustomize?.paths, ['k8s/dev'], 'the kind profile deploys the dev dependencies');
  assert.ok(kind.deploy.kubectl, 'the kind profile applies k8s/dev with kubectl');
  assert.ok(config.portForward.some((p) => p.resourceType === 'service' && p.resourceName === 'mate' && p.port === 80));

  // Each profile's values, with an image as skaffold would set it, pass the chart's schema and render.
  for (const profile of [kind, eks]) {
    const release = profile.deploy.helm.releases[0]!;
    const r = await run(tool('helm'), [
      'template',
      release.name,
      CHART_DIR,
      '--namespace',
      release.namespace,
      ...(release.valuesFiles ?? []).flatMap((f) => ['-f', path.join(repoRoot, f)]),
      '--set',
      'image.repository=mate-service',
      '--set',
      'image.tag=0123abcd',
    ]);
    assert.equal(r.code, 0, `${profile.name}: ${r.stderr}`);
    assert.match(r.stdout, /image: mate-service:0123abcd/);
  }
});

test('the CD and e2e workflows: CD gated on CI for the same commit, OIDC, the built image by digest, helm upgrade --install --wait --atomic on EKS; kind, skaffold run -p kind, a smoke test through the Ingress', async () => {
  const dir = path.join(repoRoot, '.github', 'workflows');
  const lint = await run(tool('actionlint'), ['-no-color', path.join(dir, 'cd.yml'), path.join(dir, 'e2e-kind.yml')]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);

  const cd = readFileSync(path.join(dir, 'cd.yml'), 'utf8');
  type Job = { needs?: string | string[]; if?: string; permissions?: Record<string, string>; steps: Record<string, any>[] };
  const cdYaml = parse(cd) as {
    on: { workflow_run: { workflows: string[]; types: string[]; branches: string[] } };
    jobs: Record<string, Job>;
  };
  // Gated on CI for the same commit: CD starts when CI completes on main, the gate requires success.
  assert.deepEqual(cdYaml.on.workflow_run, { workflows: ['CI'], types: ['completed'], branches: ['main'] });
  assert.equal((parse(readFileSync(path.join(dir, 'ci.yml'), 'utf8')) as { name: string }).name, 'CI');
  assert.ok(!('push' in cdYaml.on), 'CD starts on a push, without waiting for CI');
  const { gate, ...afterGate } = cdYaml.jobs;
  assert.ok(gate, 'no gate job');
  assert.match(gate.if ?? '', /github\.event\.workflow_run\.conclusion == 'success'/);
  assert.match(gate.if ?? '', /github\.event\.workflow_run\.event == 'push'/);
  assert.match(gate.if ?? '', /head_repository\.full_name == github\.repository/);
  assert.equal(gate.permissions?.['id-token'], undefined, 'the gate needs no cloud credentials');
  for (const [name, job] of Object.entries(afterGate)) {
    assert.ok([job.needs ?? []].flat().includes('gate'), `${name} does not wait for the gate`);
    assert.equal(job.permissions?.['id-token'], 'write', 'OIDC needs id-token: write');
    const checkout = job.steps.find((s) => String(s.uses).startsWith('actions/checkout@'));
    assert.equal(checkout?.with?.ref, '${{ needs.gate.outputs.sha }}', `${name} does not build the commit CI passed`);
  }
  assert.match(gate.steps[0]!.env.SHA, /github\.event\.workflow_run\.head_sha/);
  assert.match(cd, /aws-actions\/configure-aws-credentials@\S+ # v[\d.]+\n\s+with:\n\s+role-to-assume:/);
  assert.doesNotMatch(cd, /aws-access-key-id|AWS_SECRET_ACCESS_KEY/, 'no long-lived AWS keys');
  assert.match(cd, /id: build\n\s+uses: docker\/build-push-action@[\s\S]*file: service\/Dockerfile[\s\S]*push: true/);
  // Deployed by the digest the build pushed.
  assert.equal(cdYaml.jobs.image?.steps.find((s) => s.id === 'build')?.uses.split('@')[0], 'docker/build-push-action');
  assert.match(cd, /digest: \$\{\{ steps\.build\.outputs\.digest \}\}/);
  assert.match(cd, /DIGEST: \$\{\{ needs\.image\.outputs\.digest \}\}/);
  assert.match(cd, /helm upgrade --install "\$RELEASE" charts\/mate[\s\S]*--set-string image\.digest="\$DIGEST"[\s\S]*--wait --atomic/);

  const e2e = readFileSync(path.join(dir, 'e2e-kind.yml'), 'utf8');
  assert.match(e2e, /config: k8s\/kind\/cluster\.yaml/);
  assert.match(e2e, /skaffold run --profile kind/);
  assert.match(e2e, /curl [^\n]*http:\/\/localhost\/api\/v1\//, 'no smoke test through the Ingress');
});

test('every action of every workflow is pinned by a full commit SHA, its release in the comment beside it', () => {
  const dir = path.join(repoRoot, '.github', 'workflows');
  const unpinned: string[] = [];
  let count = 0;
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const uses = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
      if (!uses) continue;
      count++;
      // A local action (./…) or a docker:// image would be pinned otherwise; the workflows use neither.
      if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses[1]!) || !/^ # v\d+\.\d+\.\d+$/.test(uses[2]!))
        unpinned.push(`${file}: ${line.trim()}`);
    }
  }
  assert.ok(count > 20, `only ${count} uses: lines found`);
  assert.deepEqual(unpinned, []);
});

type EgressRule = { to?: { ipBlock?: { cidr: string } }[]; ports: { protocol: string; port: number }[] };

const ipv4 = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const inCidr = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
};
/** Whether some egress rule lets TCP to ip:port out (a rule without `to` allows every address). */
const allows = (rules: EgressRule[], ip: string, port: number) =>
  rules.some(
    (r) =>
      r.ports.some((p) => p.protocol === 'TCP' && p.port === port) &&
      (!r.to || r.to.some((t) => !!t.ipBlock && inCidr(ip, t.ipBlock.cidr))),
  );

test('values-eks.yaml: the API may reach each dependency where it is, S3 (gateway endpoint) and STS on 443, and nothing else', async () => {
  await ensureCrd();
  const rendered = await run(tool('helm'), [
    'template',
    'mate',
    CHART_DIR,
    '--namespace',
    'default',
    '-f',
    path.join(CHART_DIR, 'values-eks.yaml'),
    '--set',
    'image.tag=1.0.0',
  ]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const manifest = parseAllDocuments(rendered.stdout)
    .map((d) => d.toJS() as { kind?: string } | null)
    .find((o) => o?.kind === 'MateApp');
  assert.ok(manifest, 'no MateApp in the EKS render');
  // The API server fills the CRD's defaults, as for the operator.
  const app = JSON.parse(
    await kubectlOk(['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(manifest)),
  ) as MateApp;
  const egress = (networkPolicy(app).spec as { egress: EgressRule[] }).egress;

  const vpc = '10.0.12.34';
  const s3Gateway = '52.219.56.10'; // an S3 address in ap-northeast-2, reached through the gateway endpoint's route
  const sts = '54.180.0.20'; // a public STS regional endpoint address
  const reachable: [string, string, number][] = [
    ['the database (RDS)', vpc, app.spec.database.port],
    ['Redis (ElastiCache)', vpc, app.spec.redis.port],
    ['the SMTP relay', vpc, app.spec.smtp.port],
    ['Logstash', vpc, 5044],
    ['S3 through the gateway endpoint', s3Gateway, app.spec.s3.port],
    ['STS for IRSA', sts, 443],
  ];
  for (const [what, ip, port] of reachable) assert.ok(allows(egress, ip, port), `${what} (${ip}:${port}) is blocked`);
  const blocked: [string, string, number][] = [
    ['a database outside the VPC', sts, app.spec.database.port],
    ['Redis outside the VPC', s3Gateway, app.spec.redis.port],
    ['SMTP outside the VPC', sts, app.spec.smtp.port],
    ['any other port', vpc, 22],
  ];
  for (const [what, ip, port] of blocked) assert.ok(!allows(egress, ip, port), `${what} (${ip}:${port}) is allowed`);
});

test('the kind profile: the dev stack is applied and the dependencies the release waits on are ready before Helm runs', () => {
  const kind = load().profiles.find((p) => p.name === 'kind')!;
  // skaffold v2.16.1 (pkg/skaffold/runner/deployer.go) runs a config's Helm deployer before its kubectl
  // deployer, and each deployer's `before` hooks right before it (deploy_mux.go): the kubectl deployer
  // cannot bring up what the release waits for, the Helm deployer's hook must.
  const hooks = (kind.deploy.helm.hooks?.before ?? []).map((h) => h.host?.command.join(' ') ?? '');
  assert.equal(hooks.length, 1, 'no host hook before the Helm release');
  const script = hooks[0]!;
  const applied = script.indexOf(`apply -k ${kind.manifests?.kustomize?.paths[0]}`);
  assert.ok(applied >= 0, 'the hook does not apply the dev stack');

  // What the release's MateApp needs to become Ready (its migration and /readyz): the dev Services
  // its values point at. Each is a StatefulSet in k8s/dev whose rollout the hook waits for, after the apply.
  const values = parse(readFileSync(path.join(repoRoot, 'charts/mate/values-kind.yaml'), 'utf8')) as {
    app: { s3: { endpoint: string } };
    devSecrets: { databaseUrl: string; redisUrl: string };
  };
  const hosts = [values.devSecrets.databaseUrl, values.devSecrets.redisUrl, values.app.s3.endpoint].map((u) => new URL(u).hostname);
  const devStack = parseAllDocuments(
    ['mysql', 'redis', 'minio'].map((f) => readFileSync(path.join(repoRoot, 'k8s/dev', `${f}.yaml`), 'utf8')).join('\n---\n'),
  ).map((d) => d.toJS() as { kind?: string; metadata?: { name: string; namespace: string } } | null);
  for (const host of hosts) {
    const [service, namespace] = host.split('.') as [string, string];
    const workload = devStack.find((o) => o?.kind === 'StatefulSet' && o.metadata?.name === service && o.metadata.namespace === namespace);
    assert.ok(workload, `${host}: no StatefulSet ${service} in k8s/dev`);
    assert.match(script, new RegExp(`-n ${namespace} rollout status "\\$dependency"`), 'the hook does not wait in the dev namespace');
    const waited = script.indexOf(`statefulset/${service}`);
    assert.ok(waited > applied, `the hook does not wait for statefulset/${service} after applying the dev stack`);
  }
});
