/**
 * The carpools benchmark's app, shared by the driver (carpools.ts, which seeds
 * and measures) and the server process it starts (carpools-server.ts), so the
 * load generator does not share a CPU core with the server it measures.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AppDeps } from '../../service/src/app.js';
import { createFeatures, type Features } from '../../service/src/features/index.js';
import { loadConfig } from '../../service/src/platform/config/index.js';
import { createDeps } from '../../service/src/platform/deps.js';
import { createLogger } from '../../service/src/platform/observability/logger.js';

export interface BenchSettings {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  dataDir: string;
  pool: number;
  /** The instant the bench's clock started at, and the wall time it did: both processes run the same clock. */
  clockBase: number;
  realStart: number;
}

export const toEnv = (s: BenchSettings): Record<string, string> => ({ BENCH_SETTINGS: JSON.stringify(s) });
export const fromEnv = (): BenchSettings => JSON.parse(process.env.BENCH_SETTINGS ?? '{}') as BenchSettings;

export async function benchDeps(s: BenchSettings, cacheTtlSeconds: number): Promise<{ deps: AppDeps; features: Features }> {
  const config = loadConfig(
    {
      MATE_MODE: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DRAIN_DELAY_MS: '0',
      DATABASE_URL: s.databaseUrl,
      DATABASE_POOL_MAX: String(s.pool),
      REDIS_URL: s.redisUrl,
      REDIS_KEY_PREFIX: s.redisPrefix,
      JWT_KEYS: 'bench:bench-secret-of-at-least-thirty-two-characters',
      FILES_DIR: path.join(s.dataDir, 'files'),
      MAIL_OUTBOX_DIR: path.join(s.dataDir, 'outbox'),
      CARPOOL_LIST_CACHE_TTL_SECONDS: String(cacheTtlSeconds),
    },
    { requireAll: false },
  );
  // Production log level: the per-request info lines are not written (as with LOG_LEVEL=warn).
  const deps = await createDeps(config, { logger: createLogger({ level: 'warn', out: new Writable({ write: (_c, _e, cb) => cb() }) }) });
  // Pinned inside one service day, running at real speed: the day cannot roll over mid-run.
  deps.clock = () => new Date(s.clockBase + (Date.now() - s.realStart));
  return { deps, features: createFeatures(deps) };
}
