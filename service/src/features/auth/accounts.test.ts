import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
import { newMember } from './fixtures.js';

describe('sign-up, availability and sign-in', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp();
    call = httpClient(t.url);
  });
  after(() => t.close());

  const valid = { loginId: 'commuter1', email: 'commuter1@example.com', nickname: '출근왕', password: 'morning2ride' };

  it('signs up with trimmed fields and answers the member without secrets', async () => {
    const res = await call('POST', '/auth/signup', { body: { ...valid, nickname: '  출근왕  ' } });
    assert.equal(res.status, 201);
    assert.equal(res.body.loginId, 'commuter1');
    assert.equal(res.body.nickname, '출근왕');
    assert.equal(res.body.role, 'member');
    assert.equal(res.body.isDriver, false);
    assert.ok(!JSON.stringify(res.body).includes('password'));
    const row = await t.deps.db('members').where('login_id', 'commuter1').first();
    assert.match(row.password_hash, /^\$argon2id\$/);
  });

  it('refuses duplicates with their codes', async () => {
    const dupLogin = await call('POST', '/auth/signup', { body: { ...valid, email: 'other@example.com', nickname: '다른닉' } });
    assert.equal(dupLogin.body.code, 'ACCOUNT-003');
    const dupEmail = await call('POST', '/auth/signup', { body: { ...valid, loginId: 'other1', nickname: '다른닉' } });
    assert.equal(dupEmail.body.code, 'ACCOUNT-002');
    const dupNick = await call('POST', '/auth/signup', { body: { ...valid, loginId: 'other1', email: 'other@example.com' } });
    assert.equal(dupNick.body.code, 'ACCOUNT-004');
    assert.equal(dupNick.status, 409);
  });

  it('lets exactly one of two simultaneous sign-ups with the same login id succeed (the database decides)', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        call('POST', '/auth/signup', {
          body: { loginId: 'racer1', email: `racer${i}@example.com`, nickname: `racer${i}`, password: 'racing2win' },
        }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    assert.deepEqual(
      results.filter((r) => r.status !== 201).map((r) => r.body.code),
      ['ACCOUNT-003', 'ACCOUNT-003', 'ACCOUNT-003'],
    );
  });

  it('validates every field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ loginId: 'ab' }, 'loginId'],
      [{ loginId: 'has space1' }, 'loginId'],
      [{ loginId: 'x'.repeat(21) }, 'loginId'],
      [{ email: 'not-an-email' }, 'email'],
      [{ nickname: '   ' }, 'nickname'],
      [{ nickname: '가'.repeat(21) }, 'nickname'],
      [{ password: 'short1' }, 'password'],
      [{ password: 'lettersonly' }, 'password'],
      [{ password: '1234567890' }, 'password'],
      [{ password: `a1${'x'.repeat(63)}` }, 'password'],
    ];
    for (const [override, field] of cases) {
      const res = await call('POST', '/auth/signup', {
        body: { ...valid, loginId: 'fresh1', email: 'fresh@example.com', nickname: '새닉', ...override },
      });
      assert.equal(res.status, 400, JSON.stringify(override));
      assert.equal(res.body.code, 'REQUEST-001');
      assert.match(res.body.detail, new RegExp(field));
    }
  });

  it('answers availability for login id, email and nickname', async () => {
    const taken = await call('GET', '/auth/availability?loginId=commuter1');
    assert.deepEqual(taken.body, { field: 'loginId', value: 'commuter1', available: false });
    assert.equal((await call('GET', '/auth/availability?email=nobody@example.com')).body.available, true);
    assert.equal((await call('GET', `/auth/availability?nickname=${encodeURIComponent('출근왕')}`)).body.available, false);
    assert.equal((await call('GET', '/auth/availability?loginId=a1&email=b@example.com')).status, 400);
  });

  it('signs in, and a wrong login id or a wrong password get the same ACCOUNT-008', async () => {
    const ok = await call('POST', '/auth/signin', { body: { loginId: 'commuter1', password: 'morning2ride' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.tokenType, 'Bearer');
    assert.equal(ok.body.member.loginId, 'commuter1');
    const me = await call('GET', '/me', { token: ok.body.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.nickname, '출근왕');

    const wrongPassword = await call('POST', '/auth/signin', { body: { loginId: 'commuter1', password: 'wrong-pass1' } });
    const wrongId = await call('POST', '/auth/signin', { body: { loginId: 'nosuchuser', password: 'wrong-pass1' } });
    assert.equal(wrongPassword.status, 401);
    assert.equal(wrongPassword.body.code, 'ACCOUNT-008');
    assert.equal(wrongId.body.code, 'ACCOUNT-008');
    assert.equal(wrongId.body.detail, wrongPassword.body.detail);
  });

  it('the fixtures sign members up and in', async () => {
    const m = await newMember(t, { driver: true });
    const me = await m.call('GET', '/me');
    assert.equal(me.body.isDriver, true);
    assert.equal(me.body.driver.carNumber, '12가3456');
  });
});
