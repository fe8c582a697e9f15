import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
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

  it('no log line carries a password, a token or a reset link', async () => {
    const all = t.logs.join('\n');
    assert.doesNotMatch(all, /reset-password\?token=/);
    assert.doesNotMatch(all, /secret1/, 'no fixture password');
    assert.doesNotMatch(all, /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'no JWT');
  });
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
        TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    call = httpClient(t.url);
  });
  after(() => t.close());

  const signin = (loginId: string, password: string, ip = '203.0.113.1') =>
    call('POST', '/auth/signin', { body: { loginId, password }, headers: { 'x-forwarded-for': ip } });

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
});
