import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
import { newMember } from './fixtures.js';

const GRACE_SECONDS = 5;
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('sessions and tokens', () => {
  let t: TestApp;
  let call: Call;
  before(async () => {
    t = await startTestApp({ env: { ACCESS_TOKEN_TTL_SECONDS: '60', REFRESH_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS) } });
    call = httpClient(t.url);
  });
  after(() => t.close());

  const me = (token: string) => call('GET', '/me', { token });

  it('a call without a token is AUTH-005', async () => {
    const res = await call('GET', '/me');
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'AUTH-005');
  });

  it('rejects alg:none, another key, a tampered payload and an expired token', async () => {
    const m = await newMember(t);
    assert.equal((await me(m.accessToken)).status, 200);
    const [header, payload, signature] = m.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());

    const none = `${b64({ alg: 'none', typ: 'JWT', kid: 'test' })}.${payload}.`;
    assert.equal((await me(none)).body.code, 'AUTH-001');

    const kid = JSON.parse(Buffer.from(header!, 'base64url').toString()).kid;
    const otherKey = jwt.sign(claims, 'another-secret-of-at-least-thirty-two-chars', { algorithm: 'HS256', keyid: kid });
    assert.equal((await me(otherKey)).body.code, 'AUTH-001');

    const tampered = `${header}.${b64({ ...claims, sub: String(Number(claims.sub) + 1), role: 'admin' })}.${signature}`;
    assert.equal((await me(tampered)).body.code, 'AUTH-001');

    const unknownKid = jwt.sign(claims, 'another-secret-of-at-least-thirty-two-chars', { algorithm: 'HS256', keyid: 'nope' });
    assert.equal((await me(unknownKid)).body.code, 'AUTH-001');

    t.clock.advance(61_000);
    const expired = await me(m.accessToken);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 'AUTH-002');
    t.clock.set(new Date());
  });

  it('refresh rotates the token; the old one again within the grace period yields the same successor', async () => {
    const m = await newMember(t);
    const first = await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refreshToken, m.refreshToken);
    assert.equal((await me(first.body.accessToken)).status, 200);

    t.clock.advance((GRACE_SECONDS - 1) * 1000);
    const retry = await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.equal(retry.body.refreshToken, first.body.refreshToken, 'the same successor');
    assert.equal((await me(retry.body.accessToken)).status, 200, 'a working access token for the same session');
    t.clock.set(new Date());
  });

  it('after the grace period, the old token again revokes the whole session (AUTH-007)', async () => {
    const m = await newMember(t);
    const first = await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    assert.equal(first.status, 200);
    t.clock.advance((GRACE_SECONDS + 1) * 1000);
    const reuse = await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.code, 'AUTH-007');
    // The thief's and the owner's tokens of that session are all dead now.
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: first.body.refreshToken } })).body.code, 'AUTH-008');
    assert.equal((await me(first.body.accessToken)).body.code, 'AUTH-001');
    t.clock.set(new Date());
  });

  it('refreshes racing with one token all get the same successor', async () => {
    const m = await newMember(t);
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } })));
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(new Set(results.map((r) => r.body.refreshToken)).size, 1);
    for (const r of results) t.secrets.add(r.body.refreshToken).add(r.body.accessToken);
  });

  it('token answers (sign-in, refresh) are never cached: Cache-Control no-store; other answers are not marked', async () => {
    const m = await newMember(t);
    const signin = await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } });
    const refresh = await call('POST', '/auth/refresh', { body: { refreshToken: signin.body.refreshToken } });
    for (const res of [signin, refresh]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('pragma'), 'no-cache');
    }
    assert.notEqual((await me(refresh.body.accessToken)).headers.get('cache-control'), 'no-store');
  });

  it('a forged refresh token is AUTH-008', async () => {
    const m = await newMember(t);
    const [sid] = m.refreshToken.split('.');
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: `${sid}.forgedforgedforged` } })).body.code, 'AUTH-008');
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: 'nodotsinthisone' } })).body.code, 'AUTH-008');
  });

  it('sign-out revokes the session: its access and refresh tokens stop working at once', async () => {
    const m = await newMember(t);
    assert.equal((await m.call('POST', '/auth/signout')).status, 204);
    assert.equal((await me(m.accessToken)).body.code, 'AUTH-001');
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } })).body.code, 'AUTH-008');
  });

  it('changing the password needs the current one and ends every other session', async () => {
    const m = await newMember(t);
    const other = await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } });
    const wrong = await m.call('PUT', '/me/password', { body: { currentPassword: 'not-it-123', newPassword: 'brandnew2pass' } });
    assert.equal(wrong.body.code, 'ACCOUNT-008');
    const ok = await m.call('PUT', '/me/password', { body: { currentPassword: m.password, newPassword: 'brandnew2pass' } });
    assert.equal(ok.status, 204);
    assert.equal((await me(m.accessToken)).status, 200, 'this session stays');
    assert.equal((await me(other.body.accessToken)).body.code, 'AUTH-001', 'the other session ended');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } })).body.code, 'ACCOUNT-008');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: 'brandnew2pass' } })).status, 200);
  });

  it("a banned member's sessions stop working on the next request and it cannot sign in", async () => {
    const m = await newMember(t);
    await t.services.members.setBanned(m.id, true);
    await t.services.sessions.revokeAll(m.id);
    const res = await me(m.accessToken);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ACCOUNT-006');
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } })).body.code, 'ACCOUNT-006');
    assert.equal((await call('POST', '/auth/refresh', { body: { refreshToken: m.refreshToken } })).status, 401);
  });

  it('re-hashes a password on sign-in when the hash parameters changed', async () => {
    const m = await newMember(t);
    const legacy = await import('argon2').then((a) =>
      a.default.hash(m.password, { type: 2, memoryCost: 8192, timeCost: 3, parallelism: 1 }),
    );
    await t.deps.db('members').where('id', m.id).update({ password_hash: legacy });
    assert.equal((await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: m.password } })).status, 200);
    const row = await t.deps.db('members').where('id', m.id).first('password_hash');
    assert.notEqual(row.password_hash, legacy);
    assert.match(row.password_hash, /t=1/);
  });
});
