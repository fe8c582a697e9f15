import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStore, RedisStore, type KeyValueStore } from '../../platform/cache/index.js';
import { AppError } from '../../platform/http/errors.js';
import { TestClock } from '../../testing/harness.js';
import { testServices } from '../../testing/env.js';
import { createSessions } from './sessions.js';

const GRACE_SECONDS = 5;

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );

/** The rotation grace period on both stores the service runs on: the same answers, no race between parallel rotations. */
function rotationContract(name: string, make: () => Promise<KeyValueStore>) {
  describe(`refresh-token rotation with a grace period: ${name}`, () => {
    const stores: KeyValueStore[] = [];
    after(() => Promise.all(stores.map((s) => s.close())));
    const setUp = async () => {
      const kv = await make();
      stores.push(kv);
      const clock = new TestClock();
      return { clock, sessions: createSessions(kv, { ttlSeconds: 600, rotationGraceSeconds: GRACE_SECONDS, now: clock.now }) };
    };

    it('parallel rotations with one token all get the same successor, which rotates on as usual', async () => {
      const { sessions } = await setUp();
      const { sid, refreshToken } = await sessions.create(7);
      const results = await Promise.all(Array.from({ length: 25 }, () => sessions.rotate(refreshToken)));
      const successors = new Set(results.map((r) => r.refreshToken));
      assert.equal(successors.size, 1, 'one successor for all');
      const [successor] = successors;
      assert.notEqual(successor, refreshToken);
      for (const r of results) assert.deepEqual([r.sid, r.memberId], [sid, 7]);
      const next = await sessions.rotate(successor!);
      assert.notEqual(next.refreshToken, successor);
      assert.equal(await sessions.exists(sid), true);
    });

    it('after the grace period, the replaced token is a reuse: the session is revoked', async () => {
      const { clock, sessions } = await setUp();
      const { sid, refreshToken } = await sessions.create(8);
      const first = await sessions.rotate(refreshToken);
      clock.advance((GRACE_SECONDS - 1) * 1000);
      assert.equal((await sessions.rotate(refreshToken)).refreshToken, first.refreshToken, 'still within the grace period');
      clock.advance(2000);
      assert.equal(await codeOf(sessions.rotate(refreshToken)), 'AUTH-007');
      assert.equal(await sessions.exists(sid), false);
      assert.equal(await codeOf(sessions.rotate(first.refreshToken)), 'AUTH-008', 'the successor died with the session');
    });

    it('only the token the last rotation replaced has a grace period: an older one is a reuse at once', async () => {
      const { sessions } = await setUp();
      const { sid, refreshToken } = await sessions.create(9);
      const first = await sessions.rotate(refreshToken);
      await sessions.rotate(first.refreshToken);
      assert.equal(await codeOf(sessions.rotate(refreshToken)), 'AUTH-007');
      assert.equal(await sessions.exists(sid), false);
    });

    it('without a grace period, a second rotation with one token is a reuse, also when they race', async () => {
      const kv = await make();
      stores.push(kv);
      const sessions = createSessions(kv, { ttlSeconds: 600, rotationGraceSeconds: 0, now: () => new Date() });
      const { sid, refreshToken } = await sessions.create(10);
      const codes = await Promise.all(Array.from({ length: 10 }, () => codeOf(sessions.rotate(refreshToken))));
      assert.ok(codes.filter((c) => c === 'ok').length <= 1, codes.join());
      assert.ok(codes.includes('AUTH-007'), codes.join());
      assert.equal(await sessions.exists(sid), false);
    });

    it('a forged secret for a real session is AUTH-008 and leaves the session standing', async () => {
      const { sessions } = await setUp();
      const { sid } = await sessions.create(11);
      assert.equal(await codeOf(sessions.rotate(`${sid}.${randomBytes(32).toString('base64url')}`)), 'AUTH-008');
      assert.equal(await sessions.exists(sid), true);
    });
  });
}

rotationContract('in-process store (embedded mode)', async () => new MemoryStore());
rotationContract('Redis', async () => {
  const store = new RedisStore(testServices().redisUrl, `mate-test-${randomBytes(4).toString('hex')}:`);
  await store.connect();
  return store;
});
