import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { startTcpProxy } from '../../testing/tcp-proxy.js';
import { testServices } from '../../testing/env.js';

type Proxy = Awaited<ReturnType<typeof startTcpProxy>>;

async function readyz(t: TestApp) {
  const res = await fetch(`${t.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
}

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

describe('/readyz follows MariaDB and Redis', () => {
  let t: TestApp;
  let db: Proxy;
  let redis: Proxy;
  before(async () => {
    const services = testServices();
    const mysql = new URL(services.mysqlUrl);
    const redisUrl = new URL(services.redisUrl);
    db = await startTcpProxy({ host: mysql.hostname, port: Number(mysql.port) });
    redis = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    const via = (url: string, port: number) => Object.assign(new URL(url), { port: String(port) }).toString();
    t = await startTestApp({
      rewriteUrls: (u) => ({ database: via(u.database, db.port), redis: via(u.redis, redis.port) }),
    });
  });
  after(async () => {
    await t.close();
    await db.close();
    await redis.close();
  });

  it('is ready when both answer', async () => {
    const r = await readyz(t);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.checks, { database: 'ok', redis: 'ok' });
  });

  it('is not ready while MariaDB is unreachable, and ready again when it returns, without a restart', async () => {
    db.cut();
    await eventually(async () => (await readyz(t)).status === 503);
    assert.match((await readyz(t)).body.checks.database!, /failing/);
    db.restore();
    await eventually(async () => (await readyz(t)).status === 200);
  });

  it('is not ready while Redis is unreachable, and ready again when it returns, without a restart', async () => {
    redis.cut();
    await eventually(async () => (await readyz(t)).status === 503);
    assert.match((await readyz(t)).body.checks.redis!, /failing/);
    redis.restore();
    await eventually(async () => (await readyz(t)).status === 200);
  });
});
