import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type AppDeps } from '../app.js';
import { createFeatures, type Features } from '../features/index.js';
import { loadConfig } from '../platform/config/index.js';
import { createDb, migrateLatest } from '../platform/db/index.js';
import { createDeps } from '../platform/deps.js';
import { listen, type RunningServer } from '../platform/http/server.js';
import type { RouteSpec } from '../platform/http/routes.js';
import { createLogger } from '../platform/observability/logger.js';
import { createTestBucket } from './buckets.js';
import { createTestDatabase } from './databases.js';
import { testServices } from './env.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

export class TestClock {
  constructor(private current: Date = new Date()) {}
  now = () => new Date(this.current);
  set(d: Date | string) {
    this.current = new Date(d);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestAppOptions {
  /** 'mysql' (default): MariaDB, Redis, MinIO and SMTP, all real. 'sqlite': the embedded mode. */
  database?: 'mysql' | 'sqlite';
  env?: Record<string, string>;
  extraRoutes?: RouteSpec[];
  now?: Date | string;
  /** Lets a test put a fault-injecting proxy in front of MariaDB or Redis. */
  rewriteUrls?: (urls: { database: string; redis: string }) => { database: string; redis: string };
}

export interface TestApp {
  url: string;
  deps: AppDeps;
  clock: TestClock;
  logs: string[];
  smtp: SmtpSink;
  bucket?: string;
  server: RunningServer;
  services: Features['services'];
  /** Passwords and tokens the test used: close() fails if any reached a log line. */
  secrets: Set<string>;
  close(): Promise<void>;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const id = randomBytes(4).toString('hex');
  const smtp = await startSmtpSink();
  const cleanups: Array<() => Promise<void>> = [() => smtp.close()];
  const base: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DRAIN_DELAY_MS: '0',
    LOG_LEVEL: 'debug',
    SMTP_URL: smtp.url,
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    JWT_KEYS: `test:${randomBytes(32).toString('base64url')}`,
  };
  let bucket: string | undefined;
  if ((opts.database ?? 'mysql') === 'mysql') {
    const svc = testServices();
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const migrator = createDb(database.migratorUrl, { poolMax: 1 });
    await migrateLatest(migrator);
    await migrator.destroy();
    const created = await createTestBucket();
    bucket = created.bucket;
    cleanups.push(() => created.drop());
    const urls = (opts.rewriteUrls ?? ((u) => u))({ database: database.appUrl, redis: svc.redisUrl });
    Object.assign(base, {
      MATE_MODE: 'production',
      DATABASE_URL: urls.database,
      REDIS_URL: urls.redis,
      REDIS_KEY_PREFIX: `mate:t${id}:`,
      S3_BUCKET: bucket,
      S3_ENDPOINT: svc.s3.endpoint,
      S3_REGION: svc.s3.region,
      S3_ACCESS_KEY_ID: svc.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: svc.s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    });
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-embedded-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    Object.assign(base, { MATE_MODE: 'embedded', MATE_DATA_DIR: dir });
  }
  const config = loadConfig({ ...base, ...opts.env }, { embedded: base.MATE_MODE === 'embedded' });
  const logs: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const deps = await createDeps(config, { logger: createLogger({ level: 'debug', out }) });
  if (config.mode === 'embedded') await migrateLatest(deps.db);
  const secrets = new Set<string>();
  const clock = new TestClock(opts.now ? new Date(opts.now) : new Date());
  deps.clock = clock.now;
  const features = createFeatures(deps);
  const server = await listen(createApp(deps, { features, extraRoutes: opts.extraRoutes }), deps);
  return {
    url: server.url,
    deps,
    clock,
    logs,
    smtp,
    bucket,
    server,
    services: features.services,
    secrets,
    async close() {
      await server.shutdown();
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      assertNoSecretsLogged(logs, secrets);
    },
  };
}

const LEAK_PATTERNS = [/eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/, /[?&]token=[\w%-]{10,}/, /\$argon2id\$/];

/** Every test app checks its own log: no password, token, reset link or hash, ever. */
export function assertNoSecretsLogged(logs: string[], secrets: Set<string>): void {
  for (const line of logs) {
    for (const p of LEAK_PATTERNS) if (p.test(line)) throw new Error(`a log line leaks a secret (${p}): ${line.slice(0, 300)}`);
    for (const s of secrets)
      if (s.length >= 6 && line.includes(s)) throw new Error(`a log line leaks a secret the test used: ${line.slice(0, 300)}`);
  }
}
