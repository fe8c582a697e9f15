import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore, RedisStore, type KeyValueStore } from './index.js';
import { testServices } from '../../testing/env.js';

/** The embedded stand-in must honour the same contract as Redis. */
function contract(name: string, make: () => Promise<KeyValueStore>) {
  describe(`KeyValueStore contract: ${name}`, () => {
    let store: KeyValueStore;
    after(() => store?.close());

    it('sets, gets, expires and deletes', async () => {
      store = await make();
      await store.set('a', '1');
      assert.equal(await store.get('a'), '1');
      await store.set('b', '2', 1);
      assert.equal(await store.get('b'), '2');
      await new Promise((r) => setTimeout(r, 1_100));
      assert.equal(await store.get('b'), null);
      await store.del('a');
      assert.equal(await store.get('a'), null);
    });

    it('takes a value once', async () => {
      await store.set('once', 'v', 60);
      const results = await Promise.all([store.take('once'), store.take('once'), store.take('once')]);
      assert.deepEqual(results.filter(Boolean), ['v']);
    });

    it('counts with an expiry that starts at the first increment', async () => {
      const counts = await Promise.all(Array.from({ length: 20 }, () => store.incr('n', 60)));
      assert.deepEqual(
        [...counts].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });

    it('compare-and-set lets exactly one of many concurrent writers win', async () => {
      await store.set('cas', 'v0', 60);
      const wins = await Promise.all(Array.from({ length: 25 }, (_, i) => store.compareAndSet('cas', 'v0', `v${i + 1}`, 60)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.notEqual(await store.get('cas'), 'v0');
      assert.equal(await store.compareAndSet('missing', 'x', 'y', 60), false);
    });

    it('keeps sets', async () => {
      await Promise.all(['s1', 's2', 's3', 's2'].map((m) => store.setAdd('set', m, 60)));
      await store.setRemove('set', 's1');
      assert.deepEqual((await store.setMembers('set')).sort(), ['s2', 's3']);
      assert.deepEqual(await store.setMembers('no-such-set'), []);
    });

    it('rate-limits', async () => {
      const limiter = store.rateLimiter({ keyPrefix: 'contract', points: 3, durationSeconds: 60 });
      for (let i = 0; i < 3; i++) await limiter.consume('k');
      await assert.rejects(limiter.consume('k'), (r: { msBeforeNext: number }) => r.msBeforeNext > 0);
    });
  });
}

contract('Redis', async () => {
  const store = new RedisStore(testServices().redisUrl, `mate:contract:${randomBytes(4).toString('hex')}:`);
  await store.connect();
  return store;
});
contract('in-process (embedded mode)', async () => new MemoryStore());
