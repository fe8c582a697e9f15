import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../../platform/cache/index.js';
import { RecentlyUsed } from '../../platform/cache/recently-used.js';
import type { ServiceDay } from '../../platform/clock/index.js';
import type { Logger } from '../../platform/observability/logger.js';

const VERSION_TTL_SECONDS = 3 * 24 * 3600;
/** Pages kept per process: every sort × filter of a few pages, ~10 KB each. */
const LOCAL_PAGES = 256;
const versionKey = (day: ServiceDay) => `carpools:list-version:${day}`;

/**
 * Today's lists in Redis, keyed by a version per service day. Every write
 * that changes a list replaces the version (after its transaction commits
 * and before the call answers), so the next read misses and reloads: a
 * client that reserved and then lists sees its seat. A page computed from
 * data older than the version lands under the old version and is never
 * read again. The store failing never fails a call: reads go to the
 * database. An invalidation that failed is retried before this process
 * reads from the cache again, and the TTL bounds what other processes may
 * serve until then.
 *
 * Each process also keeps the pages it served recently as bytes, under the
 * same versioned keys: a hit then costs one small read (the version) instead
 * of fetching, decoding and encoding ~10 KB again. A versioned key never
 * changes meaning, so this copy is never stale; it lives half the TTL, so a
 * page (with its presigned image URLs) is served at most 1.5 × TTL after it
 * was built.
 */
export function createListCache(kv: KeyValueStore, logger: Logger, ttlSeconds: number) {
  let lastWarning = 0;
  const warn = (err: unknown, action: string) => {
    // One line per 10 s while the store is away, not one per request.
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn({ err, event: { dataset: 'carpools.cache' } }, `carpool list cache: ${action} failed; serving from the database`);
  };

  // Days whose invalidation failed while the store was away.
  const pending = new Set<ServiceDay>();
  const bump = (day: ServiceDay) => kv.set(versionKey(day), randomBytes(9).toString('base64url'), VERSION_TTL_SECONDS);
  async function flushPending(): Promise<void> {
    for (const day of [...pending]) {
      await bump(day);
      pending.delete(day);
    }
  }

  const served = new RecentlyUsed<Buffer>(LOCAL_PAGES);
  const keep = (key: string, page: Buffer) => served.set(key, page, Date.now() + (ttlSeconds * 1000) / 2);
  const inflight = new Map<string, Promise<Buffer>>();

  /** A page this process does not hold: from the store, else built and stored. */
  async function fill(key: string, load: () => Promise<string>): Promise<Buffer> {
    try {
      const hit = await kv.get(key);
      if (hit !== null) return keep(key, Buffer.from(hit));
    } catch (err) {
      warn(err, 'read');
      return Buffer.from(await load());
    }
    const value = await load();
    await kv.set(key, value, ttlSeconds).catch((err: unknown) => warn(err, 'write'));
    return keep(key, Buffer.from(value));
  }

  return {
    ttlSeconds,

    /**
     * Starts reading the day's version for a `read` to come (a route's `early`, sent with the
     * session check). A failure surfaces only in the read that awaits it.
     */
    early(day: ServiceDay): EarlyVersion | undefined {
      if (!ttlSeconds) return undefined;
      const version = kv.get(versionKey(day));
      version.catch(() => undefined);
      return { day, version };
    },

    /** A page as its JSON bytes: a hit is sent as stored, never parsed and serialized again. */
    async read(day: ServiceDay, variant: string, load: () => Promise<string>, early?: EarlyVersion): Promise<Buffer> {
      if (!ttlSeconds) return Buffer.from(await load());
      let key: string;
      try {
        // A failed invalidation is retried first, and the version read after it.
        const fresh = !pending.size && early?.day === day;
        if (pending.size) await flushPending();
        const version = (await (fresh ? early.version : kv.get(versionKey(day)))) ?? '0';
        key = `carpools:list:${day}:${version}:${variant}`;
      } catch (err) {
        warn(err, 'read');
        return Buffer.from(await load());
      }
      const local = served.get(key);
      if (local) return local;
      // Concurrent misses of one page share one fetch or build: a write makes every page miss at
      // once, and each caller building its own (up to ten pages and 500 views for a legacy list)
      // cost more CPU than all the hits around them.
      let filling = inflight.get(key);
      if (!filling) {
        filling = fill(key, load).finally(() => inflight.delete(key));
        inflight.set(key, filling);
      }
      return filling;
    },

    async invalidate(day: ServiceDay): Promise<void> {
      if (!ttlSeconds) return;
      try {
        await bump(day);
        pending.delete(day); // this version is newer than any write that failed to invalidate
      } catch (err) {
        pending.add(day);
        warn(err, 'invalidation');
      }
    },
  };
}

export type ListCache = ReturnType<typeof createListCache>;

/** The list version of a day, being read (ListCache.early). */
export interface EarlyVersion {
  day: ServiceDay;
  version: Promise<string | null>;
}
