import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from '../../migrations/index.js';

export type Db = Knex;

type LogFn = (message: unknown) => void;
export interface DbLog {
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
  deprecate: (method: string, alternative: string) => void;
}

/** Routes knex's own messages (pool errors, deprecations) into the service log. */
export function knexLog(logger: {
  warn: (o: object, m: string) => void;
  error: (o: object, m: string) => void;
  debug: (o: object, m: string) => void;
}): DbLog {
  const text = (m: unknown) => (m instanceof Error ? m.message : String(m));
  return {
    warn: (m) => logger.warn({ event: { dataset: 'knex' } }, text(m)),
    error: (m) => logger.error({ event: { dataset: 'knex' } }, text(m)),
    debug: (m) => logger.debug({ event: { dataset: 'knex' } }, text(m)),
    deprecate: (method, alternative) => logger.warn({ event: { dataset: 'knex' } }, `${method} is deprecated: use ${alternative}`),
  };
}

export interface DbOptions {
  poolMax?: number;
  /** A deadline for every query (and for a connection's connect and acquisition); none when unset, as migrations need. */
  queryTimeoutMs?: number;
  log?: DbLog;
}

/** Builds the knex pool for a `mysql://` or `sqlite:` URL. */
export function createDb(url: string, { poolMax = 10, queryTimeoutMs, log }: DbOptions = {}): Db {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      log,
      pool: {
        // SQLite enforces foreign keys only when asked, per connection.
        afterCreate: (conn: { pragma: (s: string) => void }, done: (err: Error | null) => void) => {
          conn.pragma('foreign_keys = ON');
          conn.pragma('journal_mode = WAL');
          done(null);
        },
      },
    });
  }
  const u = new URL(url);
  const db = knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.replace(/^\//, '') || undefined,
      charset: 'utf8mb4',
      timezone: 'Z',
      supportBigNumbers: true,
      connectTimeout: queryTimeoutMs ?? 5_000,
    },
    pool: { min: 0, max: poolMax },
    log,
    acquireConnectionTimeout: queryTimeoutMs ?? 5_000,
  });
  if (queryTimeoutMs) withQueryDeadline(db, queryTimeoutMs);
  return db;
}

interface StartingQuery {
  timeout?: (ms: number) => unknown;
  _timeout?: number;
}

/**
 * Gives every query that has none its own deadline. A server that stops
 * answering on an open connection (a hang, a partition) would otherwise hold
 * the request for as long as TCP does. On the deadline knex rejects with a
 * KnexTimeoutError (a 503 at the edge) and disposes of the connection, so the
 * pool never hands out one that still waits for the lost answer.
 */
function withQueryDeadline(db: Db, ms: number): void {
  db.client.on('start', (query: StartingQuery) => {
    if (query._timeout === undefined && typeof query.timeout === 'function') query.timeout(ms);
  });
}

export function isMysql(db: Db): boolean {
  return db.client.config.client === 'mysql2';
}

/**
 * A column to compare without regard to case, as MariaDB's `_ci` columns
 * already compare; SQLite is told so (and then uses its NOCASE index).
 */
export function caseless(db: Db, column: string): Knex.Raw {
  return db.raw(isMysql(db) ? '??' : '?? collate nocase', [column]);
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function migrateDown(db: Db): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}

/** A cheap round trip, for readiness. */
export async function pingDb(db: Db): Promise<void> {
  await db.raw('select 1');
}
