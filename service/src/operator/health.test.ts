import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Heartbeat, isReady } from './health.js';

test('the heartbeat is alive while idle and while reconciles finish in time, not once one is stuck', () => {
  let now = 1_000_000;
  const beat = new Heartbeat(60_000, () => now);
  assert.equal(beat.alive(), true, 'an idle loop is alive');
  beat.begin('ns/a');
  now += 59_000;
  assert.equal(beat.alive(), true);
  beat.begin('ns/b');
  now += 1_000;
  assert.equal(beat.longestRunningSeconds(), 60);
  assert.equal(beat.alive(), false, 'ns/a has run for 60 s');
  beat.end('ns/a');
  assert.equal(beat.longestRunningSeconds(), 1);
  assert.equal(beat.alive(), true);
  beat.end('ns/b');
  assert.equal(beat.longestRunningSeconds(), 0);
});

test('readiness: the leader once synced, a follower while it reaches the Lease, a single operator once synced', () => {
  const base = { leaderElection: true, leading: false, synced: false, leaseDurationMs: 15_000, now: 100_000 };
  assert.equal(isReady({ ...base, lastLeaseContact: 99_000 }), true, 'a follower that reads the Lease stands by');
  assert.equal(isReady({ ...base, lastLeaseContact: 80_000 }), false, 'a follower cut off from the Lease');
  assert.equal(isReady(base), false, 'a follower that never reached the Lease');
  assert.equal(isReady({ ...base, leading: true }), false, 'a leader still listing');
  assert.equal(isReady({ ...base, leading: true, synced: true }), true);
  assert.equal(isReady({ ...base, leaderElection: false }), false, 'a single operator still listing');
  assert.equal(isReady({ ...base, leaderElection: false, synced: true }), true);
});
