import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { startOAuthProvider } from '../../testing/oauth-provider.js';

type Provider = Awaited<ReturnType<typeof startOAuthProvider>>;

describe('Kakao and LINE sign-in against a local stand-in provider', () => {
  let t: TestApp;
  let kakao: Provider;
  let line: Provider;
  before(async () => {
    kakao = await startOAuthProvider('kakao');
    line = await startOAuthProvider('line');
    t = await startTestApp({ env: { ...kakao.env, ...line.env, OAUTH_TIMEOUT_MS: '700' } });
    // The callback URL the provider redirects to is the API's own.
    t.deps.config.PUBLIC_BASE_URL = t.url;
  });
  after(async () => {
    await t.close();
    await kakao.close();
    await line.close();
  });

  /** Follows the redirects a browser would: API → provider → API callback. */
  async function signInWith(provider: 'kakao' | 'line', tamper?: (callback: URL) => void) {
    const start = await fetch(`${t.url}/api/v1/auth/oauth/${provider}/authorize`, { redirect: 'manual' });
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    const consent = await fetch(authorize, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    const callback = new URL(consent.headers.get('location')!);
    tamper?.(callback);
    const res = await fetch(callback);
    return { status: res.status, body: (await res.json()) as any };
  }

  it('a first sign-in creates the member with the provider recorded; later ones find it', async () => {
    kakao.behaviour.user = 'user-1001';
    const first = await signInWith('kakao');
    assert.equal(first.status, 200);
    assert.equal(first.body.member.provider, 'kakao');
    assert.equal(first.body.member.nickname, '카카오친구');
    assert.equal(first.body.member.loginId, null);
    const me = await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${first.body.accessToken}` } });
    assert.equal(me.status, 200);
    const again = await signInWith('kakao');
    assert.equal(again.body.member.id, first.body.member.id);
  });

  it('chooses a unique nickname when the suggested one is taken', async () => {
    line.behaviour.user = 'U-line-1';
    const res = await signInWith('line');
    assert.equal(res.status, 200);
    assert.equal(res.body.member.provider, 'line');
    assert.notEqual(res.body.member.nickname, '카카오친구');
    assert.match(res.body.member.nickname, /^카카오친구\d+$/);
  });

  it('a forged or reused state is a clear AUTH-009', async () => {
    const forged = await signInWith('kakao', (cb) => cb.searchParams.set('state', 'forged-state'));
    assert.equal(forged.status, 400);
    assert.equal(forged.body.code, 'AUTH-009');
    let used: URL | undefined;
    const ok = await signInWith('kakao', (cb) => (used = new URL(cb)));
    assert.equal(ok.status, 200);
    const replay = await fetch(used!);
    assert.equal(((await replay.json()) as { code: string }).code, 'AUTH-009');
  });

  it('a provider error is a clear AUTH-009', async () => {
    const res = await signInWith('kakao', (cb) => {
      cb.searchParams.delete('code');
      cb.searchParams.set('error', 'access_denied');
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'AUTH-009');
    assert.match(res.body.detail, /access_denied/);
  });

  it('a provider that does not answer in time is AUTH-011 (502), not a 500 or a hang', async () => {
    kakao.behaviour.tokenDelayMs = 2_000;
    try {
      const started = Date.now();
      const res = await signInWith('kakao');
      assert.equal(res.status, 502);
      assert.equal(res.body.code, 'AUTH-011');
      assert.ok(Date.now() - started < 1_900, 'the timeout holds');
    } finally {
      kakao.behaviour.tokenDelayMs = 0;
    }
  });

  it('a provider that is not configured is AUTH-012', async () => {
    const other = await startTestApp({ database: 'sqlite' });
    try {
      const res = await fetch(`${other.url}/api/v1/auth/oauth/kakao/authorize`, { redirect: 'manual' });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { code: string }).code, 'AUTH-012');
    } finally {
      await other.close();
    }
  });
});
