import { z } from '../../platform/http/zod.js';
import { route } from '../../platform/http/routes.js';
import { emailSchema, loginIdSchema, memberView, nicknameSchema, passwordSchema } from '../members/schemas.js';
import { forgotLoginIdSchema, forgotPasswordSchema, signinSchema, signupSchema } from './schemas.js';
import type { MembersService } from '../members/service.js';
import type { AuthService } from './service.js';
import { PROVIDERS, type OAuth } from './oauth.js';
import type { Context } from 'koa';

const tokenPair = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int().openapi({ description: 'access token lifetime in seconds' }),
  })
  .openapi('TokenPair');
const accepted = z.object({ accepted: z.literal(true) }).openapi('Accepted');

export function authRoutes(auth: AuthService, members: MembersService, oauth: OAuth, clientIp: (ctx: Context) => string) {
  const provider = z.object({ provider: z.enum(PROVIDERS) });
  return [
    route({
      method: 'get',
      path: '/auth/oauth/{provider}/authorize',
      tag: 'auth',
      summary: 'Start Kakao or LINE sign-in: a redirect to the provider (authorization code flow, state and PKCE)',
      access: 'public',
      status: 302,
      params: provider,
      responseDescription: "a redirect to the provider's authorization page",
      errors: ['AUTH-012'],
      handler: async ({ params, ctx }) => ctx.redirect(await oauth.authorizeUrl(params.provider)),
    }),
    route({
      method: 'get',
      path: '/auth/oauth/{provider}/callback',
      tag: 'auth',
      summary: "The provider's redirect back: signs the member in (a first sign-in creates the member)",
      access: 'public',
      issuesTokens: true,
      params: provider,
      query: z.object({
        code: z.string().max(1000).optional(),
        state: z.string().max(200).optional(),
        error: z.string().max(200).optional(),
        error_description: z.string().max(1000).optional(),
      }),
      response: tokenPair.extend({ member: memberView }),
      errors: ['AUTH-009', 'AUTH-011', 'AUTH-012', 'ACCOUNT-006'],
      handler: async ({ params, query }) => {
        const member = await oauth.callback(params.provider, query);
        return { ...(await auth.issue(member)), member: await members.toView(member) };
      },
    }),
    route({
      method: 'post',
      path: '/auth/signup',
      tag: 'auth',
      summary: 'Sign up with a login id, email, nickname and password',
      access: 'public',
      status: 201,
      body: signupSchema,
      response: memberView,
      errors: ['ACCOUNT-002', 'ACCOUNT-003', 'ACCOUNT-004'],
      handler: async ({ body }) => members.toView(await auth.signup(body)),
    }),
    route({
      method: 'post',
      path: '/auth/signin',
      tag: 'auth',
      summary: 'Sign in: an access token and a refresh token',
      description: 'Failed attempts are rate-limited per account and per client address (429 with Retry-After).',
      access: 'public',
      issuesTokens: true,
      body: signinSchema,
      response: tokenPair.extend({ member: memberView }),
      errors: ['ACCOUNT-008', 'ACCOUNT-006'],
      handler: async ({ body, ctx }) => {
        const { member, tokens } = await auth.signin(body, clientIp(ctx));
        return { ...tokens, member: await members.toView(member) };
      },
    }),
    route({
      method: 'post',
      path: '/auth/refresh',
      tag: 'auth',
      summary: 'Rotate the refresh token; a reused one revokes its session',
      access: 'public',
      issuesTokens: true,
      body: z.object({ refreshToken: z.string().min(10).max(200) }),
      response: tokenPair,
      errors: ['AUTH-007', 'AUTH-008', 'ACCOUNT-006'],
      handler: async ({ body }) => (await auth.refresh(body.refreshToken)).tokens,
    }),
    route({
      method: 'post',
      path: '/auth/signout',
      tag: 'auth',
      summary: 'Sign out: revoke this session',
      access: 'member',
      status: 204,
      handler: async ({ principal }) => {
        await auth.signout(principal.sessionId, principal.id);
      },
    }),
    route({
      method: 'get',
      path: '/auth/availability',
      tag: 'auth',
      summary: 'Is a login id, email or nickname still free?',
      access: 'public',
      query: z
        .object({ loginId: loginIdSchema.optional(), email: emailSchema.optional(), nickname: nicknameSchema.optional() })
        .refine(
          (q) => [q.loginId, q.email, q.nickname].filter((v) => v !== undefined).length === 1,
          'give exactly one of loginId, email, nickname',
        ),
      response: z
        .object({ field: z.enum(['loginId', 'email', 'nickname']), value: z.string(), available: z.boolean() })
        .openapi('Availability'),
      errors: ['RATE-001'],
      handler: async ({ query, ctx }) => {
        const field = query.loginId !== undefined ? 'loginId' : query.email !== undefined ? 'email' : 'nickname';
        const value = query[field]!;
        return { field, value, available: await auth.isAvailable(field, value, clientIp(ctx)) };
      },
    }),
    route({
      method: 'post',
      path: '/auth/password/forgot',
      tag: 'auth',
      summary: 'Mail a single-use reset link (30 minutes); same answer whether or not the account exists',
      access: 'public',
      status: 202,
      body: forgotPasswordSchema,
      response: accepted,
      handler: async ({ body, ctx }) => {
        await auth.forgotPassword(body, clientIp(ctx));
        return { accepted: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/auth/password/reset',
      tag: 'auth',
      summary: 'Set a new password with the link from the mail; ends every session',
      access: 'public',
      status: 204,
      body: z.object({ token: z.string().min(10).max(200), password: passwordSchema }),
      errors: ['AUTH-010'],
      handler: async ({ body }) => {
        await auth.resetPassword(body.token, body.password);
      },
    }),
    route({
      method: 'post',
      path: '/auth/login-id/forgot',
      tag: 'auth',
      summary: 'Mail the login id to this address; same answer whether or not it is known',
      access: 'public',
      status: 202,
      body: forgotLoginIdSchema,
      response: accepted,
      handler: async ({ body, ctx }) => {
        await auth.forgotLoginId(body.email, clientIp(ctx));
        return { accepted: true as const };
      },
    }),
  ];
}
