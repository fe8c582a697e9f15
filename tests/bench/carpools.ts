/**
 * Carpools benchmark (prints figures; not a test). Real MariaDB and Redis
 * (the test services), real listening servers in a process of their own
 * (carpools-server.ts), autocannon as the client in this one. Every figure
 * stands beside a baseline measured in the same run:
 *   (a) today's list, 50 items, cached and uncached, beside a bare Koa route
 *       returning a constant in the server's process;
 *   (b) successful reservations/s under contention (one attempt per rider,
 *       6 riders per carpool of 5 seats, 175 seats a round), beside the raw
 *       rate of the same conditional UPDATE sent through mysql2 on its own;
 *   (c) the overbooking count (must be 0: the run exits 1 otherwise).
 *
 *   source ~/.cache/mate/run/test-env.sh
 *   npm run bench                  # 1,000 carpools, 5 rounds of 210 reservations, 10 s per list figure
 *   BENCH_SMOKE=1 npm run bench    # a few seconds, for CI
 *   BENCH_CPU_PROF=/tmp/prof npm run bench   # also writes a CPU profile of the server process
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createServiceCalendar } from '../../service/src/platform/clock/index.js';
import { createDb, migrateLatest } from '../../service/src/platform/db/index.js';
import { closeDeps } from '../../service/src/platform/deps.js';
import { createTestDatabase } from '../../service/src/testing/databases.js';
import { testServices } from '../../service/src/testing/env.js';
import { Histogram } from '../load/lib/stats.js';
import { benchDeps, toEnv, type BenchSettings } from './carpools-app.js';

const smoke = process.env.BENCH_SMOKE === '1';
const SECONDS = smoke ? 1 : 10;
const CARPOOLS = smoke ? 60 : 1_000;
const CAPACITY = 5;
/** Reservations: rounds of 35 carpools (175 seats) with 6 riders each, every rider trying once. */
const ROUND_CARPOOLS = 35;
const RIDERS_PER_CARPOOL = 6;
const ROUNDS = smoke ? 1 : 5;
const CLIENTS = ROUNDS * ROUND_CARPOOLS * RIDERS_PER_CARPOOL;
const CONNECTIONS = smoke ? 20 : 100;
const LIST_CONNECTIONS = 20;
const POOL = 20;
const LIST_SIZE = 50;

const database = await createTestDatabase();
const migrator = createDb(database.migratorUrl, { poolMax: 1 });
await migrateLatest(migrator);
await migrator.destroy();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-bench-'));
const calendar = createServiceCalendar({ startHour: 10, timeZone: 'Asia/Seoul' }, () => new Date());
const settings: BenchSettings = {
  databaseUrl: database.appUrl,
  redisUrl: testServices().redisUrl,
  redisPrefix: `mate:bench${process.pid}:`,
  dataDir,
  pool: POOL,
  // 11:00 of the current service day (Seoul), whatever the hour the bench runs at.
  clockBase: calendar.bounds(calendar.today()).start.getTime() + 3_600_000,
  realStart: Date.now(),
};

const server = fork(fileURLToPath(new URL('./carpools-server.ts', import.meta.url)), [], {
  // BENCH_CPU_PROF=dir: a CPU profile of the server process, for finding where a request's time goes.
  execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
  env: { ...process.env, ...toEnv(settings) },
});
const nextMessage = <T>(type: string) =>
  new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      server.off('message', onMessage);
      resolve(m as T);
    };
    server.on('message', onMessage);
    server.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
  });
const urls = await nextMessage<{ cached: string; uncached: string; bare: string }>('ready');
// This process's own view of the same database and Redis: seeding and checks go through the services.
const { deps, features } = await benchDeps(settings, 30);
const { db } = deps;
const svc = features.services;

interface Row {
  scenario: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  non2xx: number;
  errors: number;
}
const rows: Row[] = [];
function record(scenario: string, r: autocannon.Result): Row {
  const row = {
    scenario,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
  rows.push(row);
  console.log(JSON.stringify(row));
  return row;
}

/** Member rows in bulk (a benchmark's shortcut), then a session and a token each through the services. */
async function members(prefix: string, n: number): Promise<number[]> {
  const now = deps.clock();
  const list = Array.from({ length: n }, (_, i) => ({
    login_id: `${prefix}${i}`,
    email: `${prefix}${i}@bench.example`,
    nickname: `${prefix}${i}`,
    role: 'member',
    provider: 'mate',
    created_at: now,
    updated_at: now,
  }));
  await db.batchInsert('members', list, 1_000);
  return (await db('members').where('login_id', 'like', `${prefix}%`).orderBy('id').pluck('id')).map(Number);
}
async function tokens(ids: number[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const sessions = await Promise.all(chunk.map((id) => svc.sessions.create(id)));
    chunk.forEach((id, k) => out.push(svc.tokens.sign({ sub: String(id), sid: sessions[k]!.sid, role: 'member' })));
  }
  return out;
}

let exitCode = 0;
try {
  const t0 = Date.now();
  const driverIds = await members('d', CARPOOLS);
  const now = deps.clock();
  await db.batchInsert(
    'drivers',
    driverIds.map((id, i) => ({
      member_id: id,
      car_number: `${10 + (i % 89)}가${1000 + i}`,
      phone_number: '010-1234-5678',
      created_at: now,
      updated_at: now,
    })),
    1_000,
  );
  const carpoolIds: number[] = [];
  for (let i = 0; i < driverIds.length; i += 50) {
    const posted = await Promise.all(
      driverIds.slice(i, i + 50).map((id, k) =>
        svc.carpools.post(id, {
          departurePlace: `수원시 권선구 출발지 ${i + k}`,
          latitude: 37.2 + (i + k) / 10_000,
          longitude: 126.9 + (i + k) / 10_000,
          departureAt: new Date(deps.clock().getTime() + (6 + ((i + k) % 6)) * 3_600_000).toISOString(),
          chatLink: 'https://open.kakao.com/o/bench',
          capacity: CAPACITY,
          cost: ((i + k) % 10) * 500,
        }),
      ),
    );
    carpoolIds.push(...posted.map((c) => c.id));
  }
  const clientTokens = await tokens(await members('c', CLIENTS));
  const [viewerToken] = await tokens(await members('v', 1));
  console.log(
    `set-up: ${CARPOOLS} carpools (capacity ${CAPACITY}), ${CLIENTS} clients, pool ${POOL}, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  // (a) today's list, 50 items
  const listPath = `/api/v1/carpools?sort=departure&size=${LIST_SIZE}`;
  const auth = { authorization: `Bearer ${viewerToken}` };
  const probe = (await (await fetch(`${urls.cached}${listPath}`, { headers: auth })).json()) as { items?: unknown[] };
  if (probe.items?.length !== LIST_SIZE) throw new Error(`the list answered ${JSON.stringify(probe).slice(0, 200)}`);
  const listRun = (url: string) => autocannon({ url, duration: SECONDS, connections: LIST_CONNECTIONS, headers: auth });
  const baseline = record('bare Koa route, constant JSON (server process)', await listRun(urls.bare));
  const listCached = record(`GET today's list, ${LIST_SIZE} items, cached (Redis)`, await listRun(`${urls.cached}${listPath}`));
  const listUncached = record(`GET today's list, ${LIST_SIZE} items, uncached (MariaDB)`, await listRun(`${urls.uncached}${listPath}`));

  // (b) reservations, round after round: 6 riders per carpool of 5 seats, each rider trying once, all at once in random order.
  const answers: Record<string, number> = {};
  const latency = new Histogram();
  const rawPlan: number[] = [];
  let reserveSeconds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const roundCarpools = carpoolIds.slice(round * ROUND_CARPOOLS, (round + 1) * ROUND_CARPOOLS);
    const plan = clientTokens
      .slice(round * ROUND_CARPOOLS * RIDERS_PER_CARPOOL, (round + 1) * ROUND_CARPOOLS * RIDERS_PER_CARPOOL)
      .map((token, i) => ({ token, carpoolId: roundCarpools[i % ROUND_CARPOOLS]! }));
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [plan[i], plan[j]] = [plan[j]!, plan[i]!];
    }
    rawPlan.push(...plan.map((p) => p.carpoolId));
    let next = 0;
    const roundStart = process.hrtime.bigint();
    // autocannon ends a run on its 1-second tick: the rate is timed to the last answer instead.
    let lastAnswer = roundStart;
    await new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: urls.cached,
          amount: plan.length,
          connections: CONNECTIONS,
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => {
                const p = plan[next++ % plan.length]!;
                return { ...req, path: `/api/v1/carpools/${p.carpoolId}/reservations`, headers: { authorization: `Bearer ${p.token}` } };
              },
              onResponse: (status, body) => {
                lastAnswer = process.hrtime.bigint();
                const key = status === 201 ? '201' : `${status} ${/"code":"([^"]+)"/.exec(body)?.[1] ?? ''}`;
                answers[key] = (answers[key] ?? 0) + 1;
              },
            },
          ],
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
      instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latency.record(ms));
    });
    reserveSeconds += Number(lastAnswer - roundStart) / 1e9;
  }
  const reserved = answers['201'] ?? 0;
  const reserveRate = Math.round(reserved / reserveSeconds);
  rows.push({
    scenario: `POST reservation (${ROUNDS} × ${ROUND_CARPOOLS * RIDERS_PER_CARPOOL} riders, ${RIDERS_PER_CARPOOL} per carpool of ${CAPACITY} seats, ${CONNECTIONS} connections)`,
    'req/s': Math.round(CLIENTS / reserveSeconds),
    'p50 ms': Math.round(latency.percentile(50)),
    'p99 ms': Math.round(latency.percentile(99)),
    non2xx: CLIENTS - reserved,
    errors: 0,
  });
  console.log(
    `reservation answers: ${JSON.stringify(answers)}; ${reserved} reserved, all ${CLIENTS} answered in ${reserveSeconds.toFixed(2)} s; p50 ${latency.percentile(50).toFixed(1)} ms, p99 ${latency.percentile(99).toFixed(1)} ms`,
  );

  // (c) overbooking: a carpool over capacity, or a seat count other than its standing reservations.
  const standingByCarpool = db('participations')
    .where('role', 'passenger')
    .whereNotNull('active_day')
    .groupBy('carpool_id')
    .select('carpool_id')
    .count({ n: '*' })
    .as('p');
  const [[over], [mismatch], [standing]] = await Promise.all([
    db('carpools').where('seats_taken', '>', db.ref('capacity')).count({ n: '*' }),
    db('carpools as c').leftJoin(standingByCarpool, 'p.carpool_id', 'c.id').whereRaw('c.seats_taken <> coalesce(p.n, 0)').count({ n: '*' }),
    db('participations').where('role', 'passenger').whereNotNull('active_day').count({ n: '*' }),
  ]);
  const overbooking = Number(over?.n) + Number(mismatch?.n);
  const seats = ROUNDS * ROUND_CARPOOLS * CAPACITY;
  if (overbooking !== 0 || Number(standing?.n) !== reserved) exitCode = 1;

  // The ceiling: the same conditional UPDATE, raw through mysql2 (no knex, no transaction), at the same concurrency,
  // in the same order, on the same carpools, emptied.
  await db('carpools').update({ seats_taken: 0 });
  server.send({ type: 'raw-update', carpoolIds: rawPlan, concurrency: CONNECTIONS });
  const raw = await nextMessage<{ updated: number; seconds: number }>('raw-result');
  const rawRate = Math.round(raw.updated / raw.seconds);

  const cpus = os.cpus();
  console.log(
    `\n${smoke ? 'SMOKE run (too short for meaningful figures)' : 'Full run'}: ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(2)}, Node ${process.version}`,
  );
  console.log('\n| scenario | req/s | p50 ms | p99 ms | non-2xx | errors | vs bare Koa |\n|---|---|---|---|---|---|---|');
  for (const row of rows)
    console.log(
      `| ${row.scenario} | ${row['req/s']} | ${row['p50 ms']} | ${row['p99 ms']} | ${row.non2xx} | ${row.errors} | ${(row['req/s'] / baseline['req/s']).toFixed(3)} |`,
    );
  console.log(`\nlist cache: ${(listCached['req/s'] / listUncached['req/s']).toFixed(2)}x the uncached rate`);
  console.log(
    `successful reservations: ${reserveRate}/s over HTTP (${reserved} of ${CLIENTS} attempts for ${seats} seats) vs ${rawRate}/s raw conditional UPDATE through mysql2 (${raw.updated} rows in ${raw.seconds.toFixed(2)} s): ${(reserveRate / rawRate).toFixed(3)} of raw; p99 ${latency.percentile(99).toFixed(1)} ms`,
  );
  console.log(`overbooking: ${overbooking} (carpools over capacity: ${over?.n}; seat count ≠ standing reservations: ${mismatch?.n})`);
  if (exitCode) console.error(`FAILED: overbooking ${overbooking}; standing reservations ${standing?.n} vs ${reserved} answered 201`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  if (server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.send({ type: 'stop' });
    await exited;
  }
  await closeDeps(deps);
  await database.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
