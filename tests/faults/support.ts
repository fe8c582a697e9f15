/**
 * Dependency faults under load: a test app on the real MariaDB, Redis and
 * MinIO, each reached through a TCP proxy the test can cut (refuse new
 * connections and drop the live ones) without disturbing the shared
 * services, and an SMTP server that can refuse mail; steady traffic of
 * members browsing, reserving and cancelling, every answer recorded with its
 * time; and the checks every fault ends with: no acknowledged reservation
 * lost, no seat count off.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { newMember, type TestMember } from '../../service/src/features/auth/fixtures.js';
import { MORNING, postCarpool, quickMembers, seatState } from '../../service/src/features/carpools/fixtures.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { testServices } from '../../service/src/testing/env.js';
import { startSmtpSink, type SmtpSink } from '../../service/src/testing/smtp.js';
import { startTcpProxy } from '../../service/src/testing/tcp-proxy.js';

export type Proxy = Awaited<ReturnType<typeof startTcpProxy>>;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Rig {
  t: TestApp;
  proxies: { db: Proxy; redis: Proxy; s3: Proxy };
  smtp: SmtpSink & { refusing: boolean };
  drivers: TestMember[];
  riders: Rider[];
  carpoolIds: number[];
  /** A member with a password, for sign-in and recovery calls. */
  member: TestMember;
  close(): Promise<void>;
}

export interface Rider {
  m: TestMember;
  /** Last acknowledged state: the carpool reserved, null for none, undefined when an answer left it unknown. */
  carpoolId: number | null | undefined;
}

const viaPort = (url: string, port: number) =>
  Object.assign(new URL(url), { port: String(port) })
    .toString()
    .replace(/\/$/, '');

export async function startRig(opts: { env?: Record<string, string>; riders?: number; carpools?: number } = {}): Promise<Rig> {
  const svc = testServices();
  const target = (url: string) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });
  const proxies = {
    db: await startTcpProxy(target(svc.mysqlUrl)),
    redis: await startTcpProxy(target(svc.redisUrl)),
    s3: await startTcpProxy(target(svc.s3.endpoint)),
  };
  const sink = await startSmtpSink({ refuse: () => smtp.refusing });
  const smtp = Object.assign(sink, { refusing: false });
  const t = await startTestApp({
    now: MORNING,
    rewriteUrls: (u) => ({ database: viaPort(u.database, proxies.db.port), redis: viaPort(u.redis, proxies.redis.port) }),
    env: { S3_ENDPOINT: viaPort(svc.s3.endpoint, proxies.s3.port), SMTP_URL: smtp.url, ...opts.env },
  });
  const drivers = await quickMembers(t, opts.carpools ?? 8, { driver: true });
  const carpoolIds: number[] = [];
  for (const d of drivers) carpoolIds.push((await postCarpool(t, d, { capacity: 3 })).id);
  const riders = (await quickMembers(t, opts.riders ?? 30)).map((m) => ({ m, carpoolId: null }) as Rider);
  const member = await newMember(t);
  return {
    t,
    proxies,
    smtp,
    drivers,
    riders,
    carpoolIds,
    member,
    async close() {
      await t.close();
      await smtp.close();
      for (const p of Object.values(proxies)) await p.close();
    },
  };
}

export interface Answer {
  op: string;
  /** ms since the epoch when the request was sent, and how long its answer took (ms). */
  at: number;
  ms: number;
  /** 0 when no answer came (network error or our own 10 s timeout). */
  status: number;
  code?: string;
}

/**
 * Steady traffic from `workers` loops: today's list and GET /me (the reads
 * that must survive a Redis outage), my carpool, and reserve/cancel toggles
 * whose acknowledgements keep each rider's ledger.
 */
export class Traffic {
  readonly answers: Answer[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private idle: Rider[];

  constructor(
    private readonly rig: Rig,
    private readonly workers = 6,
    private readonly pauseMs = 15,
  ) {
    this.idle = [...rig.riders];
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.workers }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async send(op: string, m: TestMember, method: string, path: string): Promise<Answer & { body: any }> {
    const at = Date.now();
    let status: number;
    let body: any;
    try {
      const res = await fetch(`${this.rig.t.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${m.accessToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      const text = await res.text();
      body = text ? JSON.parse(text) : undefined;
    } catch {
      status = 0;
    }
    const answer: Answer = { op, at, ms: Date.now() - at, status, code: body?.code };
    this.answers.push(answer);
    return { ...answer, body };
  }

  private async loop(): Promise<void> {
    const { riders, carpoolIds } = this.rig;
    const pick = <T>(l: T[]) => l[Math.floor(Math.random() * l.length)]!;
    while (this.running) {
      const x = Math.random();
      const someone = pick(riders).m;
      if (x < 0.35) await this.send('list', someone, 'GET', '/carpools?sort=departure');
      else if (x < 0.6) await this.send('me', someone, 'GET', '/me');
      else if (x < 0.7) await this.send('my carpool', someone, 'GET', '/me/carpool');
      else {
        const r = this.idle.splice(Math.floor(Math.random() * this.idle.length), 1)[0];
        if (r) {
          try {
            await this.write(r, pick(carpoolIds));
          } finally {
            this.idle.push(r);
          }
        }
      }
      await sleep(this.pauseMs);
    }
  }

  private async write(r: Rider, carpoolId: number): Promise<void> {
    if (r.carpoolId === undefined) {
      const a = await this.send('my carpool', r.m, 'GET', '/me/carpool');
      if (a.status === 200) r.carpoolId = a.body.status === 'active' && !a.body.amIDriver ? a.body.carpool.id : null;
    } else if (r.carpoolId === null) {
      const a = await this.send('reserve', r.m, 'POST', `/carpools/${carpoolId}/reservations`);
      if (a.status === 201) r.carpoolId = carpoolId;
      else if (!(a.status === 409 && a.code === 'MATE-002')) r.carpoolId = undefined;
    } else {
      const a = await this.send('cancel', r.m, 'DELETE', `/carpools/${r.carpoolId}/reservations/me`);
      r.carpoolId = a.status === 204 ? null : undefined;
    }
  }

  between(from: number, to: number, ops?: string[]): Answer[] {
    return this.answers.filter((a) => a.at >= from && a.at < to && (!ops || ops.includes(a.op)));
  }
}

export const summary = (answers: Answer[]) => {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const k = `${a.op} ${a.status}${a.code ? ` ${a.code}` : ''}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

/** Calls `fn` until it returns true; answers how long that took (ms), or fails after `timeoutMs`. */
export async function within(timeoutMs: number, what: string, fn: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function timed<T>(p: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await p();
  return { value, ms: Date.now() - t0 };
}

export async function readyz(t: TestApp): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${t.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

/**
 * The end of every fault: each rider whose last answer was acknowledged is in
 * the database exactly as acknowledged (a reservation answered 201 and not
 * cancelled with a 204 is there: none lost), and every carpool's seat count
 * equals its standing reservations, within capacity.
 */
export async function assertNoLostReservations(rig: Rig, traffic: Traffic): Promise<{ judged: number; reserved: number }> {
  const { t } = rig;
  let judged = 0;
  const problems: string[] = [];
  for (const r of rig.riders) {
    if (r.carpoolId === undefined) continue;
    judged++;
    const row = await t.deps
      .db('participations')
      .where({ member_id: r.m.id, role: 'passenger' })
      .whereNotNull('active_day')
      .first('carpool_id');
    const inDb = row ? Number(row.carpool_id) : null;
    if (inDb !== r.carpoolId) problems.push(`member ${r.m.id}: acknowledged ${r.carpoolId ?? 'none'}, database ${inDb ?? 'none'}`);
  }
  for (const id of rig.carpoolIds) {
    const s = await seatState(t, id);
    if (s.seatsTaken !== s.activePassengers || s.seatsTaken > s.capacity) problems.push(`carpool ${id}: ${JSON.stringify(s)}`);
  }
  assert.deepEqual(problems, [], 'acknowledged reservations and seat counts against the database');
  const reserved = traffic.answers.filter((a) => a.op === 'reserve' && a.status === 201).length;
  assert.ok(judged >= rig.riders.length / 2, `too few riders in a known state to judge (${judged})`);
  return { judged, reserved };
}

/** No answer took longer than `ms`, and every request got an answer (no hang, no timeout). */
export function assertFast(answers: Answer[], ms: number, what: string): void {
  const slow = answers.filter((a) => a.status === 0 || a.ms > ms);
  assert.deepEqual(
    slow.map((a) => `${a.op} ${a.status} in ${a.ms} ms`),
    [],
    `${what}: every request answered within ${ms} ms`,
  );
}

export async function metric(t: TestApp, line: RegExp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
}

/**
 * A proxy that can freeze: connections stay open but nothing gets through,
 * as with a hung server or a network partition (the failure a refused
 * connection does not show: the caller waits). Nothing is lost: what was sent
 * meanwhile is delivered on thaw, as TCP would once the partition heals.
 */
export async function startFreezableProxy(target: { host: string; port: number }) {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    // After pipe(), which resumes its source: a connection opened while frozen gets nothing through either.
    if (frozen) {
      client.pause();
      upstream.pause();
    }
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw() {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A server that accepts connections and never answers. */
export async function startBlackhole() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
