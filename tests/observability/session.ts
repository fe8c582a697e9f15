/**
 * The API the observability checks look at and the traffic they drive through
 * it, shared by prometheus.test.ts (one short scripted session) and the
 * dashboard pictures (pictures.ts, waves of the same pieces): a real API
 * (MariaDB, MinIO, SMTP, and Redis behind a proxy that can cut it) scraped
 * every second by a real Prometheus with the alert rules loaded.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { newMember, type TestMember } from '../../service/src/features/auth/fixtures.js';
import { MORNING, carpoolBody } from '../../service/src/features/carpools/fixtures.js';
import { PNG_1x1, imageForm } from '../../service/src/features/files/fixtures.js';
import { route } from '../../service/src/platform/http/routes.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { httpClient } from '../../service/src/testing/http.js';
import { startTcpProxy } from '../../service/src/testing/tcp-proxy.js';
import { testServices } from '../../service/src/testing/env.js';
import { API_JOB } from '../../dashboards/src/selectors.js';
import { apiTargetLabels } from '../../service/src/platform/observability/contract.js';
import { RULES_FILE, eventually, startPrometheus, type RunningPrometheus } from './support.js';

/** The labels the Prometheus Operator gives an API target in production, set statically here. */
export const targetLabels = (address: string) =>
  apiTargetLabels({ namespace: 'mate-local', service: 'mate', pod: 'mate-api-local-0', address });

/** A route that fails the way a bug does: a bare 500. */
const boom = route({
  method: 'get',
  path: '/test/boom',
  tag: 'test',
  summary: 'always fails',
  access: 'public',
  query: z.object({}),
  handler: () => {
    throw new Error('boom (an intended failure of the observability test)');
  },
});

export interface ObservedApi {
  t: TestApp;
  prom: RunningPrometheus;
  redis: Awaited<ReturnType<typeof startTcpProxy>>;
  close(): Promise<void>;
}

/** The API and a Prometheus that has scraped it once; `env` overrides the API's configuration. */
export async function startObservedApi(opts: { env?: Record<string, string> } = {}): Promise<ObservedApi> {
  const closers: Array<() => Promise<void>> = [];
  // Everything started is closed even when one close fails (the app's throws when a secret reached its log).
  const close = async () => {
    const failures: unknown[] = [];
    for (const c of closers.splice(0)) await c().catch((err: unknown) => failures.push(err));
    if (failures.length) throw failures[0];
  };
  try {
    const redisUrl = new URL(testServices().redisUrl);
    const redis = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    closers.unshift(() => redis.close());
    const t = await startTestApp({
      now: MORNING,
      env: opts.env,
      extraRoutes: [boom],
      rewriteUrls: (u) => ({ ...u, redis: Object.assign(new URL(u.redis), { port: String(redis.port) }).toString() }),
    });
    closers.unshift(() => t.close());
    const prom = await startPrometheus({
      targets: [{ job: API_JOB, address: new URL(t.url).host, labels: targetLabels(new URL(t.url).host) }],
      ruleFiles: [RULES_FILE],
    });
    closers.unshift(() => prom.close());
    await eventually('the first scrape of the API', async () => (await prom.query(`up{job="${API_JOB}"} == 1`)).data?.result.length);
    return { t, prom, redis, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** Takes down what each scripted request answered ("reserve (full): 409"). */
export type Note = (what: string, res: { status: number }) => void;

/**
 * Members and carpools: sign-ups and sign-ins (newMember signs up and in
 * through the API), a one-seat carpool reserved, then refused as full, again,
 * to its own driver and for a carpool that does not exist; a report, a
 * cancellation, a second carpool deleted, the list, an image (object storage)
 * and a recovery mail (SMTP). Answers the three riders and the one-seat
 * carpool, free again.
 */
export async function productActivity(t: TestApp, note: Note): Promise<{ riders: TestMember[]; carpoolId: number }> {
  const call = httpClient(t.url);
  const driver = await newMember(t, { driver: true, prefix: 'obsd' });
  const otherDriver = await newMember(t, { driver: true, prefix: 'obsd' });
  const riders = [await newMember(t, { prefix: 'obsr' }), await newMember(t, { prefix: 'obsr' }), await newMember(t, { prefix: 'obsr' })];

  const posted = await driver.call('POST', '/carpools', { body: carpoolBody(t, { capacity: 1 }) });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const id = posted.body.id as number;
  note('reserve', await riders[0]!.call('POST', `/carpools/${id}/reservations`));
  note('reserve (full)', await riders[1]!.call('POST', `/carpools/${id}/reservations`));
  note('reserve (again)', await riders[0]!.call('POST', `/carpools/${id}/reservations`));
  note('reserve (own)', await driver.call('POST', `/carpools/${id}/reservations`));
  note('reserve (not found)', await riders[2]!.call('POST', '/carpools/999999999/reservations'));
  note(
    'report',
    await riders[0]!.call('POST', `/carpools/${id}/reports`, { body: { title: '늦었어요', content: '30분 늦게 출발했습니다.' } }),
  );
  note('cancel', await riders[0]!.call('DELETE', `/carpools/${id}/reservations/me`));
  const second = await otherDriver.call('POST', '/carpools', { body: carpoolBody(t, { capacity: 2 }) });
  note('post second', second);
  if (second.status === 201) note('delete', await otherDriver.call('DELETE', `/carpools/${second.body.id}`));
  note('list', await riders[2]!.call('GET', '/carpools'));

  note('upload', await riders[2]!.call('POST', '/files', { form: imageForm(PNG_1x1, 'me.png', 'profile', 'image/png') }));
  note('forgot', await call('POST', '/auth/password/forgot', { body: { loginId: riders[2]!.loginId, email: riders[2]!.email } }));
  return { riders, carpoolId: id };
}

/** Wrong passwords for `member` and 404s: a route that does not exist, an API path that does not, a carpool that does not. */
export async function clientErrors(t: TestApp, member: TestMember, note: Note): Promise<void> {
  const call = httpClient(t.url);
  for (let i = 0; i < 2; i++)
    note('wrong password', await call('POST', '/auth/signin', { body: { loginId: member.loginId, password: 'not-the-password-1' } }));
  for (const p of ['/nope', '/api/v1/nope', '/api/v1/carpools/999999999'])
    note(`GET ${p}`, await call('GET', p, { token: member.accessToken }));
}

/** `count` bare 500s. The first creates the series; rate() counts only what comes after Prometheus has seen it. */
export async function serverErrors(api: ObservedApi, note: Note, count: number): Promise<void> {
  const call = httpClient(api.t.url);
  note('boom', await call('GET', '/test/boom'));
  await eventually(
    'Prometheus to see the 500',
    async () => (await api.prom.query('mate_http_requests_total{status="500"}')).data?.result.length,
  );
  for (let i = 1; i < count; i++) note('boom', await call('GET', '/test/boom'));
}

/**
 * Redis goes away until Prometheus has recorded it down and `holdMs` more
 * (members keep trying to sign in, once a second), then comes back.
 */
export async function redisOutage(api: ObservedApi, member: TestMember, note: Note, holdMs = 0): Promise<void> {
  const call = httpClient(api.t.url);
  const signin = async (what: string) =>
    note(what, await call('POST', '/auth/signin', { body: { loginId: member.loginId, password: member.password } }));
  api.redis.cut();
  for (let i = 0; i < 3; i++) await signin('signin without Redis');
  await eventually('Prometheus to record Redis as down', async () => {
    const r = await api.prom.query('mate_dependency_up{dependency="redis"} == 0');
    return r.data?.result.length;
  });
  for (let i = 0; i < Math.ceil(holdMs / 1000); i++) {
    await signin('signin without Redis');
    await new Promise((r) => setTimeout(r, 1000));
  }
  api.redis.restore();
  await eventually('the API to be ready again', async () => (await fetch(`${api.t.url}/readyz`)).ok);
  await signin('signin with Redis back');
}

/**
 * prometheus.test.ts's session: members, carpools and every reservation
 * outcome, client errors, three 500s and a Redis outage. Answers each
 * request's status, for the log.
 */
export async function scriptedSession(api: ObservedApi): Promise<string[]> {
  const statuses: string[] = [];
  const note: Note = (what, res) => statuses.push(`${what}: ${res.status}`);
  const { riders } = await productActivity(api.t, note);
  await clientErrors(api.t, riders[0]!, note);
  await serverErrors(api, note, 3);
  await redisOutage(api, riders[1]!, note);
  return statuses;
}
