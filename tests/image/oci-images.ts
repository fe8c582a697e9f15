// Assembles service/Dockerfile's runtime stage as an OCI image without Docker,
// and pushes it to a registry with crane (go-containerregistry), the way
// scripts/k8s/images.sh calls it for the real node:
//   layer 1  a Debian 12 root (the base image's part) with /usr/local/bin/node
//   layer 2  the runtime stage's own files: its build replayed by dockerfile.ts,
//            which runs service/build-artifact.sh under the Node running this
//            file (the image's Node, so the native modules are built for it)
//   config   the stage's USER, WORKDIR, ENV, LABELs, VOLUMEs, EXPOSE, ENTRYPOINT
//            and CMD as the replay read them from the Dockerfile, over the base
//            image's PATH and NODE_VERSION; the build arguments VERSION (the
//            tag) and GIT_COMMIT (the checkout's HEAD), as a release build
//            passes them
// An image whose layers are already the registry's for that tag is not pushed
// again. tests/cluster/real-node.test.ts compares the pushed config with the
// Dockerfile's runtime stage.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { replayDockerfile, runSync, type StageResult } from './dockerfile.js';

const SERVICE_REPOSITORY = 'mate/service';

/** What an OCI image config's `config` holds, as far as this project sets it. */
interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  ExposedPorts?: Record<string, object> | null;
  Labels?: Record<string, string>;
}

/** The base image's environment (node:<version>-bookworm-slim), under the stage's ENV. */
function baseEnv(nodeVersion: string): Record<string, string> {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NODE_VERSION: nodeVersion };
}

/** The image config the runtime stage declares. */
function stageConfig(stage: StageResult, nodeVersion: string): ImageConfig {
  const env = { ...baseEnv(nodeVersion), ...stage.env };
  const set = (keys: string[]) => (keys.length ? Object.fromEntries(keys.map((k) => [k, {}])) : null);
  return {
    User: stage.user ?? '',
    WorkingDir: stage.workdir,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Entrypoint: stage.entrypoint.length ? stage.entrypoint : null,
    Cmd: stage.cmd.length ? stage.cmd : null,
    Volumes: set(stage.volumes),
    ExposedPorts: set(stage.exposed.map((p) => (p.includes('/') ? p : `${p}/tcp`))),
    Labels: stage.labels,
  };
}

function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  for (let n; (n = fs.readSync(fd, buf)) > 0;) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return `sha256:${h.digest('hex')}`;
}

/** A reproducible layer tarball of a directory (sorted, fixed times, numeric owners as they are); returns its path. */
function layerTar(dir: string, out: string): string {
  runSync(['tar', '--numeric-owner', '--mtime=@0', '--sort=name', '-C', dir, '-cf', out, '.']);
  return out;
}

/** The label that records what an image was built from (see buildInputs). */
const INPUTS_LABEL = 'dev.mate.build-inputs';

/**
 * A digest of what the image is built from: the committed trees of the build
 * context's paths (the Dockerfile and this recipe among them), their
 * uncommitted changes and untracked files, and extra (the base layer, the Node
 * version). Undefined outside a git checkout (or before the files are
 * committed), which then always builds.
 */
function buildInputs(repoRoot: string, extra: string[]): string | undefined {
  const paths = [
    'service',
    'dashboards/build',
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    '.dockerignore',
    'tests/image/dockerfile.ts',
    'tests/image/oci-images.ts',
  ];
  const git = (args: string[]) => runSync(['git', '-C', repoRoot, ...args]);
  try {
    const tree = git(['rev-parse', ...paths.map((p) => `HEAD:${p}`)]);
    const changed = git(['diff', 'HEAD', '--binary', '--', ...paths]);
    const untracked = git(['ls-files', '--others', '--exclude-standard', '-z', '--', ...paths])
      .split('\0')
      .filter(Boolean);
    const h = createHash('sha256').update(tree).update(changed).update(extra.join('\n'));
    for (const f of untracked.sort()) h.update(f).update(fs.readFileSync(path.join(repoRoot, f)));
    return h.digest('hex');
  } catch {
    return undefined;
  }
}

/** The commit checked out (what the image's GIT_COMMIT says); unknown outside a git checkout. */
export function headCommit(repoRoot: string): string {
  try {
    return runSync(['git', '-C', repoRoot, 'rev-parse', 'HEAD']).trim();
  } catch {
    return 'unknown';
  }
}

function registryConfig(crane: string, ref: string): { config: ImageConfig; rootfs: { diff_ids: string[] } } | undefined {
  try {
    return JSON.parse(runSync([crane, 'config', '--insecure', ref])) as { config: ImageConfig; rootfs: { diff_ids: string[] } };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string' },
      tag: { type: 'string', default: 'dev' },
      crane: { type: 'string' },
      base: { type: 'string' },
      node: { type: 'string' },
      cache: { type: 'string' },
    },
  });
  const { registry, tag, crane, base, node, cache: cacheDir } = values;
  if (!registry || !tag || !crane || !base || !node || !cacheDir)
    throw new Error('usage: oci-images.ts --registry R --tag T --crane BIN --base TAR --node DIR --cache DIR');
  const nodeVersion = process.version.replace(/^v/, '');
  if (fs.realpathSync(process.execPath) !== fs.realpathSync(path.join(node, 'bin', 'node')))
    throw new Error(`run this under the image's Node (${node}/bin/node), not ${process.execPath}`);

  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const ref = `${registry}/${SERVICE_REPOSITORY}:${tag}`;
  const buildArgs = { VERSION: tag, GIT_COMMIT: headCommit(repoRoot) };
  const inputs = buildInputs(repoRoot, [sha256File(base), nodeVersion, JSON.stringify(buildArgs)]);
  const pushed = registryConfig(crane, ref);
  // The registry keeps manifests in memory: a restarted one gets the image
  // back from the last build's copy in the cache.
  const kept = inputs && path.join(cacheDir, `service-${inputs.slice(0, 32)}`);
  if (inputs && pushed?.config.Labels?.[INPUTS_LABEL] === inputs) {
    console.error(`[image] ${ref} is up to date: its build inputs are unchanged`);
  } else if (kept && fs.existsSync(kept)) {
    runSync([crane, 'push', '--insecure', kept, ref]);
    console.error(`[image] ${ref} pushed again from the cache: its build inputs are unchanged`);
  } else {
    await buildAndPush({ repoRoot, ref, base, node, buildArgs, labels: inputs ? { [INPUTS_LABEL]: inputs } : {}, crane });
    if (kept) {
      for (const old of fs.readdirSync(cacheDir).filter((d) => d.startsWith('service-')))
        fs.rmSync(path.join(cacheDir, old), { recursive: true, force: true });
      runSync([crane, 'pull', '--insecure', '--format=oci', ref, `${kept}.tmp`]);
      fs.renameSync(`${kept}.tmp`, kept);
    }
  }
  console.log(`${ref}@${runSync([crane, 'digest', '--insecure', ref]).trim()}`);
}

/** Replays the Dockerfile's build, assembles the three layers and the config, and pushes them as ref. */
async function buildAndPush(o: {
  repoRoot: string;
  ref: string;
  base: string;
  node: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  crane: string;
}): Promise<void> {
  const { repoRoot, ref, base, node, crane } = o;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-oci-'));
  fs.chmodSync(work, 0o755);
  const t0 = Date.now();
  try {
    const replay = await replayDockerfile({
      dockerfile: path.join(repoRoot, 'service', 'Dockerfile'),
      context: repoRoot,
      workDir: path.join(work, 'stages'),
      privileged: [],
      buildArgs: o.buildArgs,
      log: (line) => console.error(`[image] ${line}`),
    });
    const stage = replay.final;
    // The VOLUME directories exist in the image (/tmp world-writable, as in the base).
    for (const v of stage.volumes) {
      const dir = path.join(stage.root, v);
      if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true });
      if (v === '/tmp') fs.chmodSync(dir, 0o1777);
    }
    const nodeBin = path.join(work, 'node-layer', 'usr', 'local', 'bin');
    fs.mkdirSync(nodeBin, { recursive: true });
    fs.copyFileSync(path.join(node, 'bin', 'node'), path.join(nodeBin, 'node'));
    fs.chmodSync(path.join(nodeBin, 'node'), 0o755);
    const layers = [
      base,
      layerTar(path.join(work, 'node-layer'), path.join(work, 'node.tar')),
      layerTar(stage.root, path.join(work, 'app.tar')),
    ];

    runSync([crane, 'append', '--insecure', '--oci-empty-base', ...layers.flatMap((l) => ['-f', l]), '-t', ref]);
    const appended = registryConfig(crane, ref)!;
    const declared = stageConfig(stage, process.version.replace(/^v/, ''));
    const config: ImageConfig = { ...declared, Labels: { ...declared.Labels, ...o.labels } };
    const file = path.join(work, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ ...appended, architecture: 'amd64', os: 'linux', config: { ...appended.config, ...config } }));
    runSync(['sh', '-c', `"$0" edit config --insecure "$1" < "$2" > /dev/null`, crane, ref, file]);
    console.error(`[image] pushed ${ref} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
