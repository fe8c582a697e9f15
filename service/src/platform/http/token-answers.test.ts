import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { startOAuthProvider } from '../../testing/oauth-provider.js';
import { newMember } from '../../features/auth/fixtures.js';
import { legacyClient } from '../../features/legacy/fixtures.js';

type Provider = Awaited<ReturnType<typeof startOAuthProvider>>;

/** RFC 6749 §5.1: every answer that carries a token, on either API, is stored by no cache. */
describe('answers that carry tokens', () => {
  let t: TestApp;
  let kakao: Provider;
  const legacyRedirect = 'https://web.mate.example/oauth/kakao';
  before(async () => {
    kakao = await startOAuthProvider('kakao');
    t = await startTestApp({ env: { ...kakao.env, LEGACY_KAKAO_REDIRECT_URI: legacyRedirect } });
    // The provider redirects to the API's own callback.
    t.deps.config.PUBLIC_BASE_URL = t.url;
  });
  after(async () => {
    await t.close();
    await kakao.close();
  });

  function assertNotStored(res: { status: number; headers: Headers }, what: string) {
    assert.equal(res.status, 200, what);
    assert.equal(res.headers.get('cache-control'), 'no-store', what);
    assert.equal(res.headers.get('pragma'), 'no-cache', what);
  }
  const post = (path: string, body: unknown) =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('/api/v1: sign-in, refresh and the OAuth callback', async () => {
    const m = await newMember(t);
    const signin = await post('/api/v1/auth/signin', { loginId: m.loginId, password: m.password });
    assertNotStored(signin, 'sign-in');
    const { refreshToken } = (await signin.json()) as { refreshToken: string };
    t.secrets.add(refreshToken);
    assertNotStored(await post('/api/v1/auth/refresh', { refreshToken }), 'refresh');

    const start = await fetch(`${t.url}/api/v1/auth/oauth/kakao/authorize`, { redirect: 'manual' });
    const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = await fetch(consent.headers.get('location')!);
    assertNotStored(callback, 'OAuth callback');
    const tokens = (await callback.json()) as { accessToken: string; refreshToken: string };
    t.secrets.add(tokens.accessToken).add(tokens.refreshToken);
  });

  it('a failed sign-in says so too (no cache keeps what a token call answered)', async () => {
    const res = await post('/api/v1/auth/signin', { loginId: 'nobody-here', password: 'wrong-password' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('legacy: sign-in, the social callback and any call answered with a rotated pair', async () => {
    const m = await newMember(t);
    const client = legacyClient(t);
    const signin = await client.send('POST', '/api/member/signIn', { memberId: m.loginId, password: m.password });
    assertNotStored(signin, 'legacy sign-in');
    const social = await fetch(`${t.url}/api/social/kakao/callback?code=${kakao.issueCode(legacyRedirect)}`);
    assertNotStored(social, 'legacy social callback');
    t.secrets.add(social.headers.get('authorization')!.slice(7)).add(social.headers.get('refreshtoken')!.slice(7));

    const plain = await client.send('GET', '/api/member');
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('cache-control'), null, 'an answer without tokens is not marked');
    // The refresh dance: an access token that does not verify, with the refresh token beside it.
    client.session.access = 'not.a.token';
    const danced = await client.send('GET', '/api/member', undefined, { withRefresh: true });
    assert.match(danced.headers.get('authorization') ?? '', /^Bearer eyJ/);
    assertNotStored(danced, 'a call that rotated the pair');
  });

  it('the document shows the headers on the token answers', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    for (const [path, method] of [
      ['/api/v1/auth/signin', 'post'],
      ['/api/v1/auth/refresh', 'post'],
      ['/api/v1/auth/oauth/{provider}/callback', 'get'],
      ['/api/member/signIn', 'post'],
      ['/api/social/kakao/callback', 'get'],
    ] as const)
      assert.deepEqual(Object.keys(doc.paths[path]![method]!.responses['200']!.headers ?? {}), ['Cache-Control', 'Pragma'], path);
  });
});
