import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * What the service keeps outside the database: sessions, single-use tokens,
 * counters and cached lists. Redis in production; an in-process map in the
 * embedded mode only. Both honour the same contract, which the tests check.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Reads and removes in one step: single-use tokens. */
  take(key: string): Promise<string | null>;
  /** Increments, starting the expiry with the first increment. */
  incr(key: string, ttlSeconds: number): Promise<number>;
  /** Replaces the value only if it still equals `expected` (atomic). */
  compareAndSet(key: string, expected: string, next: string, ttlSeconds: number): Promise<boolean>;
  /** A set of strings under one key (a member's sessions), expiring ttlSeconds after the last add. */
  setAdd(key: string, member: string, ttlSeconds: number): Promise<void>;
  setRemove(key: string, member: string): Promise<void>;
  setMembers(key: string): Promise<string[]>;
  rateLimiter(opts: { keyPrefix: string; points: number; durationSeconds: number; blockSeconds?: number }): RateLimiterAbstract;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const CAS_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

const INCR_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

export type OperationObserver = (operation: string, seconds: number, ok: boolean) => void;

export class RedisStore implements KeyValueStore {
  readonly client: Redis;

  constructor(
    url: string,
    keyPrefix = 'mate:',
    private readonly observe: OperationObserver = () => undefined,
  ) {
    // Fail fast instead of queueing while Redis is away: callers fall back or answer 503.
    // Auto-pipelining sends the commands of concurrent requests issued in one tick as one write:
    // under load each request's session check would otherwise cost a syscall of its own.
    this.client = new Redis(url, {
      keyPrefix,
      enableAutoPipelining: true,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 1_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 1_000),
    });
    this.client.on('error', () => {
      /* surfaced through failing commands and /readyz */
    });
  }

  async connect(): Promise<void> {
    await this.client.connect().catch(() => undefined);
  }

  /** Times every operation for the metrics; failures are counted and rethrown. */
  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const result = await fn();
      this.observe(operation, Number(process.hrtime.bigint() - start) / 1e9, true);
      return result;
    } catch (err) {
      this.observe(operation, Number(process.hrtime.bigint() - start) / 1e9, false);
      throw err;
    }
  }

  get(key: string) {
    return this.run('get', () => this.client.get(key));
  }
  set(key: string, value: string, ttlSeconds?: number) {
    return this.run('set', async () => {
      if (ttlSeconds) await this.client.set(key, value, 'EX', ttlSeconds);
      else await this.client.set(key, value);
    });
  }
  del(...keys: string[]) {
    return this.run('del', async () => {
      if (keys.length) await this.client.del(...keys);
    });
  }
  take(key: string) {
    return this.run('take', () => this.client.getdel(key));
  }
  incr(key: string, ttlSeconds: number) {
    return this.run('incr', async () => Number(await this.client.eval(INCR_SCRIPT, 1, key, ttlSeconds)));
  }
  compareAndSet(key: string, expected: string, next: string, ttlSeconds: number) {
    return this.run('compare_and_set', async () => Number(await this.client.eval(CAS_SCRIPT, 1, key, expected, next, ttlSeconds)) === 1);
  }
  setAdd(key: string, member: string, ttlSeconds: number) {
    return this.run('set_add', async () => {
      await this.client.multi().sadd(key, member).expire(key, ttlSeconds).exec();
    });
  }
  setRemove(key: string, member: string) {
    return this.run('set_remove', async () => {
      await this.client.srem(key, member);
    });
  }
  setMembers(key: string) {
    return this.run('set_members', () => this.client.smembers(key));
  }
  rateLimiter(opts: { keyPrefix: string; points: number; durationSeconds: number; blockSeconds?: number }) {
    return new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix: `rl:${opts.keyPrefix}`,
      points: opts.points,
      duration: opts.durationSeconds,
      blockDuration: opts.blockSeconds ?? 0,
    });
  }
  ping() {
    return this.run('ping', async () => {
      await this.client.ping();
    });
  }
  async close() {
    this.client.disconnect();
  }
}

interface Entry {
  value: string;
  expiresAt: number;
}

/** The embedded mode's stand-in: one process, so a Map is atomic enough. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, Entry>();

  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }
  async get(key: string) {
    return this.live(key)?.value ?? null;
  }
  async set(key: string, value: string, ttlSeconds?: number) {
    this.map.set(key, { value, expiresAt: ttlSeconds ? Date.now() + ttlSeconds * 1000 : Infinity });
  }
  async del(...keys: string[]) {
    for (const k of keys) this.map.delete(k);
  }
  async take(key: string) {
    const v = this.live(key)?.value ?? null;
    this.map.delete(key);
    return v;
  }
  async incr(key: string, ttlSeconds: number) {
    const e = this.live(key);
    const n = (e ? Number(e.value) : 0) + 1;
    this.map.set(key, { value: String(n), expiresAt: e?.expiresAt ?? Date.now() + ttlSeconds * 1000 });
    return n;
  }
  async compareAndSet(key: string, expected: string, next: string, ttlSeconds: number) {
    if (this.live(key)?.value !== expected) return false;
    await this.set(key, next, ttlSeconds);
    return true;
  }
  async setAdd(key: string, member: string, ttlSeconds: number) {
    // No await between the read and the write: concurrent adds must not lose each other.
    const members = new Set<string>(JSON.parse(this.live(key)?.value ?? '[]'));
    members.add(member);
    this.map.set(key, { value: JSON.stringify([...members]), expiresAt: Date.now() + ttlSeconds * 1000 });
  }
  async setRemove(key: string, member: string) {
    const e = this.live(key);
    if (!e) return;
    e.value = JSON.stringify((JSON.parse(e.value) as string[]).filter((m) => m !== member));
  }
  async setMembers(key: string) {
    return JSON.parse((await this.get(key)) ?? '[]') as string[];
  }
  rateLimiter(opts: { keyPrefix: string; points: number; durationSeconds: number; blockSeconds?: number }) {
    return new RateLimiterMemory({
      keyPrefix: opts.keyPrefix,
      points: opts.points,
      duration: opts.durationSeconds,
      blockDuration: opts.blockSeconds ?? 0,
    });
  }
  async ping() {}
  async close() {
    this.map.clear();
  }
}
