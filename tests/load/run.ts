/**
 * `npm run pressure`: the API under load, as its own production-mode process
 * on real MariaDB, Redis and MinIO, beside a bare Koa app measured in the same
 * run; memory at steady load and over a soak; start-up time; a rolling
 * restart behind nginx. Prints every figure and the targets met or missed,
 * and rewrites the generated section of docs/pressure.md (full runs only).
 *
 *   source ~/.cache/mate/run/test-env.sh      # after bash scripts/test-env/up.sh
 *   bash scripts/load/tools.sh                 # nginx, for the rolling restart
 *   npm run pressure                           # ~16 min (10 of them the soak)
 *   PRESSURE_SMOKE=1 npm run pressure          # well under a minute, for CI; docs untouched
 *
 * Knobs: PRESSURE_SECONDS (per scenario, 10), PRESSURE_STEADY_SECONDS (60),
 * PRESSURE_SOAK_SECONDS (600), PRESSURE_ROLLING / PRESSURE_COMPILED /
 * PRESSURE_WRITE_DOCS = 0|1 (all three on in a full run, off in a smoke run).
 * What is measured and how: docs/pressure.md.
 * Exits 1 if a reservation was lost, a seat count is off, or a request failed
 * across the rolling restart; the other targets are printed, not enforced.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { testServices } from '../../service/src/testing/env.js';
import { constant, fmtResult, non2xxOutcomes, run, type RunResult } from './lib/load.js';
import { findNginx } from './lib/nginx.js';
import { buildDist, freePort, memoryOf, REPO_ROOT, sleep, startApi, startBare, type ServerProcess } from './lib/processes.js';
import { rollingRestart, type RollingResult } from './lib/rolling.js';
import { createStack } from './lib/stack.js';
import { linearFit, median, MiB } from './lib/stats.js';
import {
  carpoolRequest,
  checkLedger,
  legacyListRequest,
  listRequest,
  meRequest,
  morningRush,
  myCarpoolRequest,
  reads,
  ReserveCancel,
  seed,
  signIn,
} from './lib/workloads.js';

const env = process.env;
const smoke = env.PRESSURE_SMOKE === '1';
const SECONDS = Number(env.PRESSURE_SECONDS ?? (smoke ? 1 : 10));
const STEADY_SECONDS = Number(env.PRESSURE_STEADY_SECONDS ?? (smoke ? 3 : 60));
/** The image build's section (tsc and the bundle, ~15 s, then its own measurements): full runs, or PRESSURE_COMPILED=1. */
const COMPILED = env.PRESSURE_COMPILED ? env.PRESSURE_COMPILED === '1' : !smoke;
const DRAIN_MS = smoke ? 1000 : 5000;
/** The rolling restart (tests/load/rolling-restart.test.ts covers it in CI): full runs, or PRESSURE_ROLLING=1. */
const ROLLING = env.PRESSURE_ROLLING ? env.PRESSURE_ROLLING === '1' : !smoke;
const SOAK_SECONDS = Number(env.PRESSURE_SOAK_SECONDS ?? (smoke ? 20 : 600));
/** Start-ups timed on an idle machine at the end (smoke: the first start of each, at the beginning). */
const STARTS = smoke ? 0 : 3;
const WRITE_DOCS = env.PRESSURE_WRITE_DOCS ? env.PRESSURE_WRITE_DOCS === '1' : !smoke;
const SIZES = smoke
  ? { carpools: 40, riders: 90, contenders: 30, hot: 3, signins: 3 }
  : { carpools: 300, riders: 900, contenders: 120, hot: 4, signins: 8 };
const CONNECTIONS = 20;

const began = new Date();
const load0 = os.loadavg();
const rows: Array<RunResult & { connections: number; vsBare?: number; note?: string }> = [];
const notes: string[] = [];
const say = (line: string) => console.log(line);
const mib = (bytes: number | undefined) => (bytes ? (bytes / MiB).toFixed(0) : '–');
const ms = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));

async function measure(
  name: string,
  target: ServerProcess,
  opts: Omit<Parameters<typeof run>[1], 'url' | 'watch'>,
): Promise<RunResult & { connections: number; note?: string; vsBare?: number }> {
  const r = { ...(await run(name, { url: target.url, watch: target, ...opts })), connections: opts.connections };
  say(`  ${fmtResult(r)}`);
  rows.push(r);
  return r;
}

/** Paced runs: few requests per connection per second, so the pace is spread (see lib/load.ts). */
const pacedConnections = (rate: number) => Math.max(10, Math.ceil(rate / 10));

async function versions() {
  const out: Record<string, string> = { node: process.version };
  try {
    const redis = new Redis(testServices().redisUrl, { lazyConnect: true });
    await redis.connect();
    out.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    redis.disconnect();
  } catch {
    out.redis = '?';
  }
  const nginx = findNginx();
  // nginx -v prints to stderr.
  if (nginx) out.nginx = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim();
  return out;
}

let exitCode = 0;
const stack = await createStack();
const processes: ServerProcess[] = [];
try {
  const ver = await versions();
  const [mariadb] = (await stack.deps.db.raw('select version() as v'))[0] as Array<{ v: string }>;
  ver.mariadb = mariadb?.v ?? '?';
  const cpus = os.cpus();
  const machine = `${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${ver.node}, MariaDB ${ver.mariadb}, Redis ${ver.redis}${ver.nginx ? `, ${ver.nginx.replace('nginx version: ', '')}` : ''}`;
  say(`${smoke ? 'SMOKE run' : 'Full run'} on ${machine}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);

  const bare = await startBare(await freePort());
  processes.push(bare);
  const api = await startApi('api', stack.env, await freePort());
  processes.push(api);
  say(`bare Koa ready in ${Math.round(bare.startMs)} ms; API ready in ${Math.round(api.startMs)} ms (pid ${api.pid})`);

  const t = stack.fixtureApp(api.url);
  const s0 = Date.now();
  const seeded = await seed(t, SIZES);
  say(
    `seeded in ${((Date.now() - s0) / 1000).toFixed(1)} s: ${seeded.carpoolIds.length} carpools + ${seeded.hotCarpoolIds.length} contended (3 seats), ${seeded.riders.length} riders, ${seeded.contenders.length} contenders, ${seeded.signins.length} password members`,
  );

  // Warm-up (JIT, pools, caches): not recorded.
  await run('warm-up', { url: api.url, workload: morningRush(seeded), connections: CONNECTIONS, duration: smoke ? 1 : 3 });
  if (!smoke) await run('warm-up', { url: bare.url, workload: constant({ path: '/' }), connections: CONNECTIONS, duration: 1 });

  say('\n== peak rates (closed loop, as fast as answers come)');
  const bareRow = await measure('bare Koa: GET / (constant JSON)', bare, {
    workload: constant({ path: '/' }),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  const cached = await measure("today's list, cached (Redis), 20 items", api, {
    workload: reads(seeded.riders, listRequest),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  const legacyList = await measure('legacy list, cached: GET /api/carpool/{list,active,fast,low} (every carpool of today)', api, {
    workload: reads(seeded.riders, legacyListRequest),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  const nocache = await startApi('api (list cache off)', { ...stack.env, CARPOOL_LIST_CACHE_TTL_SECONDS: '0' }, await freePort());
  processes.push(nocache);
  if (!smoke)
    await run('warm-up', { url: nocache.url, workload: reads(seeded.riders, listRequest), connections: CONNECTIONS, duration: 1 });
  const uncached = await measure("today's list, uncached (MariaDB), 20 items", nocache, {
    workload: reads(seeded.riders, listRequest),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  await nocache.stop();
  await measure('one carpool: GET /carpools/{id}', api, {
    workload: reads(seeded.riders, (r) => carpoolRequest(r, seeded.carpoolIds)),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  await measure('my carpool: GET /me/carpool', api, {
    workload: reads(seeded.riders, myCarpoolRequest),
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  await measure('me: GET /me', api, { workload: reads(seeded.riders, meRequest), connections: CONNECTIONS, duration: SECONDS });
  const contention = new ReserveCancel(seeded.contenders, seeded.hotCarpoolIds);
  const contended = await measure(
    `reserve/cancel, ${seeded.contenders.length} members on ${seeded.hotCarpoolIds.length} carpools of 3 seats`,
    api,
    { workload: contention, connections: 40, duration: SECONDS },
  );
  contended.note = `${contention.acks.reserved} reserved, ${contention.acks.cancelled} cancelled, ${contended.outcomes['reserve 409 MATE-002'] ?? 0} full (409 MATE-002)`;
  await measure('sign-in: POST /auth/signin (argon2id, production parameters)', api, {
    workload: signIn(seeded),
    connections: 4,
    duration: SECONDS,
  });
  const rush = morningRush(seeded);
  const mixedPeak = await measure('morning rush: 90 % reads, 10 % reserve/cancel', api, {
    workload: rush,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  for (const r of rows) r.vsBare = r.rps / bareRow.rps;

  say('\n== latency at a paced rate');
  const cachedHalfRate = Math.max(10, Math.round(cached.rps / 2));
  const cachedHalf = await measure(`today's list, cached, paced at 50 % of its peak (${cachedHalfRate}/s)`, api, {
    workload: reads(seeded.riders, listRequest),
    connections: pacedConnections(cachedHalfRate),
    rate: cachedHalfRate,
    duration: SECONDS,
  });
  const mixedHalfRate = Math.max(10, Math.round(mixedPeak.rps / 2));
  const mixedHalf = await measure(`morning rush, paced at 50 % of its peak (${mixedHalfRate}/s)`, api, {
    workload: rush,
    connections: pacedConnections(mixedHalfRate),
    rate: mixedHalfRate,
    duration: SECONDS,
  });
  const steadyRate = Math.max(10, Math.round(mixedPeak.rps * 0.7));
  const steady = await measure(`morning rush, paced at 70 % of its peak (${steadyRate}/s) for ${STEADY_SECONDS} s`, api, {
    workload: rush,
    connections: pacedConnections(steadyRate),
    rate: steadyRate,
    duration: STEADY_SECONDS,
  });
  const steadySamples = (steady.samples ?? []).filter((s) => s.t >= STEADY_SECONDS * 0.1).map((s) => s.rss);
  const steadyRss = median(steadySamples);
  const steadyRssMax = Math.max(0, ...steadySamples);

  say(`\n== soak: morning rush at ${steadyRate}/s for ${SOAK_SECONDS} s`);
  const soak = await measure(`soak: morning rush, ${steadyRate}/s for ${SOAK_SECONDS} s`, api, {
    workload: rush,
    connections: pacedConnections(steadyRate),
    rate: steadyRate,
    duration: SOAK_SECONDS,
  });
  const soakSamples = (soak.samples ?? []).filter((s) => s.t >= SOAK_SECONDS * 0.1);
  const fit = linearFit(
    soakSamples.map((s) => s.t / 60),
    soakSamples.map((s) => s.rss / MiB),
  );
  const soakMean = soakSamples.reduce((n, s) => n + s.rss, 0) / Math.max(1, soakSamples.length) / MiB;
  const soakMinutes = (SOAK_SECONDS * 0.9) / 60;
  const grows = fit.slope * soakMinutes >= 0.05 * soakMean && fit.r2 >= 0.5;
  const firstTenth = median(soakSamples.slice(0, Math.ceil(soakSamples.length / 10)).map((s) => s.rss / MiB));
  const lastTenth = median(soakSamples.slice(-Math.ceil(soakSamples.length / 10)).map((s) => s.rss / MiB));
  const apiHwm = memoryOf(api.pid)?.hwm ?? 0;
  say(
    `  RSS over the soak (after the first 10 %): slope ${fit.slope.toFixed(3)} MiB/min, R² ${fit.r2.toFixed(2)}, mean ${soakMean.toFixed(0)} MiB, first tenth ${firstTenth.toFixed(0)} → last tenth ${lastTenth.toFixed(0)} MiB: ${grows ? 'GROWTH TREND' : 'no growth trend'}; API VmHWM ${mib(apiHwm)} MiB`,
  );
  await api.stop();

  let rolling: RollingResult | undefined;
  let direct: RollingResult | undefined;
  let rollingRate = 0;
  if (ROLLING && findNginx()) {
    rollingRate = Math.max(20, Math.round(mixedPeak.rps / 2));
    const rollingRun = async (followReadiness: boolean) => {
      say(
        `\n== rolling restart: 2 API processes behind nginx${followReadiness ? ' and a Service stand-in (new connections to ready replicas only)' : ', nginx straight to the processes (its retries only)'}, morning rush at ${rollingRate}/s, DRAIN_DELAY_MS=${DRAIN_MS}`,
      );
      const r = await rollingRestart({
        env: { ...stack.env, DRAIN_DELAY_MS: String(DRAIN_MS) },
        rate: rollingRate,
        connections: pacedConnections(rollingRate),
        workload: rush,
        followReadiness,
        settleSeconds: smoke ? 1 : 3,
        log: (l) => say(`  ${l}`),
      });
      say(`  ${fmtResult(r.load)}`);
      return r;
    };
    rolling = await rollingRun(true);
    if (rolling.load.failures) {
      exitCode = 1;
      console.error(`FAILED: ${rolling.load.failures} failed requests across the rolling restart: ${non2xxOutcomes(rolling.load)}`);
    }
    if (!smoke) direct = await rollingRun(false);
  } else {
    notes.push(
      ROLLING
        ? 'rolling restart not measured: nginx is missing (bash scripts/load/tools.sh)'
        : 'rolling restart not measured in this run (PRESSURE_ROLLING=1 to include it)',
    );
  }

  say(`\n== start-up to ready, ${STARTS || 'the first'} start(s) each${STARTS ? ', idle machine' : ''}`);
  const starts = { api: [api.startMs], bare: [bare.startMs] };
  await bare.stop();
  for (let i = 0; i < STARTS; i++) {
    const b = await startBare(await freePort());
    starts.bare.push(b.startMs);
    await b.stop();
    const a = await startApi('api', stack.env, await freePort());
    starts.api.push(a.startMs);
    await a.stop();
  }
  if (!STARTS) {
    starts.api.push(api.startMs);
    starts.bare.push(bare.startMs);
  }
  const apiStart = median(starts.api.slice(1));
  const bareStart = median(starts.bare.slice(1));
  say(
    `  API spawn → /readyz 200: ${starts.api.slice(1).map(Math.round).join(', ')} ms (median ${Math.round(apiStart)}); bare Koa spawn → 200: ${starts.bare.slice(1).map(Math.round).join(', ')} ms (median ${Math.round(bareStart)}): ${(apiStart / bareStart).toFixed(2)}×`,
  );

  const compiled = { api: [] as number[], bare: [] as number[], idleRss: 0, steadyRss: 0, steadyRssMax: 0, peak: 0, rate: 0, failures: 0 };
  if (COMPILED) {
    say('\n== the image build, as the image runs it: node dist/main/api.js (tsc -p service/tsconfig.build.json, then service/bundle.mjs)');
    const dist = buildDist();
    try {
      for (let i = 0; i < STARTS; i++) {
        const b = await startBare(await freePort(), dist);
        compiled.bare.push(b.startMs);
        await b.stop();
        const a = await startApi('api (compiled)', stack.env, await freePort(), dist);
        compiled.api.push(a.startMs);
        await a.stop();
      }
      const capi = await startApi('api (compiled)', stack.env, await freePort(), dist);
      processes.push(capi);
      await sleep(1000);
      compiled.idleRss = memoryOf(capi.pid)?.rss ?? 0;
      await run('warm-up', { url: capi.url, workload: rush, connections: CONNECTIONS, duration: smoke ? 1 : 3 });
      const cPeak = await measure('image build (bundled): morning rush', capi, {
        workload: rush,
        connections: CONNECTIONS,
        duration: SECONDS,
      });
      cPeak.vsBare = cPeak.rps / bareRow.rps;
      compiled.peak = cPeak.rps;
      compiled.rate = Math.max(10, Math.round(cPeak.rps * 0.7));
      const cSeconds = smoke ? 4 : 30;
      const cSteady = await measure(
        `image build (bundled): morning rush, paced at 70 % of its peak (${compiled.rate}/s) for ${cSeconds} s`,
        capi,
        {
          workload: rush,
          connections: pacedConnections(compiled.rate),
          rate: compiled.rate,
          duration: cSeconds,
        },
      );
      const cSamples = (cSteady.samples ?? []).filter((x) => x.t >= cSeconds * 0.1).map((x) => x.rss);
      compiled.steadyRss = median(cSamples);
      compiled.steadyRssMax = Math.max(0, ...cSamples);
      compiled.failures = cSteady.failures;
      await capi.stop();
    } finally {
      dist.cleanup();
    }
  }
  const cApiStart = median(compiled.api);
  const cBareStart = median(compiled.bare);
  if (COMPILED)
    say(
      `  compiled: API spawn → ready median ${Math.round(cApiStart)} ms vs bare Koa (plain JS) ${Math.round(cBareStart)} ms: ${(cApiStart / cBareStart).toFixed(2)}×; idle RSS ${mib(compiled.idleRss)} MiB, steady RSS median ${mib(compiled.steadyRss)} MiB (max ${mib(compiled.steadyRssMax)})`,
    );

  const ledger = await checkLedger(t, [...seeded.riders, ...seeded.contenders], [...seeded.carpoolIds, ...seeded.hotCarpoolIds]);
  say(
    `\nreservations: ${ledger.judged} members judged, lost ${ledger.lost}, unexpected ${ledger.unexpected}; carpools over capacity ${ledger.overbooked}, seat count ≠ reservations ${ledger.mismatched}`,
  );
  if (ledger.lost || ledger.overbooked || ledger.mismatched || ledger.unexpected) {
    exitCode = 1;
    console.error('FAILED: lost reservations or a seat count off');
  }

  const cpu = (r: RunResult) => r.cpuPerRequestMs ?? NaN;
  const cpuMs = (v: number) => `${v.toFixed(3)} ms`;
  const listCpu = cpu(cached) / cpu(bareRow);
  const legacyCpu = cpu(legacyList) / cpu(cached);
  const notCompiled = 'not measured in this run (PRESSURE_COMPILED=1)';
  const targets: Array<[string, string, boolean | null]> = [
    [
      "cached v1 list: CPU per request ≤ 3× bare Koa's",
      `${cpuMs(cpu(cached))} vs ${cpuMs(cpu(bareRow))}: ${listCpu.toFixed(2)}×`,
      listCpu <= 3,
    ],
    [
      "cached v1 list: rate ≥ 0.35 of bare Koa's",
      `${Math.round(cached.rps)} vs ${Math.round(bareRow.rps)} req/s: ${(cached.rps / bareRow.rps).toFixed(3)}`,
      cached.rps >= 0.35 * bareRow.rps,
    ],
    [
      'p99 < 10 ms at half the peak rate: cached v1 list',
      `${ms(cachedHalf.p99)} ms at ${Math.round(cachedHalf.rps)}/s`,
      cachedHalf.p99 < 10,
    ],
    [
      "legacy list: CPU per request ≤ 1.5× the v1 list's",
      `${cpuMs(cpu(legacyList))} vs ${cpuMs(cpu(cached))}: ${legacyCpu.toFixed(2)}×`,
      legacyCpu <= 1.5,
    ],
    ['p99 < 25 ms at half the peak rate: morning rush', `${ms(mixedHalf.p99)} ms at ${Math.round(mixedHalf.rps)}/s`, mixedHalf.p99 < 25],
    [
      `morning rush: 0 errors at 70 % of its peak for ${STEADY_SECONDS} s`,
      `${steady.failures} failed of ${steady.requests} (${Math.round(steady.rps)}/s)`,
      steady.failures === 0,
    ],
    [
      'zero failed requests across a rolling restart',
      rolling
        ? `${rolling.load.failures} failed of ${rolling.load.requests}${direct ? ` (nginx straight to the processes, no readiness: ${direct.load.failures} failed of ${direct.load.requests}${direct.load.failures ? `: ${non2xxOutcomes(direct.load)}` : ''})` : ''}`
        : ROLLING
          ? 'not measured (no nginx)'
          : 'not measured in this run (PRESSURE_ROLLING=1; CI runs tests/load/rolling-restart.test.ts)',
      rolling ? rolling.load.failures === 0 : ROLLING ? false : null,
    ],
    [
      'zero lost reservations, zero overbooking',
      `lost ${ledger.lost}, over capacity ${ledger.overbooked}, seat count off ${ledger.mismatched} (${contention.acks.reserved + rush.writes.acks.reserved} reservations acknowledged)`,
      !ledger.lost && !ledger.overbooked && !ledger.mismatched,
    ],
    [
      'steady RSS ≤ 120 MiB at the morning rush (the image, as it runs)',
      COMPILED
        ? `median ${mib(compiled.steadyRss)} MiB, max ${mib(compiled.steadyRssMax)} MiB (idle ${mib(compiled.idleRss)} MiB) at ${compiled.rate}/s`
        : notCompiled,
      COMPILED ? compiled.steadyRss <= 120 * MiB : null,
    ],
    [
      `no RSS growth trend over the ${SOAK_SECONDS} s soak`,
      `${fit.slope >= 0 ? '+' : ''}${fit.slope.toFixed(3)} MiB/min (R² ${fit.r2.toFixed(2)}), ${firstTenth.toFixed(0)} → ${lastTenth.toFixed(0)} MiB`,
      !grows,
    ],
    [
      "start-up to ready ≤ 2× a bare Koa app's (the image, as it runs)",
      COMPILED ? `${Math.round(cApiStart)} ms vs ${Math.round(cBareStart)} ms: ${(cApiStart / cBareStart).toFixed(2)}×` : notCompiled,
      COMPILED ? cApiStart <= 2 * cBareStart : null,
    ],
  ];

  const table = [
    '| scenario | conn. | req/s | p50 ms | p95 ms | p99 ms | non-2xx | errors | failed | API RSS max MiB | vs bare | CPU ms/req | CPU vs bare |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.connections} | ${Math.round(r.rps).toLocaleString('en')} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${r.non2xx} | ${r.errors} | ${r.failures} | ${mib(r.rssMax)} | ${r.vsBare ? r.vsBare.toFixed(3) : ''} | ${r.cpuPerRequestMs?.toFixed(3) ?? ''} | ${r.cpuPerRequestMs ? (r.cpuPerRequestMs / cpu(bareRow)).toFixed(1) : ''} |`,
    ),
  ];
  for (const [label, rr] of [
    ['nginx → Service stand-in → 2 API processes', rolling],
    ['nginx → 2 API processes directly (no readiness)', direct],
  ] as const) {
    if (!rr) continue;
    const l = rr.load;
    table.push(
      `| rolling restart, ${label}, morning rush paced at ${rollingRate}/s | ${pacedConnections(rollingRate)} | ${Math.round(l.rps)} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ${l.non2xx} | ${l.errors} | ${l.failures} | | | | |`,
    );
  }
  const targetTable = [
    '| target | measured | met |',
    '|---|---|---|',
    ...targets.map(([what, got, ok]) => `| ${what} | ${got} | ${ok === null ? 'n/a' : ok ? 'met' : '**missed**'} |`),
  ];
  const extra = [
    `- Start-up (spawn → ready, median of ${STARTS || 1}): API ${Math.round(apiStart)} ms (${starts.api.slice(1).map(Math.round).join(', ')}), bare Koa ${Math.round(bareStart)} ms (${starts.bare.slice(1).map(Math.round).join(', ')}); both \`node --import tsx\`.`,
    ...(!COMPILED
      ? []
      : [
          `- Image build (\`node dist/main/api.js\`, bundled, as the image runs it): start-up ${Math.round(cApiStart)} ms (${compiled.api.map(Math.round).join(', ')}) vs a plain-JavaScript bare Koa app ${Math.round(cBareStart)} ms (${compiled.bare.map(Math.round).join(', ')}); idle RSS ${mib(compiled.idleRss)} MiB; morning rush peak ${Math.round(compiled.peak)} req/s, at 70 % (${compiled.rate}/s) RSS median ${mib(compiled.steadyRss)} MiB, max ${mib(compiled.steadyRssMax)} MiB, ${compiled.failures} failed.`,
        ]),
    `- Under tsx (the development runner, not a target): start-up ${(apiStart / bareStart).toFixed(2)}× the bare app's, steady RSS median ${mib(steadyRss)} MiB (max ${mib(steadyRssMax)}).`,
    `- Memory: API VmHWM ${mib(apiHwm)} MiB over the whole run; steady RSS (70 % of peak, after the first 10 % of the run) median ${mib(steadyRss)} MiB; soak RSS mean ${soakMean.toFixed(0)} MiB, slope ${fit.slope.toFixed(3)} MiB/min (R² ${fit.r2.toFixed(2)}): ${grows ? '**growth trend**' : 'no growth trend'}.`,
    `- Today's list: cached ${Math.round(cached.rps)} req/s vs uncached ${Math.round(uncached.rps)} req/s (${(cached.rps / uncached.rps).toFixed(1)}× with the Redis cache).`,
    `- Soak: ${soak.requests.toLocaleString('en')} requests, ${soak.failures} failed, p99 ${ms(soak.p99)} ms.`,
    ...(rolling
      ? [
          `- Rolling restart (DRAIN_DELAY_MS=${DRAIN_MS}): ${rolling.load.requests.toLocaleString('en')} requests, ${rolling.load.failures} failed, max latency ${ms(rolling.load.max)} ms; per process: drain + exit ${rolling.restarts.map((r) => `${(r.stopMs / 1000).toFixed(1)} s`).join(', ')}, new process ready in ${rolling.restarts.map((r) => `${(r.startMs / 1000).toFixed(1)} s`).join(', ')}; nginx error-log lines: ${rolling.nginxErrors.length}.`,
          ...(direct
            ? [
                `- Rolling restart with nginx straight to the processes (no readiness between them): ${direct.load.failures} failed of ${direct.load.requests.toLocaleString('en')}${direct.load.failures ? ` (${non2xxOutcomes(direct.load)}; errors ${direct.load.errors})` : ''}; nginx error-log lines: ${direct.nginxErrors.length} (${direct.nginxErrors.filter((l) => /reset by peer/.test(l)).length} "connection reset by peer" while reading the answer).`,
              ]
            : []),
        ]
      : []),
    `- Reservations: ${ledger.judged} members judged against the database after the run: lost ${ledger.lost}, unexpected ${ledger.unexpected}; carpools over capacity ${ledger.overbooked}, seat count ≠ standing reservations ${ledger.mismatched}.`,
    ...notes.map((n) => `- ${n}`),
  ];
  const report = [
    `Measured ${began.toISOString().slice(0, 16).replace('T', ' ')} UTC (${smoke ? 'smoke run' : 'full run'}, ${SECONDS} s per scenario) on ${machine}; load average at the start ${load0.map((l) => l.toFixed(2)).join(' ')}, at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
    '',
    ...table,
    '',
    ...targetTable,
    '',
    ...extra,
  ].join('\n');
  say(`\n${report}`);

  if (WRITE_DOCS) {
    const file = path.join(REPO_ROOT, 'docs/pressure.md');
    const BEGIN = '<!-- pressure:results:begin (generated by npm run pressure; do not edit) -->';
    const END = '<!-- pressure:results:end -->';
    const doc = fs.readFileSync(file, 'utf8');
    const a = doc.indexOf(BEGIN);
    const b = doc.indexOf(END);
    if (a < 0 || b < a) throw new Error(`${file} lacks the generated-section markers`);
    fs.writeFileSync(file, `${doc.slice(0, a + BEGIN.length)}\n${report}\n${doc.slice(b)}`);
    say(`\nwrote the results into ${path.relative(process.cwd(), file)}`);
  }
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  await stack.close();
}
process.exit(exitCode);
