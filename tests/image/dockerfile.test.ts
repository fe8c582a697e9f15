// What service/Dockerfile promises, checked on its text: a pinned base shared by
// every stage, the build only in service/build-artifact.sh, a runtime stage
// without a shell step that runs `node` as a numeric non-root user with
// writable volumes for what it writes, a .dockerignore that keeps everything
// but the build inputs out of the context, and CI testing on the image's Node
// and npm. production-artifact.test.ts builds and starts it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { dockerignore, expand, parseArg, parseDockerfile, parseEnv, parseLabels, type Stage } from './dockerfile.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const text = fs.readFileSync(path.join(repoRoot, 'service', 'Dockerfile'), 'utf8');
const df = parseDockerfile(text);
const stageNames = new Set(df.stages.map((s) => s.name));
const runtime = df.stages.at(-1)!;
const build = df.stages.find((s) => s.name === 'build');
const toolchain = df.stages.find((s) => s.name === 'toolchain');
const all = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword);
const nodeImage = /^node:(\d+)\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/;

test('every stage starts from one Node base image, pinned to an exact version', () => {
  const bases = df.stages.filter((s) => !stageNames.has(s.from)).map((s) => s.from);
  assert.ok(bases.length >= 2, 'expected a toolchain and a runtime stage FROM the base image');
  assert.equal(new Set(bases).size, 1, `stages use different base images: ${[...new Set(bases)].join(', ')}`);
  assert.match(bases[0]!, nodeImage);
  assert.ok(Number(nodeImage.exec(bases[0]!)![1]) >= 22, 'the AWS SDK requires Node >= 22 from 2027');
});

test('the build stage builds FROM the toolchain and runs only service/build-artifact.sh', () => {
  assert.ok(build && toolchain, 'service/Dockerfile needs a toolchain and a build stage');
  assert.equal(build.from, 'toolchain');
  const runs = all(build, 'RUN');
  assert.ok(runs.length > 0);
  for (const r of runs) assert.match(r.args, /^sh service\/build-artifact\.sh (deps|artifact \S+)$/, r.text);
  assert.ok(fs.existsSync(path.join(repoRoot, 'service', 'build-artifact.sh')));
});

test('the runtime stage runs node as a numeric non-root user, without a shell step, from exec-form commands', () => {
  assert.equal(runtime.name, 'runtime');
  assert.deepEqual(all(runtime, 'RUN'), [], 'the runtime stage must not need a shell or package manager');
  const user = all(runtime, 'USER').at(-1)?.args ?? '';
  const m = /^(\d+):(\d+)$/.exec(user);
  assert.ok(m, `USER ${user} is not a numeric uid:gid`);
  assert.notEqual(m[1], '0');
  const entrypoint = all(runtime, 'ENTRYPOINT').at(-1);
  const cmd = all(runtime, 'CMD').at(-1);
  assert.deepEqual(entrypoint?.json, ['node'], 'ENTRYPOINT ["node"]: node is PID 1 and handles SIGTERM itself');
  assert.deepEqual(cmd?.json, ['dist/main/api.js']);
  assert.equal(all(runtime, 'WORKDIR').at(-1)?.args, '/app/service');
  // The documented commands exist as entry points.
  for (const name of ['api', 'migrate', 'operator']) {
    assert.ok(fs.existsSync(path.join(repoRoot, 'service', 'src', 'main', `${name}.ts`)), `no service/src/main/${name}.ts`);
    assert.match(text, new RegExp(`dist/main/${name}\\.js`), `the Dockerfile does not document the ${name} command`);
  }
});

test("the runtime stage takes the build's version and commit as build arguments, into its labels and mate_build_info's env", () => {
  const args = { VERSION: '1.2.3', GIT_COMMIT: 'a'.repeat(40) };
  const declared = all(runtime, 'ARG').flatMap((a) => Object.keys(parseArg(a.args, df.globalArgs)));
  assert.deepEqual(declared, Object.keys(args), 'ARG VERSION and ARG GIT_COMMIT');
  const labels = Object.assign({}, ...all(runtime, 'LABEL').map((l) => parseLabels(l.args, args))) as Record<string, string>;
  assert.equal(labels['org.opencontainers.image.version'], '1.2.3');
  assert.equal(labels['org.opencontainers.image.revision'], args.GIT_COMMIT);
  const env = Object.assign({}, ...all(runtime, 'ENV').map((e) => parseEnv(e.args, args))) as Record<string, string>;
  assert.equal(env.MATE_VERSION, '1.2.3');
  assert.equal(env.GIT_COMMIT, args.GIT_COMMIT);
  // After the files: a new commit must not invalidate the layers.
  const keywords = runtime.instructions.map((i) => i.keyword);
  assert.ok(keywords.indexOf('ARG') > keywords.lastIndexOf('COPY'), 'the ARGs come after the last COPY');
});

test('what the service writes is on volumes the runtime user owns; the application files are not', () => {
  const env = Object.assign({}, ...all(runtime, 'ENV').map((i) => parseEnv(i.args, {}))) as Record<string, string>;
  assert.equal(env.NODE_ENV, 'production');
  assert.equal(env.MATE_DATA_DIR, '/data');
  const volumes = all(runtime, 'VOLUME').flatMap((i) => i.json ?? i.args.split(/\s+/));
  assert.deepEqual(volumes.sort(), ['/data', '/tmp']);
  const copies = all(runtime, 'COPY');
  const user = all(runtime, 'USER').at(-1)!.args;
  const dataCopy = copies.find((c) => expand(c.args, env).split(/\s+/).at(-1) === '/data');
  assert.equal(dataCopy?.flags.chown, user, '/data is created owned by the runtime user');
  for (const c of copies.filter((x) => x !== dataCopy)) assert.equal(c.flags.chown, undefined, `${c.text}: application files stay root's`);
});

test('.dockerignore lets in the build inputs and nothing else', () => {
  const ignored = dockerignore(fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'));
  const out = [
    'node_modules/koa/package.json',
    'service/node_modules/typescript/package.json',
    'service/dist/main/api.js',
    'service/.data/mate.sqlite',
    '.git/config',
    '.env',
    'service/.env',
    'tests/image/dockerfile.ts',
    'charts/mate/Chart.yaml',
    'scripts/test.sh',
    'service/src/platform/config/config.test.ts',
    'service/src/testing/harness.ts',
    'service/src/features/auth/fixtures.ts',
    'README.md',
    'dashboards/src/build.ts',
    'dashboards/package.json',
  ];
  const inside = [
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    'service/package.json',
    'service/src/app.ts',
    'service/src/main/api.ts',
    'dashboards/build/prometheusrule.yaml',
  ];
  assert.deepEqual(
    out.filter((p) => !ignored(p)),
    [],
    'in the build context but should not be',
  );
  assert.deepEqual(inside.filter(ignored), [], 'left out of the build context but needed');
  // Every COPY source from the context is let in.
  for (const stage of df.stages)
    for (const c of all(stage, 'COPY').filter((i) => !i.flags.from))
      for (const src of c.args.split(/\s+/).slice(0, -1)) assert.equal(ignored(src), false, `${c.text}: ${src} is ignored`);
});

test('CI tests on the Node major version and the npm version the image uses', () => {
  const ci = parse(fs.readFileSync(path.join(repoRoot, '.github', 'workflows', 'ci.yml'), 'utf8')) as { env?: Record<string, string> };
  const base = df.stages.find((s) => !stageNames.has(s.from))!.from;
  const imageMajor = nodeImage.exec(base)?.[1];
  assert.equal(String(ci.env?.NODE_VERSION ?? '').split('.')[0], imageMajor, 'ci.yml env.NODE_VERSION');
  const npm =
    toolchain && /^NPM_VERSION=(\S+)$/.exec(all(toolchain, 'ARG').find((a) => a.args.startsWith('NPM_VERSION='))?.args ?? '')?.[1];
  assert.ok(npm, 'the toolchain stage pins ARG NPM_VERSION');
  assert.equal(String(ci.env?.NPM_VERSION ?? ''), npm, 'ci.yml env.NPM_VERSION');
});
