import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { newMember } from '../auth/fixtures.js';

const car = (n: number) => ({ carNumber: `${10 + n}가${1000 + n}`, phoneNumber: '010-1234-5678' });
const tally = (statuses: string[]) => statuses.reduce<Record<string, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});

describe('driver registration', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('PUT /me/driver answers 201 when it registers the car, 200 when it updates it', async () => {
    const m = await newMember(t);
    const first = await m.call('PUT', '/me/driver', { body: car(1) });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await m.call('PUT', '/me/driver', { body: car(2) });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.driver.carNumber, car(2).carNumber);
  });

  it('simultaneous first registrations: exactly one 201, the others 200, one drivers row', async () => {
    const m = await newMember(t);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => m.call('PUT', '/me/driver', { body: car(n) })));
    assert.deepEqual(tally(answers.map((a) => String(a.status))), { 201: 1, 200: 4 }, JSON.stringify(answers.map((a) => a.body)));
    const rows = await t.deps.db('drivers').where('member_id', m.id);
    assert.equal(rows.length, 1);
  });

  it('legacy POST /api/member/driver: simultaneous registrations register once, the others are ACCOUNT-011 (400, as the predecessor answered)', async () => {
    const m = await newMember(t);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => m.call('POST', '/api/member/driver', { body: car(n) })));
    const outcomes = answers.map((a) => `${a.status} ${a.status === 200 ? '' : a.body.code}`.trim());
    assert.deepEqual(tally(outcomes), { 200: 1, '400 ACCOUNT-011': 4 }, JSON.stringify(answers.map((a) => a.body)));
    assert.equal((await t.deps.db('drivers').where('member_id', m.id)).length, 1);
  });
});
