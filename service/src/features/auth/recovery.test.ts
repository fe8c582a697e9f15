import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
import { legacyClient } from '../legacy/fixtures.js';
import { newMember } from './fixtures.js';
import type { RedisStore } from '../../platform/cache/index.js';

function resetTokenFrom(text: string): string {
  const m = /[?&]token=([\w%-]+)/.exec(text);
  assert.ok(m, 'the mail carries a reset link');
  return decodeURIComponent(m[1]!);
}

describe('password and login-id recovery by mail', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://mate.example', MAIL_MAX_PER_HOUR: '50' } });
    call = httpClient(t.url);
  });
  after(() => t.close());

  it('answers the same whether or not the login id and email match', async () => {
    const m = await newMember(t);
    const match = await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    const wrongEmail = await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: 'someone@else.example' } });
    const unknown = await call('POST', '/auth/password/forgot', { body: { loginId: 'nosuchmember', email: m.email } });
    for (const r of [match, wrongEmail, unknown]) {
      assert.equal(r.status, 202);
      assert.deepEqual(r.body, { accepted: true });
    }
    await t.services.mail.idle();
    assert.equal(t.smtp.messages.filter((x) => JSON.stringify(x.to).includes(m.email)).length, 1, 'only the match is mailed');
    assert.equal(t.smtp.messages.filter((x) => JSON.stringify(x.to).includes('someone@else.example')).length, 0);
  });

  it('mails a single-use link (Korean, HTML and text) that sets the password and ends every session', async () => {
    const m = await newMember(t);
    const before = t.smtp.messages.length;
    await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    const mail = await t.smtp.waitFor(m.email);
    assert.ok(t.smtp.messages.length > before);
    assert.equal(mail.subject, '[MATE] 비밀번호 재설정 안내');
    assert.match(String(mail.html), /비밀번호 재설정하기/);
    assert.match(mail.text ?? '', /https:\/\/mate\.example\/reset-password\?token=/);
    assert.doesNotMatch(mail.text ?? '', new RegExp(m.password), 'no password in the mail');
    const token = resetTokenFrom(mail.text ?? '');

    assert.equal((await m.call('GET', '/me')).status, 200);
    const reset = await call('POST', '/auth/password/reset', { body: { token, password: 'fresh2start' } });
    assert.equal(reset.status, 204);
    assert.equal((await m.call('GET', '/me')).body.code, 'AUTH-001', 'every session ended');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: 'fresh2start' } })).status, 200);

    const again = await call('POST', '/auth/password/reset', { body: { token, password: 'another2one' } });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'AUTH-010', 'the link works once');
  });

  it('does not change the password until the link is used, and the link expires after 30 minutes', async () => {
    const m = await newMember(t);
    await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    const token = resetTokenFrom((await t.smtp.waitFor(m.email)).text ?? '');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } })).status, 200);
    // The expiry is Redis's own TTL: check it, then make it pass.
    const redis = (t.deps.kv as RedisStore).client;
    const key = `password-reset:${createHash('sha256').update(token).digest('base64url')}`;
    const ttl = await redis.ttl(key);
    assert.ok(ttl > 29 * 60 && ttl <= 30 * 60, `ttl ${ttl}`);
    await redis.expire(key, 0);
    assert.equal((await call('POST', '/auth/password/reset', { body: { token, password: 'late2party' } })).body.code, 'AUTH-010');
  });

  it('mails the login id to a known email, and answers an unknown one the same way', async () => {
    const m = await newMember(t);
    const known = await call('POST', '/auth/login-id/forgot', { body: { email: m.email } });
    const unknown = await call('POST', '/auth/login-id/forgot', { body: { email: 'ghost@example.com' } });
    assert.deepEqual([known.status, unknown.status], [202, 202]);
    assert.deepEqual(known.body, unknown.body);
    const mail = await t.smtp.waitFor(m.email);
    assert.equal(mail.subject, '[MATE] 아이디 안내');
    assert.match(mail.text ?? '', new RegExp(m.loginId));
  });

  it('an older reset link is dead once a newer one was used', async () => {
    const m = await newMember(t);
    await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    const [older, newer] = await linksFor(m.email);
    assert.ok(older && newer && older !== newer);
    assert.equal((await reset(newer, 'newer2pass')).status, 204);
    const stale = await reset(older, 'older2pass');
    assert.equal(stale.status, 400);
    assert.equal(stale.body.code, 'AUTH-010');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: 'newer2pass' } })).status, 200);
  });

  it('an unused reset link is dead once the password was changed another way', async () => {
    const m = await newMember(t);
    await call('POST', '/auth/password/forgot', { body: { loginId: m.loginId, email: m.email } });
    const [link] = await linksFor(m.email);
    const changed = await m.call('PUT', '/me/password', { body: { currentPassword: m.password, newPassword: 'changed2pass' } });
    assert.equal(changed.status, 204);
    assert.equal((await reset(link!, 'hijack2pass')).body.code, 'AUTH-010');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: 'changed2pass' } })).status, 200);
  });

  it('no log line carries a password, a token or a reset link', async () => {
    const all = t.logs.join('\n');
    assert.doesNotMatch(all, /reset-password\?token=/);
    assert.doesNotMatch(all, /secret1/, 'no fixture password');
    assert.doesNotMatch(all, /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'no JWT');
  });
  const linksFor = async (email: string) => {
    await t.services.mail.idle();
    return t.smtp.messages.filter((x) => JSON.stringify(x.to).includes(email)).map((x) => resetTokenFrom(x.text ?? ''));
  };
  const reset = (token: string, password: string) => call('POST', '/auth/password/reset', { body: { token, password } });
});

describe('rate limits', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp({
      env: {
        SIGNIN_MAX_FAILURES_PER_ACCOUNT: '3',
        SIGNIN_MAX_FAILURES_PER_CLIENT: '6',
        MAIL_MAX_PER_HOUR: '2',
        AVAILABILITY_CHECKS_PER_MINUTE: '5',
        TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    call = httpClient(t.url);
  });
  after(() => t.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const signin = (loginId: string, password: string, ip = '203.0.113.1') =>
    call('POST', '/auth/signin', { body: { loginId, password }, headers: from(ip) });

  it('the N+1-th failed sign-in of an account gets 429 with Retry-After, and the right password does not bypass it', async () => {
    const m = await newMember(t);
    for (let i = 0; i < 3; i++) assert.equal((await signin(m.loginId, 'wrong-pass1', `198.51.100.${i}`)).body.code, 'ACCOUNT-008');
    const limited = await signin(m.loginId, 'wrong-pass1', '198.51.100.9');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE-001');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await signin(m.loginId, m.password, '198.51.100.10')).status, 429, 'correct password, still limited');
  });

  it('limits failures per client address (from X-Forwarded-For of a trusted proxy) across accounts', async () => {
    const members = [await newMember(t), await newMember(t), await newMember(t)];
    for (const m of members) for (let i = 0; i < 2; i++) await signin(m.loginId, 'wrong-pass1', '192.0.2.77');
    const fresh = await newMember(t);
    assert.equal((await signin(fresh.loginId, 'wrong-pass1', '192.0.2.77')).status, 429);
    assert.equal((await signin(fresh.loginId, fresh.password, '192.0.2.78')).status, 200, 'another address is not affected');
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const t2 = await startTestApp({ env: { SIGNIN_MAX_FAILURES_PER_CLIENT: '2', SIGNIN_MAX_FAILURES_PER_ACCOUNT: '50' } });
    try {
      const c = httpClient(t2.url);
      const m = await newMember(t2);
      for (let i = 0; i < 2; i++)
        await c('POST', '/auth/signin', {
          body: { loginId: m.loginId, password: 'wrong-pass1' },
          headers: { 'x-forwarded-for': `10.9.9.${i}` },
        });
      const res = await c('POST', '/auth/signin', {
        body: { loginId: m.loginId, password: m.password },
        headers: { 'x-forwarded-for': '10.9.9.200' },
      });
      assert.equal(res.status, 429, 'a forged header does not get a fresh budget');
    } finally {
      await t2.close();
    }
  });

  it('limits the mail-sending calls', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await call('POST', '/auth/login-id/forgot', { body: { email: 'flood@example.com' } })).status);
    assert.deepEqual(statuses, [202, 202, 429]);
  });
  it('wrong current passwords on PUT /me/password count with the sign-in failures of the account', async () => {
    const m = await newMember(t);
    const change = (currentPassword: string, ip: string) =>
      m.call('PUT', '/me/password', { body: { currentPassword, newPassword: 'brandnew2pass' }, headers: from(ip) });
    for (let i = 0; i < 2; i++) assert.equal((await change('not-it-123', `198.51.100.${i}`)).body.code, 'ACCOUNT-008');
    assert.equal((await signin(m.loginId, 'not-it-123', '198.51.100.2')).body.code, 'ACCOUNT-008');
    const limited = await change(m.password, '198.51.100.3');
    assert.equal(limited.status, 429, 'the right password, once the account is limited');
    assert.equal(limited.body.code, 'RATE-001');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await signin(m.loginId, m.password, '198.51.100.4')).status, 429, 'sign-in is limited too');
  });

  it('the legacy checkPassword shares those limits', async () => {
    const m = await newMember(t);
    const web = legacyClient(t, { access: m.accessToken, refresh: m.refreshToken });
    for (let i = 0; i < 3; i++) {
      const wrong = await web.send('POST', '/api/member/checkPassword', { password: 'not-it-123' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.code, 'ACCOUNT-008');
    }
    const limited = await web.send('POST', '/api/member/checkPassword', { password: m.password });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE-001');
    assert.equal((await signin(m.loginId, m.password, '198.51.100.20')).status, 429);
  });

  it('a banned account answers the same to the right and the wrong password, and wrong ones still count', async () => {
    const m = await newMember(t);
    await t.services.members.setBanned(m.id, true);
    const right = await signin(m.loginId, m.password, '203.0.113.1');
    const wrong = await signin(m.loginId, 'not-it-123', '203.0.113.2');
    for (const r of [right, wrong]) assert.equal(r.body.code, 'ACCOUNT-006');
    assert.equal(right.status, wrong.status);
    assert.equal(right.body.detail, wrong.body.detail);
    await signin(m.loginId, 'not-it-123', '203.0.113.3');
    await signin(m.loginId, 'not-it-123', '203.0.113.4');
    assert.equal((await signin(m.loginId, m.password, '203.0.113.5')).status, 429);
  });

  it('availability look-ups are limited per client address, v1 and legacy together', async () => {
    const web = legacyClient(t);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', `/auth/availability?loginId=probe${i}`)).status);
    statuses.push((await web.send('POST', '/api/member/checkMemberId', { memberId: 'probe3' })).status);
    statuses.push((await web.send('POST', '/api/member/checkEmail', { email: 'probe4@example.com' })).status);
    const v1 = await call('GET', '/auth/availability?nickname=probe5');
    const legacy = await web.send('POST', '/api/member/checkNickname', { nickname: 'probe6' });
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    assert.equal(v1.status, 429);
    assert.equal(v1.body.code, 'RATE-001');
    assert.ok(Number(v1.headers.get('retry-after')) > 0);
    assert.equal(legacy.status, 429);
    const elsewhere = await call('GET', '/auth/availability?loginId=probe7', { headers: from('192.0.2.50') });
    assert.equal(elsewhere.status, 200, 'another address has its own budget');
  });
});
