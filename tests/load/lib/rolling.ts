/**
 * A rolling restart of API processes behind nginx, under load, as a
 * Deployment's rolling update does it one pod at a time: SIGTERM, the API
 * drains (readiness false, `Connection: close`, still serving for
 * DRAIN_DELAY_MS), finishes what is in flight and exits; the new process
 * starts on the same port; the next one goes only once /readyz says 200.
 * Shared by the test (rolling-restart.test.ts, asserts 0 failed requests) and
 * the benchmark (run.ts, prints the figures).
 *
 * Between nginx and the processes stands a stand-in for the Kubernetes
 * Service (lib/endpoints.ts): new connections go only to ready replicas, as
 * kube-proxy routes them, so a draining process gets no new connection once
 * its readiness turned false, and finishes those it has. With
 * `followReadiness: false` nginx talks to the processes directly and only its
 * own retries (proxy_next_upstream) cover the restart: see docs/pressure.md
 * for what that costs.
 */
import { run, type RunResult, type Workload } from './load.js';
import { freePort, sleep, startApi, type ServerProcess } from './processes.js';
import { startNginx, type Nginx } from './nginx.js';
import { startEndpoints, type Endpoints } from './endpoints.js';

export interface RollingOptions {
  env: Record<string, string>;
  replicas?: number;
  /** Requests per second through nginx, paced. */
  rate: number;
  connections: number;
  workload: Workload;
  /** Load before the first and after the last restart, in seconds. */
  settleSeconds?: number;
  /** New connections follow /readyz through the Service stand-in (default), or nginx talks to the processes directly. */
  followReadiness?: boolean;
  /** Makes the test data (members, carpools) once the first process answers. */
  prepare?: (apiUrl: string) => Promise<Workload | void>;
  log?: (line: string) => void;
}

export interface RollingResult {
  load: RunResult;
  events: Array<{ t: number; event: string }>;
  /** Per restart: drain+exit time, and spawn-to-ready time of the new process. */
  restarts: Array<{ stopMs: number; startMs: number; exitCode: number | null }>;
  nginxErrors: string[];
}

export async function rollingRestart(opts: RollingOptions): Promise<RollingResult> {
  const replicas = opts.replicas ?? 2;
  const log = opts.log ?? (() => undefined);
  const apis: ServerProcess[] = [];
  let nginx: Nginx | undefined;
  const t0 = performance.now();
  const events: RollingResult['events'] = [];
  const following = opts.followReadiness ?? true;
  let endpoints: Endpoints | undefined;
  const mark = (event: string) => {
    events.push({ t: (performance.now() - t0) / 1000, event });
    log(`${((performance.now() - t0) / 1000).toFixed(2)} s  ${event}`);
  };
  try {
    for (let i = 0; i < replicas; i++) {
      const api = await startApi(`api-${i}`, opts.env, await freePort());
      apis.push(api);
      mark(`api-${i} ready on :${api.port} (pid ${api.pid})`);
    }
    const workload = (await opts.prepare?.(apis[0]!.url)) ?? opts.workload;
    if (following)
      endpoints = await startEndpoints(apis, {
        onChange: (i, ready) => mark(`endpoints: api-${i} ${ready ? 'ready, added' : 'not ready, removed'}`),
      });
    nginx = await startNginx(await freePort(), endpoints?.ports ?? apis.map((a) => a.port));
    mark(`nginx on ${nginx.url}${following ? ', upstreams through the Service stand-in' : ', upstreams direct'}`);

    const restarts: RollingResult['restarts'] = [];
    const settle = (opts.settleSeconds ?? 2) * 1000;
    const restarting = (async () => {
      await sleep(settle);
      for (let i = 0; i < apis.length; i++) {
        const old = apis[i]!;
        mark(`api-${i}: SIGTERM (pid ${old.pid})`);
        const s0 = performance.now();
        const exitCode = await old.stop(60_000);
        const stopMs = performance.now() - s0;
        mark(`api-${i}: exited ${exitCode} after ${Math.round(stopMs)} ms`);
        const fresh = await startApi(`api-${i}`, opts.env, old.port);
        apis[i] = fresh;
        mark(`api-${i}: new process ready (pid ${fresh.pid}) after ${Math.round(fresh.startMs)} ms`);
        restarts.push({ stopMs, startMs: fresh.startMs, exitCode });
        // As a Deployment waits for the new pod to be an endpoint before taking down the next one.
        await endpoints?.waitReady(i);
      }
      await sleep(settle);
    })();
    const load = await run('rolling restart through nginx', {
      url: nginx.url,
      workload,
      connections: opts.connections,
      rate: opts.rate,
      duration: 600,
      until: restarting,
    });
    await restarting;
    mark('load stopped');
    const nginxErrors = nginx
      .errorLog()
      .split('\n')
      .filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
    return { load, events, restarts, nginxErrors };
  } finally {
    await nginx?.stop();
    await endpoints?.close();
    await Promise.all(apis.map((a) => a.stop()));
  }
}
