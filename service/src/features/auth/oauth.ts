import { createHash, randomBytes } from 'node:crypto';
import type { AppDeps } from '../../app.js';
import { AppError } from '../../platform/http/errors.js';
import { isUniqueViolation } from '../../platform/db/model.js';
import type { Member } from '../members/models.js';
import type { MembersService } from '../members/service.js';
import { nicknameFromSuggestion } from '../members/rules.js';

export type Provider = 'kakao' | 'line';
export const PROVIDERS: Provider[] = ['kakao', 'line'];

interface ProviderSettings {
  clientId: string;
  clientSecret?: string;
  authorizeUrl: string;
  tokenUrl: string;
  profileUrl: string;
  redirectUri: string;
  /** Where the legacy web client receives the provider's redirect. */
  legacyRedirectUri?: string;
  scope: string;
  /** The provider's stable user id and the nickname it suggests. */
  profile(body: any): { subject: string; nickname?: string; email?: string };
}

function providerSettings(config: AppDeps['config'], provider: Provider): ProviderSettings | undefined {
  const base = `${config.PUBLIC_BASE_URL}/api/v1/auth/oauth/${provider}/callback`;
  if (provider === 'kakao') {
    if (!config.KAKAO_CLIENT_ID) return undefined;
    return {
      clientId: config.KAKAO_CLIENT_ID,
      clientSecret: config.KAKAO_CLIENT_SECRET,
      authorizeUrl: config.KAKAO_AUTHORIZE_URL,
      tokenUrl: config.KAKAO_TOKEN_URL,
      profileUrl: config.KAKAO_PROFILE_URL,
      redirectUri: config.KAKAO_REDIRECT_URI ?? base,
      legacyRedirectUri: config.LEGACY_KAKAO_REDIRECT_URI,
      scope: 'profile_nickname',
      profile: (b) => ({
        subject: b?.id !== undefined ? String(b.id) : '',
        nickname: b?.kakao_account?.profile?.nickname ?? b?.properties?.nickname,
        email: b?.kakao_account?.email,
      }),
    };
  }
  if (!config.LINE_CLIENT_ID) return undefined;
  return {
    clientId: config.LINE_CLIENT_ID,
    clientSecret: config.LINE_CLIENT_SECRET,
    authorizeUrl: config.LINE_AUTHORIZE_URL,
    tokenUrl: config.LINE_TOKEN_URL,
    profileUrl: config.LINE_PROFILE_URL,
    redirectUri: config.LINE_REDIRECT_URI ?? base,
    legacyRedirectUri: config.LEGACY_LINE_REDIRECT_URI,
    scope: 'profile openid',
    profile: (b) => ({ subject: typeof b?.userId === 'string' ? b.userId : '', nickname: b?.displayName }),
  };
}

const STATE_TTL_SECONDS = 600;
const base64url = (b: Buffer) => b.toString('base64url');

/** OAuth 2.0 authorization code flow with `state` and PKCE (S256) for Kakao and LINE. */
export function createOAuth(deps: AppDeps, members: MembersService) {
  const { kv, config } = deps;

  function settings(provider: Provider): ProviderSettings {
    const s = providerSettings(config, provider);
    if (!s) throw new AppError('AUTH-012', `${provider} sign-in is not configured`);
    return s;
  }

  async function providerCall(url: string, init: RequestInit): Promise<any> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(config.OAUTH_TIMEOUT_MS) });
    } catch {
      throw new AppError('AUTH-011', 'the sign-in provider did not answer in time');
    }
    const body = await res.json().catch(() => undefined);
    if (!res.ok) throw new AppError('AUTH-009', `the sign-in provider refused (${res.status})`);
    return body;
  }

  /** A nickname nobody has: the provider's suggestion, then with a number after it. */
  async function freeNickname(suggested: string | undefined, provider: Provider): Promise<string> {
    const base = nicknameFromSuggestion(suggested, 14) || `${provider}회원`;
    if (await members.isAvailable('nickname', base)) return base;
    for (;;) {
      const candidate = `${base}${randomBytes(3).readUIntBE(0, 3) % 1_000_000}`;
      if (await members.isAvailable('nickname', candidate)) return candidate;
    }
  }

  return {
    /** Where to send the browser; `state` and the PKCE verifier are kept server-side, single use. */
    async authorizeUrl(provider: Provider): Promise<string> {
      const s = settings(provider);
      const state = base64url(randomBytes(24));
      const verifier = base64url(randomBytes(32));
      await kv.set(`oauth-state:${state}`, JSON.stringify({ provider, verifier }), STATE_TTL_SECONDS);
      const url = new URL(s.authorizeUrl);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: s.clientId,
        redirect_uri: s.redirectUri,
        state,
        scope: s.scope,
        code_challenge: base64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    /** The provider's redirect back: checks `state`, then signs in with the code and the saved PKCE verifier. */
    async callback(provider: Provider, query: { code?: string; state?: string; error?: string }): Promise<Member> {
      settings(provider);
      const saved = query.state ? await kv.take(`oauth-state:${query.state}`) : null;
      const flow = saved ? (JSON.parse(saved) as { provider: Provider; verifier: string }) : undefined;
      if (!flow || flow.provider !== provider) throw new AppError('AUTH-009', 'unknown or expired sign-in state');
      if (query.error) throw new AppError('AUTH-009', `the sign-in provider answered: ${query.error.slice(0, 100)}`);
      if (!query.code) throw new AppError('AUTH-009', 'the sign-in provider sent no code');
      return this.signInWithCode(provider, query.code, { verifier: flow.verifier });
    },

    /**
     * Exchanges a code, reads the profile, finds or creates the member. The
     * legacy client runs the redirect itself (no state, no PKCE on our side),
     * with its own registered redirect URI.
     */
    async signInWithCode(provider: Provider, code: string, flow: { verifier?: string; legacy?: boolean }): Promise<Member> {
      const s = settings(provider);
      const redirectUri = flow.legacy ? (s.legacyRedirectUri ?? s.redirectUri) : s.redirectUri;
      const token = await providerCall(s.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          client_id: s.clientId,
          ...(s.clientSecret && { client_secret: s.clientSecret }),
          ...(flow.verifier && { code_verifier: flow.verifier }),
        }),
      });
      if (typeof token?.access_token !== 'string') throw new AppError('AUTH-009', 'the sign-in provider sent no access token');
      const profile = s.profile(await providerCall(s.profileUrl, { headers: { authorization: `Bearer ${token.access_token}` } }));
      if (!profile.subject) throw new AppError('AUTH-009', 'the sign-in provider sent no user id');

      const existing = await members.findByProvider(provider, profile.subject);
      if (existing) {
        if (existing.banned_at) throw new AppError('ACCOUNT-006');
        return existing;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          const created = await members.create({
            nickname: await freeNickname(profile.nickname, provider),
            provider,
            providerSubject: profile.subject,
          });
          deps.metrics.signups.inc({ provider });
          return created;
        } catch (err) {
          // Two first sign-ins of one account racing: the other one created it.
          if (isUniqueViolation(err, 'provider')) return (await members.findByProvider(provider, profile.subject))!;
          // Two first sign-ins racing for one nickname: pick another.
          if (!(err instanceof AppError && err.code === 'ACCOUNT-004') || attempt > 3) throw err;
        }
      }
    },
  };
}

export type OAuth = ReturnType<typeof createOAuth>;
