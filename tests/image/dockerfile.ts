// Reads a Dockerfile and its .dockerignore, replays the Dockerfile's build on
// the host (no Docker engine here), and starts the final stage's files the way
// a container runtime would: read-only, as the image's USER, with its ENV,
// WORKDIR, VOLUMEs, ENTRYPOINT and CMD, the process as PID 1 of its own PID
// namespace.
//
// What the host stands in for, and how the replay maps the image:
// - A stage FROM an external image (the `toolchain` stage: base image, OS
//   packages, pinned npm) is provided by the host; the test checks that the
//   host has what it installs. Stages FROM another stage are replayed
//   instruction by instruction: WORKDIR, ARG, ENV, COPY (from the build
//   context, filtered by .dockerignore, or --from another stage, with --chown)
//   and RUN (with `sh -c`, in the stage's WORKDIR, with its ARGs and ENV).
//   Any other instruction, or flag, stops the replay: it would not be mirrored.
// - Each replayed stage has its own root directory; a container path /x is
//   <root>/x. RUN steps use paths relative to their WORKDIR, so they run
//   unchanged. `RUN --mount=type=cache` is replayed without the mount: the
//   host's npm cache stands in for it.
// - Like BuildKit's layer cache, the result of a slow RUN (> 20 s) is kept in
//   $MATE_CACHE/image-build, keyed by the instructions before it, the content
//   of every file they copied and the host's node/npm; MATE_IMAGE_BUILD_CACHE=off
//   turns that off.
// - At run time the final stage's root becomes the root of the process, as
//   in a container: in a private mount namespace it is bind-mounted read-only,
//   each VOLUME is a writable bind mount in it, the host lends what the base
//   image would provide (/usr, /etc, the merged-/usr links, /dev, a fresh /proc,
//   and the node that built the native modules, first in PATH: it stands in for
//   the image's /usr/local/bin/node), read-only, and the process is chrooted
//   there and started through setpriv as the image's numeric USER with no
//   capabilities and no_new_privs, in its WORKDIR with only its ENV (plus
//   Docker's PATH/HOME defaults and the deployment's variables), in a new PID
//   namespace: it is PID 1 and gets only the signals it handles.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** The text after the keyword and flags. */
  args: string;
  /** The exec (JSON) form, when used. */
  json?: string[];
  line: number;
  text: string;
}

export interface Stage {
  name: string;
  /** The image or stage it is built FROM (build args expanded). */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

// ---- parsing -------------------------------------------------------------------

export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) return; // comments (and parser directives), also inside a continuation
    if (!line.trim()) return;
    if (!buf) start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += line.replace(/\\\s*$/, ' ');
      return;
    }
    logical.push({ text: buf + line, line: start });
    buf = '';
  });
  if (buf) throw new Error(`Dockerfile ends inside a line continuation (line ${start})`);

  const df: Dockerfile = { globalArgs: {}, stages: [] };
  for (const { text: full, line } of logical) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile line ${line}: cannot parse "${full}"`);
    const keyword = m[1]!.toUpperCase();
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    if (['RUN', 'COPY', 'ADD', 'FROM'].includes(keyword)) {
      for (let f = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); f; f = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
        flags[f[1]!] = f[2] ?? 'true';
        rest = rest.slice(f[0].length);
      }
    }
    let json: string[] | undefined;
    if (rest.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) json = parsed;
      } catch {
        /* shell form that starts with [ */
      }
    }
    const ins: Instruction = { keyword, flags, args: rest, json, line, text: full.trim() };
    if (keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`Dockerfile line ${line}: cannot parse FROM ${rest}`);
      const from = expand(f[1]!, df.globalArgs);
      df.stages.push({ name: f[2] ?? String(df.stages.length), from, instructions: [] });
      continue;
    }
    const stage = df.stages.at(-1);
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`);
      Object.assign(df.globalArgs, parseArg(rest, {}));
      continue;
    }
    stage.instructions.push(ins);
  }
  return df;
}

/** `NAME` or `NAME=default` → {NAME: default}; a redeclared global ARG keeps the global default. */
export function parseArg(args: string, globals: Record<string, string>): Record<string, string> {
  const m = /^([A-Za-z_]\w*)(?:=(.*))?$/.exec(args.trim());
  if (!m) throw new Error(`cannot parse ARG ${args}`);
  return { [m[1]!]: m[2] !== undefined ? unquote(m[2]) : (globals[m[1]!] ?? '') };
}

/** ENV `a=1 b="two words"` or the legacy `ENV a value`. */
export function parseEnv(args: string, vars: Record<string, string>): Record<string, string> {
  if (!/^[A-Za-z_]\w*=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (!m) throw new Error(`cannot parse ENV ${args}`);
    return { [m[1]!]: expand(m[2]!, vars) };
  }
  return parsePairs('ENV', /([A-Za-z_]\w*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/g, args, vars);
}

/** LABEL `org.opencontainers.image.version=$VERSION a-b="c d"`: keys may hold dots, dashes and slashes. */
export function parseLabels(args: string, vars: Record<string, string>): Record<string, string> {
  return parsePairs('LABEL', /([\w.\-/]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/g, args, vars);
}

function parsePairs(keyword: string, re: RegExp, args: string, vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let consumed = 0;
  for (let m = re.exec(args); m; m = re.exec(args)) {
    if (m.index !== consumed) break;
    consumed = re.lastIndex;
    out[m[1]!] = expand(unquote(m[2]!), keyword === 'ENV' ? { ...vars, ...out } : vars);
  }
  if (consumed !== args.length) throw new Error(`cannot parse ${keyword} ${args}`);
  return out;
}

function unquote(v: string): string {
  if (/^".*"$/s.test(v)) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^'.*'$/s.test(v)) return v.slice(1, -1);
  return v;
}

export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g, (_, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '');
}

// ---- .dockerignore ----------------------------------------------------------------

/** Docker's rules: patterns in order, `!` re-includes, a match on a parent directory counts, the last match wins. */
export function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = path.posix.normalize((negate ? l.slice(1) : l).trim().replace(/^\/+/, ''));
      return { negate, re: globToRegExp(p) };
    });
  return (rel: string) => {
    const parts = path.posix.normalize(rel).split('/');
    let excluded = false;
    for (const r of rules) {
      for (let k = 1; k <= parts.length; k++) {
        if (r.re.test(parts.slice(0, k).join('/'))) {
          excluded = !r.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function globToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      i++;
      if (p[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---- privileges ---------------------------------------------------------------------

/**
 * How the test gets root for mounts, setpriv and chown: it is root already, or
 * `sudo -n` works (CI runners). `undefined` with the reason otherwise.
 */
export function privilege(): { prefix: string[] } | { reason: string } {
  for (const tool of ['unshare', 'setpriv', 'mount']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { reason: `${tool} (util-linux) is not installed` };
  }
  if (process.getuid?.() === 0) return { prefix: [] };
  if (spawnSync('sudo', ['-n', 'true']).status === 0) return { prefix: ['sudo', '-n', '--'] };
  return { reason: 'needs root, or sudo without a password, for mount namespaces and setpriv' };
}

export function runSync(argv: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

// ---- the replay --------------------------------------------------------------------

export interface ReplayOptions {
  dockerfile: string;
  context: string;
  /** Empty directory that receives one root per replayed stage. */
  workDir: string;
  /** Command prefix that runs a program as root ([] when root already). */
  privileged: string[];
  /** Values for the Dockerfile's ARGs (docker build --build-arg). */
  buildArgs?: Record<string, string>;
  log?: (line: string) => void;
}

export interface StageResult {
  name: string;
  root: string;
  env: Record<string, string>;
  workdir: string;
  user?: string;
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  exposed: string[];
  labels: Record<string, string>;
}

export interface Replay {
  dockerfile: Dockerfile;
  /** The stages FROM external images that the host stands in for. */
  hostStages: Stage[];
  stages: Map<string, StageResult>;
  final: StageResult;
  timings: { step: string; ms: number; cached?: boolean }[];
}

const SLOW_RUN_MS = 20_000;

export async function replayDockerfile(o: ReplayOptions): Promise<Replay> {
  const dockerfile = parseDockerfile(fs.readFileSync(o.dockerfile, 'utf8'));
  const ignored = dockerignore(
    fs.existsSync(path.join(o.context, '.dockerignore')) ? fs.readFileSync(path.join(o.context, '.dockerignore'), 'utf8') : '',
  );
  const log = o.log ?? (() => undefined);
  const stageNames = new Set(dockerfile.stages.map((s) => s.name));
  const byName = (name: string) => dockerfile.stages.find((s) => s.name === name)!;

  // The image is the final stage: replay it and the stages it copies from. A
  // base stage built FROM an external image is the host's part.
  const needed = new Set<string>();
  const hostNames = new Set<string>();
  const need = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    const stage = byName(name);
    if (stageNames.has(stage.from)) {
      if (stageNames.has(byName(stage.from).from)) need(stage.from);
      else hostNames.add(stage.from);
    }
    for (const ins of stage.instructions) if (ins.keyword === 'COPY' && ins.flags.from) need(ins.flags.from);
  };
  const finalStage = dockerfile.stages.at(-1)!;
  need(finalStage.name);
  const hostStages = dockerfile.stages.filter((s) => hostNames.has(s.name));
  const results = new Map<string, StageResult>();
  const keys = new Map<string, string>();
  const timings: Replay['timings'] = [];
  const npmVersion = runSync(['npm', '--version']).trim();
  const cacheRoot =
    process.env.MATE_IMAGE_BUILD_CACHE === 'off'
      ? undefined
      : path.join(process.env.MATE_CACHE ?? path.join(os.homedir(), '.cache', 'mate'), 'image-build');

  for (const stage of dockerfile.stages) {
    if (!needed.has(stage.name)) continue;
    const root = path.join(o.workDir, stage.name);
    fs.mkdirSync(root, { recursive: true });
    const parent = results.get(stage.from);
    const r: StageResult = {
      name: stage.name,
      root,
      env: { ...(parent?.env ?? {}) },
      workdir: parent?.workdir ?? '/',
      user: parent?.user,
      volumes: [...(parent?.volumes ?? [])],
      entrypoint: parent?.entrypoint ?? [],
      cmd: parent?.cmd ?? [],
      exposed: [],
      labels: { ...(parent?.labels ?? {}) },
    };
    const args: Record<string, string> = {};
    const vars = () => ({ ...args, ...r.env });
    const inRoot = (p: string) => path.join(root, path.posix.resolve(r.workdir, p));
    // A host stage's instructions are part of the key: a new NPM_VERSION or OS package invalidates the cache.
    const base = hostNames.has(stage.from) ? byName(stage.from) : undefined;
    let key = sha256(
      stage.from,
      keys.get(stage.from) ?? '',
      ...(base ? [base.from, ...base.instructions.map((i) => i.text)] : []),
      process.version,
      process.arch,
      npmVersion,
    );

    let runIndex = 0;
    for (const ins of stage.instructions) {
      key = sha256(key, ins.text);
      const where = `${stage.name}, line ${ins.line}`;
      const unknownFlags = Object.keys(ins.flags).filter(
        (f) => !(ins.keyword === 'COPY' && ['from', 'chown'].includes(f)) && !(ins.keyword === 'RUN' && f === 'mount'),
      );
      if (unknownFlags.length) throw new Error(`${where}: the replay does not mirror --${unknownFlags.join(', --')}`);
      switch (ins.keyword) {
        case 'ARG': {
          const declared = parseArg(expand(ins.args, vars()), dockerfile.globalArgs);
          for (const name of Object.keys(declared)) if (o.buildArgs?.[name] !== undefined) declared[name] = o.buildArgs[name];
          key = sha256(key, JSON.stringify(declared));
          Object.assign(args, declared);
          break;
        }
        case 'ENV':
          Object.assign(r.env, parseEnv(ins.args, vars()));
          break;
        case 'LABEL':
          Object.assign(r.labels, parseLabels(ins.args, vars()));
          break;
        case 'WORKDIR':
          r.workdir = path.posix.resolve(r.workdir, expand(ins.args, vars()));
          fs.mkdirSync(path.join(root, r.workdir), { recursive: true });
          break;
        case 'USER':
          r.user = expand(ins.args, vars());
          break;
        case 'EXPOSE':
          r.exposed.push(...expand(ins.args, vars()).split(/\s+/));
          break;
        case 'VOLUME':
          r.volumes.push(...(ins.json ?? expand(ins.args, vars()).split(/\s+/)));
          break;
        case 'ENTRYPOINT':
        case 'CMD': {
          if (!ins.json) throw new Error(`${where}: ${ins.keyword} must use the exec (JSON) form`);
          if (ins.keyword === 'ENTRYPOINT') {
            r.entrypoint = ins.json;
            r.cmd = [];
          } else r.cmd = ins.json;
          break;
        }
        case 'COPY': {
          const t0 = Date.now();
          const words = (ins.json ?? expand(ins.args, vars()).split(/\s+/)).map((w) => expand(w, vars()));
          const dest = words.pop()!;
          if (!words.length) throw new Error(`${where}: COPY needs a source and a destination`);
          const destAbs = inRoot(dest);
          const destIsDir = dest.endsWith('/') || words.length > 1;
          if (ins.flags.from) {
            const src = results.get(ins.flags.from);
            if (!src) throw new Error(`${where}: COPY --from=${ins.flags.from}: not a replayed stage`);
            key = sha256(key, keys.get(ins.flags.from)!);
            for (const w of words) {
              const from = path.join(src.root, path.posix.resolve(src.workdir, w));
              if (!fs.existsSync(from)) throw new Error(`${where}: COPY --from=${ins.flags.from} ${w}: not found`);
              const target = fs.statSync(from).isDirectory() ? destAbs : destIsDir ? path.join(destAbs, path.basename(from)) : destAbs;
              // Hard links when the owner stays (the build stage is not changed after this); copies for --chown.
              const cp = ['cp', ins.flags.chown ? '-a' : '-al'];
              if (fs.statSync(from).isDirectory()) {
                fs.mkdirSync(target, { recursive: true });
                runSync([...cp, `${from}/.`, target]);
              } else {
                fs.mkdirSync(path.dirname(target), { recursive: true });
                runSync([...cp, from, target]);
              }
              if (ins.flags.chown) runSync([...o.privileged, 'chown', '-R', ins.flags.chown, target]);
            }
          } else {
            if (ins.flags.chown) throw new Error(`${where}: COPY --chown from the context is not mirrored`);
            for (const w of words) {
              const rel = path.posix.normalize(w).replace(/^\.\/|\/$/g, '');
              const from = path.join(o.context, rel);
              if (/[*?[]/.test(rel)) throw new Error(`${where}: COPY with wildcards is not mirrored`);
              if (ignored(rel) || !fs.existsSync(from)) throw new Error(`${where}: COPY ${w}: not in the build context (.dockerignore?)`);
              const isDir = fs.statSync(from).isDirectory();
              const target = isDir || !destIsDir ? destAbs : path.join(destAbs, path.basename(rel));
              const files: string[] = [];
              fs.mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
              fs.cpSync(from, target, {
                recursive: true,
                verbatimSymlinks: true,
                filter: (src) => {
                  const r2 = path.relative(o.context, src).split(path.sep).join('/');
                  if (ignored(r2)) return false;
                  if (fs.lstatSync(src).isFile()) files.push(r2);
                  return true;
                },
              });
              for (const f of files.sort()) key = sha256(key, f, fs.readFileSync(path.join(o.context, f)));
            }
          }
          timings.push({ step: `${stage.name}: ${ins.text}`, ms: Date.now() - t0 });
          break;
        }
        case 'RUN': {
          const mount = ins.flags.mount;
          if (mount && !/^type=cache(,|$)/.test(mount)) throw new Error(`${where}: RUN --mount=${mount} is not mirrored`);
          const step = `${stage.name}: ${ins.text}`;
          const t0 = Date.now();
          runIndex++;
          const slot = cacheRoot && path.join(cacheRoot, `${stage.name}-run${runIndex}`);
          if (slot && readText(path.join(slot, 'key')) === key && restoreSnapshot(slot, root)) {
            log(`cached: ${step}`);
            timings.push({ step, ms: Date.now() - t0, cached: true });
            break;
          }
          log(`running: ${step}`);
          await runStep(ins.json ?? ['sh', '-c', ins.args], {
            cwd: path.join(root, r.workdir),
            env: buildEnv({ ...args, ...r.env }),
            logFile: path.join(o.workDir, `${stage.name}-line${ins.line}.log`),
            what: `${where}: ${ins.text}`,
          });
          const ms = Date.now() - t0;
          timings.push({ step, ms });
          if (slot && ms > SLOW_RUN_MS) saveSnapshot(slot, root, key);
          break;
        }
        default:
          throw new Error(`${where}: the replay does not mirror ${ins.keyword}`);
      }
    }
    keys.set(stage.name, key);
    results.set(stage.name, r);
  }
  return { dockerfile, hostStages, stages: results, final: results.get(finalStage.name)!, timings };
}

function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** False when the snapshot went away meanwhile (another run replacing it): the step then runs. */
function restoreSnapshot(slot: string, root: string): boolean {
  const copy = `${root}.restore`;
  try {
    runSync(['cp', '-a', path.join(slot, 'root'), copy]);
  } catch {
    fs.rmSync(copy, { recursive: true, force: true });
    return false;
  }
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(copy, root);
  return true;
}

function saveSnapshot(slot: string, root: string, key: string): void {
  const tmp = `${slot}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  runSync(['cp', '-a', root, path.join(tmp, 'root')]);
  fs.writeFileSync(path.join(tmp, 'key'), key);
  fs.rmSync(slot, { recursive: true, force: true });
  fs.renameSync(tmp, slot);
}

/**
 * The environment of a replayed RUN: the host's (its PATH, npm configuration
 * and npm cache stand in for the build image's), minus what the test runner
 * and an enclosing `npm test` set, plus the stage's ARGs and ENV. The node
 * running the test comes first in PATH, so the native modules are built for it.
 */
function buildEnv(stageVars: Record<string, string>): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i;
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^NODE_(OPTIONS|TEST_CONTEXT)$/.test(k) && (!/^npm_/i.test(k) || keep.test(k))),
  );
  env.PATH = `${path.dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;
  return { ...env, ...stageVars };
}

function runStep(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; what: string }): Promise<void> {
  const fd = fs.openSync(o.logFile, 'w');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio: ['ignore', fd, fd] });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      fs.closeSync(fd);
      if (code === 0) return resolve();
      const tail = fs.readFileSync(o.logFile, 'utf8').split('\n').slice(-40).join('\n');
      reject(new Error(`${o.what} failed (${code ?? signal}); log ${o.logFile}:\n${tail}`));
    });
  });
}

// ---- running the image -----------------------------------------------------------

export interface Container {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code when the process has ended. */
  exited: Promise<number | null>;
  /** Sends a signal to the container's PID 1, the way `docker stop` / the kubelet does. */
  signal(sig: NodeJS.Signals): Promise<void>;
}

export interface RunOptions {
  /** Replaces the image's CMD (the ENTRYPOINT stays), like container args. */
  args?: string[];
  /** The deployment's environment, on top of the image's ENV. */
  env?: Record<string, string>;
  privileged: string[];
}

/** Where a path of the image's filesystem is on the host. */
export function hostPath(image: StageResult, containerPath: string): string {
  return path.join(image.root, containerPath);
}

/** What the base image's filesystem contributes, borrowed read-only from the host: its OS and the node that built the native modules. */
function hostParts(): { binds: string[]; links: [string, string][] } {
  const binds = ['/usr', '/etc'];
  const links: [string, string][] = [];
  for (const d of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const st = fs.lstatSync(d, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) links.push([d, fs.readlinkSync(d)]);
    else if (st?.isDirectory()) binds.push(d);
  }
  const nodePrefix = path.dirname(path.dirname(process.execPath));
  if (!binds.some((b) => nodePrefix === b || nodePrefix.startsWith(`${b}/`))) binds.push(nodePrefix);
  return { binds, links };
}

/**
 * Completes the replayed root as the base image would: the mount points of
 * what is borrowed from the host (/usr, /etc, /dev, /proc, the merged-/usr
 * links) and the VOLUME directories the base image has (/tmp is 1777 there).
 */
export function prepareRootfs(image: StageResult): void {
  const { binds, links } = hostParts();
  for (const d of [...binds, '/dev', '/proc']) fs.mkdirSync(hostPath(image, d), { recursive: true });
  for (const [link, target] of links) if (!fs.existsSync(hostPath(image, link))) fs.symlinkSync(target, hostPath(image, link));
  for (const v of image.volumes) {
    const dir = hostPath(image, v);
    if (fs.existsSync(dir)) continue;
    fs.mkdirSync(dir, { recursive: true });
    if (v === '/tmp') fs.chmodSync(dir, 0o1777);
  }
}

export function runImage(image: StageResult, o: RunOptions): Container {
  const user = image.user ?? '0';
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new Error(`USER ${user} is not numeric`);
  const [uid, gid] = [m[1]!, m[2] ?? m[1]!];
  const argv = [...image.entrypoint, ...(o.args ?? image.cmd)];
  if (!argv.length) throw new Error('the image has neither ENTRYPOINT nor CMD');

  // Docker's defaults for a user without a passwd entry, then the image's ENV, then the deployment's.
  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: '/',
    HOSTNAME: 'mate-image-test',
    ...image.env,
    ...o.env,
  };

  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const root = image.root;
  const { binds } = hostParts();
  const script = [
    'set -eu',
    `mount --bind ${q(root)} ${q(root)}`,
    // Volumes and borrowed parts before the root turns read-only (a bind made inside a read-only mount is read-only too).
    ...image.volumes.map((v) => `mount --bind ${q(hostPath(image, v))} ${q(hostPath(image, v))}`),
    ...binds.flatMap((b) => [`mount --rbind ${q(b)} ${q(hostPath(image, b))}`, `mount -o remount,bind,ro ${q(hostPath(image, b))}`]),
    `mount --rbind /dev ${q(hostPath(image, '/dev'))}`,
    `mount -t proc proc ${q(hostPath(image, '/proc'))}`,
    `mount -o remount,bind,ro ${q(root)}`,
    [
      `exec chroot ${q(root)} /usr/bin/env -i -C ${q(image.workdir)}`,
      ...Object.entries(env).map(([k, v]) => q(`${k}=${v}`)),
      `setpriv --reuid=${uid} --regid=${gid} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all --`,
      ...argv.map(q),
    ].join(' '),
  ].join('\n');

  const child = spawn(
    o.privileged[0] ?? 'unshare',
    [
      ...o.privileged.slice(1),
      ...(o.privileged.length ? ['unshare'] : []),
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      '--',
      'sh',
      '-c',
      script,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });

  return {
    child,
    output: () => out,
    exited,
    async signal(sig) {
      const pid1 = containerInit(child.pid!);
      if (pid1 === undefined) throw new Error(`no PID 1 under ${child.pid}: the container has exited\n${out}`);
      if (o.privileged.length) runSync([...o.privileged, 'kill', `-${sig.replace(/^SIG/, '')}`, String(pid1)]);
      else process.kill(pid1, sig);
    },
  };
}

/** The host PID of the process that is PID 1 in a new PID namespace below `ancestor`. */
export function containerInit(ancestor: number): number | undefined {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    const ppid = stat && /\) \S (\d+)/.exec(stat)?.[1];
    if (ppid) parents.set(Number(entry), Number(ppid));
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === ancestor) return true;
    return false;
  };
  for (const pid of parents.keys()) {
    if (!isDescendant(pid)) continue;
    const nspid = /^NSpid:\s+(.*)$/m
      .exec(readText(`/proc/${pid}/status`) ?? '')?.[1]
      ?.trim()
      .split(/\s+/);
    if (nspid && nspid.length > 1 && nspid.at(-1) === '1') return pid;
  }
  return undefined;
}
