/**
 * The processes under load: the API as production runs it (`node --import tsx
 * service/src/main/api.ts`, its own process, production mode) and, beside it,
 * a bare Koa app of the same process type, for baselines measured in the same
 * run. Both on loopback ports chosen here, so a restarted process comes back
 * on the same port (as a pod behind a Service would).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile, parseEnv } from '../../image/dockerfile.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * How the processes are started. `tsx`: `node --import tsx <file>.ts`, as the
 * brief of the suite asks (and as `npm start` runs). `dist`: the compiled
 * JavaScript as the image runs it (`node dist/main/api.js`), beside a bare Koa
 * app that is plain JavaScript too.
 */
export interface Runtime {
  kind: 'tsx' | 'dist';
  api: string[];
  /** Environment the API gets from the runtime itself (the image's NODE_OPTIONS). */
  apiEnv: Record<string, string>;
  bare: string[];
  cleanup(): void;
}

export const TSX_RUNTIME: Runtime = {
  kind: 'tsx',
  api: ['--import', 'tsx', path.join(REPO_ROOT, 'service/src/main/api.ts')],
  apiEnv: {},
  bare: ['--import', 'tsx', fileURLToPath(new URL('../bare-koa.ts', import.meta.url))],
  cleanup: () => undefined,
};

/** The ENV of the image's runtime stage (service/Dockerfile). */
function imageEnv(): Record<string, string> {
  const runtime = parseDockerfile(fs.readFileSync(path.join(REPO_ROOT, 'service/Dockerfile'), 'utf8')).stages.at(-1)!;
  return Object.assign({}, ...runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => parseEnv(i.args, {})));
}

/** Compiles and bundles the service as its image build does (tsconfig.build.json, then service/bundle.mjs) into a temp folder. */
export function buildDist(): Runtime {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-pressure-dist-'));
  const out = path.join(dir, 'service', 'dist');
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'service/tsconfig.build.json', '--outDir', out, '--sourceMap', 'false'],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    },
  );
  fs.copyFileSync(path.join(REPO_ROOT, 'service/package.json'), path.join(dir, 'service/package.json'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'service/bundle.mjs'), out], { cwd: REPO_ROOT, stdio: 'inherit' });
  const bare = path.join(dir, 'bare-koa.mjs');
  fs.writeFileSync(
    bare,
    fs
      .readFileSync(fileURLToPath(new URL('../bare-koa.ts', import.meta.url)), 'utf8')
      .replace(/^\/\*\*[\s\S]*?\*\/\n/, '// tests/load/bare-koa.ts, as plain JavaScript\n'),
  );
  return {
    kind: 'dist',
    api: [path.join(out, 'main/api.js')],
    apiEnv: { NODE_OPTIONS: imageEnv().NODE_OPTIONS ?? '' },
    bare: [bare],
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Every child started here, killed if this process exits without stopping
 * them (an uncaught exception in a load generator's callback, say): a crashed
 * run must not leave API processes behind.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGTERM'); // the API drains and exits; nginx stops its workers
});
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** A free loopback port (the OS picks it; nothing holds it afterwards). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU time a process has used, user and system, all its threads (GC and the
 * libuv pool included), in milliseconds, from /proc/<pid>/stat. CPU per
 * request from this is steadier than a rate on a shared machine: it does not
 * depend on what else has the cores.
 */
export function cpuTimeOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: Array<{ t: number; rss: number }> = [];
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    private readonly everyMs = 250,
  ) {}
  start(): this {
    const t0 = Date.now();
    const take = () => {
      const m = memoryOf(this.pid);
      if (m) this.samples.push({ t: (Date.now() - t0) / 1000, rss: m.rss });
    };
    take();
    this.timer = setInterval(take, this.everyMs);
    return this;
  }
  stop(): this {
    clearInterval(this.timer);
    return this;
  }
  max(): number {
    return Math.max(0, ...this.samples.map((s) => s.rss));
  }
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** Milliseconds from spawn to the first 200 of the readiness path. */
  startMs: number;
  exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
  stderrTail(): string;
}

async function waitFor200(url: string, child: ChildProcess, deadlineMs: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url}: not ready within ${deadlineMs} ms:\n${stderr()}`);
    await sleep(10);
  }
}

async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
  opts: { stdout?: 'ignore' | 'inherit' } = {},
): Promise<ServerProcess> {
  const t0 = performance.now();
  const child = track(
    spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}${readyPath}`, child, 60_000, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const startMs = performance.now() - t0;
  return {
    name,
    child,
    pid: child.pid!,
    port,
    url,
    startMs,
    exited,
    stderrTail: () => stderr,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The API, production mode, as its own process; ready when /readyz answers 200. */
export function startApi(name: string, env: Record<string, string>, port: number, runtime = TSX_RUNTIME): Promise<ServerProcess> {
  return startServer(name, runtime.api, { ...runtime.apiEnv, ...env }, port, '/readyz');
}

/** The bare Koa app (constant JSON), the same kind of process as the API. */
export function startBare(port: number, runtime = TSX_RUNTIME): Promise<ServerProcess> {
  return startServer('bare Koa', runtime.bare, {}, port, '/');
}
