// Delivery: skaffold.yaml is valid for the skaffold it pins (v2.16.1), checked
// against skaffold's own JSON schema for its apiVersion, taken from the
// skaffold Go module (`go mod download`; `go install` of skaffold is refused
// by the module proxy, and its go.mod has replace directives); it builds the
// one image from service/Dockerfile, deploys the chart with that image, and
// its kind and eks profiles' values files pass the chart's schema. The CD and
// e2e workflows are actionlint-clean and do what the README promises.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { CHART_DIR, repoRoot, run, tool } from './support.js';

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
    deploy: { helm: { releases: Release[] }; kubectl?: object };
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

test('the CD and e2e workflows: OIDC, helm upgrade --install --wait --atomic on EKS; kind, skaffold run -p kind, a smoke test through the Ingress', async () => {
  const dir = path.join(repoRoot, '.github', 'workflows');
  const lint = await run(tool('actionlint'), ['-no-color', path.join(dir, 'cd.yml'), path.join(dir, 'e2e-kind.yml')]);
  assert.equal(lint.code, 0, lint.stdout + lint.stderr);

  const cd = readFileSync(path.join(dir, 'cd.yml'), 'utf8');
  const cdYaml = parse(cd) as { on: { push: { branches: string[] } }; jobs: Record<string, { permissions?: Record<string, string> }> };
  assert.deepEqual(cdYaml.on.push.branches, ['main']);
  for (const job of Object.values(cdYaml.jobs)) assert.equal(job.permissions?.['id-token'], 'write', 'OIDC needs id-token: write');
  assert.match(cd, /aws-actions\/configure-aws-credentials@\S+\n\s+with:\n\s+role-to-assume:/);
  assert.doesNotMatch(cd, /aws-access-key-id|AWS_SECRET_ACCESS_KEY/, 'no long-lived AWS keys');
  assert.match(cd, /docker\/build-push-action@[\s\S]*file: service\/Dockerfile[\s\S]*push: true/);
  assert.match(cd, /helm upgrade --install "\$RELEASE" charts\/mate[\s\S]*--wait --atomic/);

  const e2e = readFileSync(path.join(dir, 'e2e-kind.yml'), 'utf8');
  assert.match(e2e, /config: k8s\/kind\/cluster\.yaml/);
  assert.match(e2e, /skaffold run --profile kind/);
  assert.match(e2e, /curl [^\n]*http:\/\/localhost\/api\/v1\//, 'no smoke test through the Ingress');
});
