import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecentlyUsed } from './recently-used.js';

describe('RecentlyUsed', () => {
  it('keeps an entry until its own expiry, not a moment later', () => {
    const c = new RecentlyUsed<string>(10);
    c.set('a', 'A', 1_000);
    assert.equal(c.get('a', 999), 'A');
    assert.equal(c.get('a', 1_000), undefined);
    assert.equal(c.get('a', 0), undefined, 'an expired entry is gone for good');
  });

  it('past its size, forgets the least recently used entry (a read counts as a use)', () => {
    const c = new RecentlyUsed<number>(2);
    c.set('a', 1, Infinity);
    c.set('b', 2, Infinity);
    assert.equal(c.get('a'), 1);
    c.set('c', 3, Infinity);
    assert.equal(c.get('b'), undefined);
    assert.equal(c.get('a'), 1);
    assert.equal(c.get('c'), 3);
  });

  it('a key set again takes the new value and expiry', () => {
    const c = new RecentlyUsed<number>(2);
    c.set('a', 1, 100);
    c.set('a', 2, 200);
    assert.equal(c.get('a', 150), 2);
  });
});
