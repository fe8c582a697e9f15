/**
 * What an API process under pressure runs against: a fresh MariaDB database
 * (migrated), a Redis key prefix of its own, a MinIO bucket, and SMTP pointed
 * at an in-process sink; and the production-mode environment that says so.
 * This process builds the same services over the same stores (same JWT key,
 * same service day), to seed members, sessions and carpools quickly and to
 * check the database afterwards, while the requests themselves go over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { AppDeps } from '../../../service/src/app.js';
import { createFeatures, type Features } from '../../../service/src/features/index.js';
import type { TestApp } from '../../../service/src/testing/harness.js';
import { loadConfig } from '../../../service/src/platform/config/index.js';
import { createDb, migrateLatest } from '../../../service/src/platform/db/index.js';
import { closeDeps, createDeps } from '../../../service/src/platform/deps.js';
import { createLogger } from '../../../service/src/platform/observability/logger.js';
import { createTestBucket } from '../../../service/src/testing/buckets.js';
import { createTestDatabase } from '../../../service/src/testing/databases.js';
import { testServices } from '../../../service/src/testing/env.js';
import { startSmtpSink, type SmtpSink } from '../../../service/src/testing/smtp.js';

export interface Stack {
  /** The environment of every API process of this stack (PORT is set per process). */
  env: Record<string, string>;
  deps: AppDeps;
  services: Features['services'];
  smtp: SmtpSink;
  /** The shape the service's fixtures (quickMembers, postCarpool, seatState, newMember) take, at `url`. */
  fixtureApp(url: string): TestApp;
  close(): Promise<void>;
}

/**
 * A service-day start hour that puts "now" 11 hours into the current service
 * day, whatever the hour the run starts at: carpools can depart hours from now
 * and the day cannot roll over during a run.
 */
export function serviceDayStartHour(timeZone = 'Asia/Seoul', now = new Date()): number {
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(now));
  return (hour + 13) % 24;
}

export async function createStack(opts: { env?: Record<string, string> } = {}): Promise<Stack> {
  const svc = testServices();
  const id = randomBytes(4).toString('hex');
  const cleanups: Array<() => Promise<unknown>> = [];
  const run = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('cleanup:', err));
  };
  try {
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const migrator = createDb(database.migratorUrl, { poolMax: 1 });
    await migrateLatest(migrator);
    await migrator.destroy();

    const { bucket, drop: dropBucket } = await createTestBucket('mate-p');
    cleanups.push(dropBucket);

    const prefix = `mate:p${id}:`;
    cleanups.push(() => deleteRedisPrefix(svc.redisUrl, prefix));

    const env: Record<string, string> = {
      MATE_MODE: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info', // the chart's default: one access-log line per request (stdout goes to /dev/null here)
      DATABASE_URL: database.appUrl,
      REDIS_URL: svc.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      S3_BUCKET: bucket,
      S3_ENDPOINT: svc.s3.endpoint,
      S3_REGION: svc.s3.region,
      S3_ACCESS_KEY_ID: svc.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: svc.s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      SMTP_URL: smtp.url,
      JWT_KEYS: `load:${randomBytes(32).toString('base64url')}`,
      // The seeded members' access tokens must outlive a full run (~20 min); production's 15 min would expire them.
      ACCESS_TOKEN_TTL_SECONDS: String(4 * 3600),
      SERVICE_DAY_START_HOUR: String(serviceDayStartHour()),
      DRAIN_DELAY_MS: '0',
      ...opts.env,
    };

    const config = loadConfig({ ...env, PORT: '0' });
    const deps = await createDeps(config, { logger: createLogger({ level: 'warn', out: new Writable({ write: (_c, _e, cb) => cb() }) }) });
    cleanups.push(() => closeDeps(deps));
    const features = createFeatures(deps);
    const secrets = new Set<string>();

    return {
      env,
      deps,
      services: features.services,
      smtp,
      fixtureApp: (url) =>
        ({
          url,
          deps,
          services: features.services,
          clock: { now: () => deps.clock() },
          smtp,
          logs: [],
          secrets,
        }) as unknown as TestApp,
      close: run,
    };
  } catch (err) {
    await run();
    throw err;
  }
}

/** Sessions, rate-limit counters and cached pages of one stack: gone with it. */
async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
