import type { AppDeps } from '../app.js';
import type { Config } from './config/index.js';
import { createDb, knexLog, pingDb, type Db } from './db/index.js';
import { MemoryStore, RedisStore, type KeyValueStore } from './cache/index.js';
import { DiskStorage, S3Storage, type ObjectStorage } from './storage/index.js';
import { createMailer } from './mail/index.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Gauge } from 'prom-client';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { API_METRICS, metricOptions } from './observability/contract.js';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

async function check(p: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(p(), 1_500);
    return 'ok';
  } catch (err) {
    return `failing: ${(err as Error).message || 'unreachable'}`;
  }
}

/** Builds the production or embedded dependencies from configuration. */
export async function createDeps(config: Config, opts: { logger?: Logger } = {}): Promise<AppDeps> {
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL, file: config.LOG_FILE, fileMaxBytes: config.LOG_FILE_MAX_BYTES });
  const metrics = createMetrics({ version: config.MATE_VERSION, commit: config.GIT_COMMIT });
  const db = createDb(config.databaseUrl, {
    poolMax: config.DATABASE_POOL_MAX,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    log: knexLog(logger),
  });
  instrumentDb(db, metrics);

  let kv: KeyValueStore;
  if (config.REDIS_URL) {
    const redis = new RedisStore(config.REDIS_URL, config.REDIS_KEY_PREFIX, (operation, seconds, ok) => {
      metrics.redisDuration.observe({ operation }, seconds);
      if (!ok) metrics.redisErrors.inc({ operation });
    });
    await redis.connect();
    kv = redis;
  } else {
    kv = new MemoryStore();
  }

  const storage: ObjectStorage = config.S3_BUCKET
    ? new S3Storage(
        {
          bucket: config.S3_BUCKET,
          region: config.S3_REGION,
          endpoint: config.S3_ENDPOINT,
          accessKeyId: config.S3_ACCESS_KEY_ID,
          secretAccessKey: config.S3_SECRET_ACCESS_KEY,
          forcePathStyle: config.S3_FORCE_PATH_STYLE,
          publicBaseUrl: config.FILES_PUBLIC_BASE_URL,
          presignTtlSeconds: config.FILES_PRESIGN_TTL_SECONDS,
        },
        (operation, outcome) => metrics.s3Requests.inc({ operation, outcome }),
      )
    : new DiskStorage(config.FILES_DIR, config.FILES_PUBLIC_BASE_URL);

  const mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: config.MAIL_OUTBOX_DIR, from: config.MAIL_FROM });

  // Readiness covers what every request may touch; S3 and SMTP failures surface per call instead.
  const readiness = async () => ({ database: await check(() => pingDb(db)), redis: await check(() => kv.ping()) });
  new Gauge({
    ...metricOptions(API_METRICS.dependencyUp),
    registers: [metrics.registry],
    async collect() {
      for (const [dependency, state] of Object.entries(await readiness())) this.set({ dependency }, state === 'ok' ? 1 : 0);
    },
  });

  return { config, db, kv, storage, mailer, logger, metrics, clock: () => new Date(), lifecycle: { draining: false }, readiness };
}

/** Query durations and pool occupancy, from knex's events and tarn's counters. */
function instrumentDb(db: Db, metrics: Metrics): void {
  const started = new Map<string, bigint>();
  db.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, process.hrtime.bigint()));
  const done = (_: unknown, q: { __knexQueryUid: string }) => {
    const t0 = started.get(q.__knexQueryUid);
    if (t0 === undefined) return;
    started.delete(q.__knexQueryUid);
    metrics.dbQueryDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
  };
  db.on('query-response', done).on('query-error', done);
  new Gauge({
    ...metricOptions(API_METRICS.dbPoolConnections),
    registers: [metrics.registry],
    collect() {
      const pool = db.client.pool as { numUsed(): number; numFree(): number; numPendingAcquires(): number } | undefined;
      if (!pool) return;
      this.set({ state: 'used' }, pool.numUsed());
      this.set({ state: 'free' }, pool.numFree());
      this.set({ state: 'pending' }, pool.numPendingAcquires());
    },
  });
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  deps.mailer.close();
  deps.storage.close();
  await deps.kv.close();
  await deps.db.destroy();
}
