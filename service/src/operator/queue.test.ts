import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './queue.js';

describe('the work queue', () => {
  it('holds a key once, and runs a key added while it is processed again afterwards', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    assert.equal(q.length, 2);
    const first = await q.get();
    assert.equal(first, 'ns/a');
    q.add('ns/a'); // while processing: not a second copy in the queue, but again after done()
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'ns/b');
    q.done('ns/b');
    q.done('ns/a');
    assert.equal(await q.get(), 'ns/a');
    q.shutDown();
    assert.equal(await q.get(), undefined);
  });

  it('backs off exponentially per key, up to a ceiling, and starts over after forget()', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = Array.from({ length: 6 }, () => q.addRateLimited('ns/a'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
    assert.equal(q.addRateLimited('ns/b'), 100, 'backoff is per key');
    q.forget('ns/a');
    assert.equal(q.addRateLimited('ns/a'), 100);
    q.shutDown();
  });

  it('adds a key after a delay; the earlier of two delays wins', async () => {
    const q = new WorkQueue();
    const keepAlive = setTimeout(() => {}, 2_000); // the queue's timers do not hold the process open
    const t0 = Date.now();
    q.addAfter('ns/a', 5_000);
    q.addAfter('ns/a', 50);
    q.addAfter('ns/a', 3_000);
    assert.equal(await q.get(), 'ns/a');
    assert.ok(Date.now() - t0 < 1_000);
    clearTimeout(keepAlive);
    q.shutDown();
  });
});
