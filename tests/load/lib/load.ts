/**
 * autocannon, driven by workloads: each request is built by a workload (so a
 * scenario can rotate members, carpools and operations, and learn from the
 * answers), every answer's latency goes into one histogram (p50/p95/p99 over
 * all answers, not only the 2xx), and every answer is counted by status and
 * problem code.
 *
 * Paced runs: autocannon paces per connection in one-second budgets, all
 * connections starting their second together, which makes bursts. A paced
 * run here is split into lanes (separate autocannon instances) started at
 * even offsets within the second, each with few connections and a few
 * requests per connection per second, so the arrivals are spread over the
 * second instead of landing at its start.
 */
import autocannon from 'autocannon';
import { Histogram } from './stats.js';
import { cpuTimeOf, RssSampler, sleep, type ServerProcess } from './processes.js';

export interface Req {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A label for the per-operation breakdown (defaults to the method). */
  op?: string;
}

export interface Workload {
  next(): Req;
  /** The answer to a request built by next(). */
  done?(req: Req, status: number, body: string): void;
  /** Whether an answer counts as failed (default: anything but 2xx). Socket errors and timeouts always do. */
  failed?(req: Req, status: number, code: string | undefined): boolean;
}

export interface RunResult {
  name: string;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Answers by "status code" (e.g. "201", "409 MATE-002"). */
  outcomes: Record<string, number>;
  non2xx: number;
  /** Socket errors and timeouts (no answer at all). */
  errors: number;
  /** Failed answers by the workload's rule, plus errors. */
  failures: number;
  /** Largest RSS sampled in the watched process during the run, and its VmHWM afterwards. */
  rssMax?: number;
  samples?: Array<{ t: number; rss: number }>;
  /** CPU time the watched process used per answer during the run, in milliseconds. */
  cpuPerRequestMs?: number;
}

export interface RunOptions {
  url: string;
  workload: Workload;
  connections: number;
  /** Seconds (default) or a number of requests. */
  duration?: number;
  amount?: number;
  /** Requests per second, paced (see above); unpaced (as fast as answers come) when absent. */
  rate?: number;
  /** The server process whose RSS to sample during the run. */
  watch?: ServerProcess;
  timeoutSeconds?: number;
  /** Ends the run early when this settles (the duration is then only an upper bound). */
  until?: Promise<unknown>;
}

const codeOf = (body: string): string | undefined => /"code":"([A-Z0-9]+-\d{3})"/.exec(body)?.[1];

export async function run(name: string, opts: RunOptions): Promise<RunResult> {
  const hist = new Histogram();
  const outcomes: Record<string, number> = {};
  let answered = 0;
  let non2xx = 0;
  let failedAnswers = 0;
  const wl = opts.workload;
  const failed = wl.failed ? wl.failed.bind(wl) : (_r: Req, status: number) => status < 200 || status > 299;
  const sampler = opts.watch ? new RssSampler(opts.watch.pid).start() : undefined;
  const instances: Array<{ stop(): void }> = [];
  let stopped = false;
  const stopAll = () => {
    stopped = true;
    for (const i of instances) i.stop();
  };
  opts.until?.then(stopAll, stopAll);

  const lane = (connections: number, rate: number | undefined, duration: number | undefined, amount: number | undefined) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: opts.url,
          connections,
          duration,
          amount,
          overallRate: rate,
          timeout: opts.timeoutSeconds ?? 10,
          requests: [
            {
              setupRequest: (req, context: { r?: Req }) => {
                const r = wl.next();
                context.r = r;
                return {
                  ...req,
                  method: r.method ?? 'GET',
                  path: r.path,
                  headers: { ...r.headers, ...(r.body ? { 'content-type': 'application/json' } : {}) },
                  body: r.body,
                };
              },
              onResponse: (status: number, body: string, context: { r?: Req }) => {
                const r = context.r!;
                const code = status >= 400 ? codeOf(body) : undefined;
                const key = `${r.op ?? r.method ?? 'GET'} ${status}${code ? ` ${code}` : ''}`;
                outcomes[key] = (outcomes[key] ?? 0) + 1;
                answered++;
                if (status < 200 || status > 299) non2xx++;
                if (failed(r, status, code)) failedAnswers++;
                wl.done?.(r, status, body);
              },
            },
          ],
        } as autocannon.Options,
        (err, result) => (err ? reject(err) : resolve(result)),
      );
      instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => hist.record(ms));
      instances.push(instance);
      if (stopped) instance.stop();
    });

  const cpu0 = opts.watch ? cpuTimeOf(opts.watch.pid) : undefined;
  const t0 = performance.now();
  let results: autocannon.Result[];
  if (!opts.rate) {
    results = [await lane(opts.connections, undefined, opts.amount ? undefined : (opts.duration ?? 10), opts.amount)];
  } else {
    const lanes = Math.max(1, Math.min(20, Math.floor(opts.rate / 5), opts.connections));
    const perLaneConnections = Math.max(1, Math.round(opts.connections / lanes));
    results = await Promise.all(
      Array.from({ length: lanes }, async (_, i) => {
        await sleep((1000 * i) / lanes);
        const rate = Math.floor(opts.rate! / lanes) + (i < opts.rate! % lanes ? 1 : 0);
        return lane(perLaneConnections, rate, opts.duration ?? 10, undefined);
      }),
    );
  }
  // Paced lanes start up to a second apart: the rate is over the lanes' own duration.
  const seconds = opts.rate && !stopped ? (opts.duration ?? 10) : (performance.now() - t0) / 1000;
  sampler?.stop();
  const cpu1 = opts.watch ? cpuTimeOf(opts.watch.pid) : undefined;
  const errors = results.reduce((n, r) => n + r.errors, 0); // autocannon counts timeouts among errors
  return {
    name,
    seconds,
    requests: answered,
    rps: answered / seconds,
    p50: hist.percentile(50),
    p95: hist.percentile(95),
    p99: hist.percentile(99),
    max: hist.max,
    outcomes,
    non2xx,
    errors,
    failures: failedAnswers + errors,
    rssMax: sampler?.max(),
    samples: sampler?.samples,
    cpuPerRequestMs: cpu0 !== undefined && cpu1 !== undefined && answered ? (cpu1 - cpu0) / answered : undefined,
  };
}

/** A workload that sends the same request every time. */
export const constant = (req: Req): Workload => ({ next: () => req });

/** Picks one of `items` at random, by weight. */
export function weighted<T>(items: Array<[number, T]>): () => T {
  const total = items.reduce((n, [w]) => n + w, 0);
  return () => {
    let x = Math.random() * total;
    for (const [w, item] of items) if ((x -= w) < 0) return item;
    return items[items.length - 1]![1];
  };
}

export const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

/** The answers that were not 2xx, e.g. "reserve 409 MATE-002: 12". */
export const non2xxOutcomes = (r: RunResult) =>
  Object.entries(r.outcomes)
    .filter(([k]) => !/ 2\d\d$/.test(k))
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

export function fmtResult(r: RunResult): string {
  const odd = non2xxOutcomes(r);
  return `${r.name}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, non-2xx ${r.non2xx}, errors ${r.errors}, failures ${r.failures}${r.cpuPerRequestMs !== undefined ? `, CPU ${r.cpuPerRequestMs.toFixed(3)} ms/req` : ''}${r.rssMax ? `, RSS max ${(r.rssMax / 1048576).toFixed(0)} MiB` : ''}${odd ? ` [${odd}]` : ''}`;
}
