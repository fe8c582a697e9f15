import type { AppDeps } from '../app.js';
import type { Config } from './config/index.js';
import { createDb, knexLog, pingDb } from './db/index.js';
import { MemoryStore, RedisStore, type KeyValueStore } from './cache/index.js';
import { DiskStorage, S3Storage, type ObjectStorage } from './storage/index.js';
import { createMailer } from './mail/index.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';

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
  const db = createDb(config.databaseUrl, config.DATABASE_POOL_MAX, knexLog(logger));

  let kv: KeyValueStore;
  if (config.REDIS_URL) {
    const redis = new RedisStore(config.REDIS_URL, config.REDIS_KEY_PREFIX);
    await redis.connect();
    kv = redis;
  } else {
    kv = new MemoryStore();
  }

  const storage: ObjectStorage = config.S3_BUCKET
    ? new S3Storage({
        bucket: config.S3_BUCKET,
        region: config.S3_REGION,
        endpoint: config.S3_ENDPOINT,
        accessKeyId: config.S3_ACCESS_KEY_ID,
        secretAccessKey: config.S3_SECRET_ACCESS_KEY,
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        publicBaseUrl: config.FILES_PUBLIC_BASE_URL,
        presignTtlSeconds: config.FILES_PRESIGN_TTL_SECONDS,
      })
    : new DiskStorage(config.FILES_DIR, config.FILES_PUBLIC_BASE_URL);

  const mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: config.MAIL_OUTBOX_DIR, from: config.MAIL_FROM });

  return {
    config,
    db,
    kv,
    storage,
    mailer,
    logger,
    metrics: createMetrics(),
    clock: () => new Date(),
    lifecycle: { draining: false },
    // Readiness covers what every request may touch; S3 and SMTP failures surface per call instead.
    readiness: async () => ({ database: await check(() => pingDb(db)), redis: await check(() => kv.ping()) }),
  };
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  deps.mailer.close();
  deps.storage.close();
  await deps.kv.close();
  await deps.db.destroy();
}
