import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { isTimeZone } from '../clock/index.js';

/**
 * Every setting the service reads, in one place. Parsed once at start; a bad
 * or missing value stops the process with one line naming the variable.
 */
/** Environment-variable parsers, shared with the operator's settings. */
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  MATE_MODE: z.enum(['embedded', 'production']).default('production'),
  MATE_DATA_DIR: z.string().default('.data'),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_BASE_URL: z.string().url().default('http://localhost:8080'),
  // The build's identity (mate_build_info): the image sets both, the operator the version from the image tag.
  MATE_VERSION: z.string().max(128).optional(),
  GIT_COMMIT: z.string().max(64).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  LOG_FILE: z.string().optional(),
  LOG_FILE_MAX_BYTES: int(1024, 1024 ** 3).default(50 * 1024 * 1024),

  DATABASE_URL: z
    .string()
    .regex(/^(mysql|sqlite):/, 'must start with mysql:// or sqlite:')
    .optional(),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  DATABASE_QUERY_TIMEOUT_MS: int(100, 60_000).default(2_000),
  REDIS_KEY_PREFIX: z.string().default('mate:'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),

  S3_BUCKET: z.string().min(3).optional(),
  S3_REGION: z.string().default('ap-northeast-2'),
  S3_ENDPOINT: z.string().url().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  FILES_DIR: z.string().default('.data/files'),
  FILES_PUBLIC_BASE_URL: z.string().url().optional(),
  FILES_PRESIGN_TTL_SECONDS: int(10, 7 * 24 * 3600).default(300),

  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().default('MATE <no-reply@mate.example>'),
  MAIL_OUTBOX_DIR: z.string().default('.data/outbox'),

  ARGON2_MEMORY_KIB: int(8 * 1024, 1024 * 1024).default(19 * 1024),
  ARGON2_TIME_COST: int(1, 10).default(2),
  ARGON2_PARALLELISM: int(1, 8).default(1),

  JWT_KEYS: z
    .string()
    .regex(/^[\w-]{1,32}:[^,]{32,}(,[\w-]{1,32}:[^,]{32,})*$/, 'must be kid:secret pairs, comma-separated, each secret 32+ characters')
    .optional(),
  JWT_ISSUER: z.string().default('mate'),
  JWT_AUDIENCE: z.string().default('mate-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 24 * 3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: int(300, 90 * 24 * 3600).default(14 * 24 * 3600),
  /** A client retrying several calls at once with one refresh token: within this, the just-replaced token yields the same successor. */
  REFRESH_ROTATION_GRACE_SECONDS: int(0, 60).default(10),
  SIGNIN_MAX_FAILURES_PER_ACCOUNT: int(1, 1000).default(5),
  SIGNIN_MAX_FAILURES_PER_CLIENT: int(1, 10000).default(20),
  SIGNIN_FAILURE_WINDOW_SECONDS: int(10, 24 * 3600).default(900),
  MAIL_MAX_PER_HOUR: int(1, 1000).default(5),
  /** Availability look-ups (login id, email, nickname) per client address and minute: the list of members is not for harvesting. */
  AVAILABILITY_CHECKS_PER_MINUTE: int(1, 10000).default(60),
  ADMIN_LOGIN_ID: z.string().optional(),
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  PASSWORD_RESET_URL: z.string().url().optional(),
  KAKAO_CLIENT_ID: z.string().optional(),
  KAKAO_CLIENT_SECRET: z.string().optional(),
  KAKAO_AUTHORIZE_URL: z.string().url().default('https://kauth.kakao.com/oauth/authorize'),
  KAKAO_TOKEN_URL: z.string().url().default('https://kauth.kakao.com/oauth/token'),
  KAKAO_PROFILE_URL: z.string().url().default('https://kapi.kakao.com/v2/user/me'),
  KAKAO_REDIRECT_URI: z.string().url().optional(),
  LINE_CLIENT_ID: z.string().optional(),
  LINE_CLIENT_SECRET: z.string().optional(),
  LINE_AUTHORIZE_URL: z.string().url().default('https://access.line.me/oauth2/v2.1/authorize'),
  LINE_TOKEN_URL: z.string().url().default('https://api.line.me/oauth2/v2.1/token'),
  LINE_PROFILE_URL: z.string().url().default('https://api.line.me/v2/profile'),
  LINE_REDIRECT_URI: z.string().url().optional(),
  LEGACY_KAKAO_REDIRECT_URI: z.string().url().optional(),
  LEGACY_LINE_REDIRECT_URI: z.string().url().optional(),
  OAUTH_TIMEOUT_MS: int(500, 30_000).default(5_000),

  // The service day ("block"): carpools belong to the day that starts at this hour in this zone.
  SERVICE_DAY_START_HOUR: int(0, 23).default(10),
  SERVICE_TIME_ZONE: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Seoul').default('Asia/Seoul'),
  /** Today's carpool lists in Redis; 0 turns the cache off. Writes invalidate at once, so this only bounds staleness after a Redis outage. */
  CARPOOL_LIST_CACHE_TTL_SECONDS: int(0, 3600).default(30),

  CORS_ORIGINS: csv.default([]),
  TRUSTED_PROXIES: csv.default([]),
  BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(100 * 1024),
  /** Where an upload's file waits while its call runs (removed when the call ends). */
  UPLOAD_TEMP_DIR: z.string().min(1).default(os.tmpdir()),
  DRAIN_DELAY_MS: int(0, 120_000).default(5_000),
  SHUTDOWN_TIMEOUT_MS: int(1_000, 300_000).default(25_000),
});

export type Config = z.infer<typeof schema> & {
  mode: 'embedded' | 'production';
  databaseUrl: string;
};

export class ConfigError extends Error {}

/** Embedded mode fills what production must be told. */
function embeddedDefaults(dataDir: string): Record<string, string> {
  return {
    // A fresh signing key per start: embedded sessions end when the process does.
    JWT_KEYS: `embedded:${randomBytes(32).toString('base64url')}`,
    DATABASE_URL: `sqlite:${path.join(dataDir, 'mate.sqlite')}`,
    FILES_DIR: path.join(dataDir, 'files'),
    MAIL_OUTBOX_DIR: path.join(dataDir, 'outbox'),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { embedded?: boolean; requireAll?: boolean } = {}): Config {
  const embedded = opts.embedded || env.MATE_MODE === 'embedded';
  const input = embedded ? { ...embeddedDefaults(env.MATE_DATA_DIR ?? '.data'), ...env, MATE_MODE: 'embedded' } : env;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid setting ${String(issue.path[0])}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.MATE_MODE === 'production' && opts.requireAll !== false) {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'S3_BUCKET', 'SMTP_URL', 'JWT_KEYS'] as const) {
      if (!c[name]) throw new ConfigError(`missing setting ${name}: required in production mode`);
    }
  }
  if (!c.DATABASE_URL) throw new ConfigError('missing setting DATABASE_URL');
  return { ...c, mode: c.MATE_MODE, databaseUrl: c.DATABASE_URL };
}

/** For entry points: one clear line on stderr and exit 2 instead of a stack trace. */
export function loadConfigOrExit(opts: { embedded?: boolean; requireAll?: boolean } = {}): Config {
  try {
    return loadConfig(process.env, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`mate: ${err.message}`);
    process.exit(2);
  }
}
