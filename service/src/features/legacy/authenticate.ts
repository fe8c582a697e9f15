import type { Context } from 'koa';
import { AppError, type ErrorCode } from '../../platform/http/errors.js';
import { noStore } from '../../platform/http/middleware.js';
import type { Authenticate, Principal } from '../../platform/http/routes.js';
import { bearerToken } from '../auth/authenticate.js';
import type { AuthService } from '../auth/service.js';

const RETRYABLE = new Set(['AUTH-001', 'AUTH-002']);

/** What the refresh dance answers besides the usual authentication errors (on every guarded legacy call). */
export const LEGACY_AUTHENTICATION_ERRORS: ErrorCode[] = ['AUTH-007', 'AUTH-008'];

/** The predecessor's way to hand out tokens: in the Authorization and Refreshtoken headers, stored by no cache. */
export function sendTokens(ctx: Context, tokens: { accessToken: string; refreshToken: string }): void {
  ctx.set('Authorization', `Bearer ${tokens.accessToken}`);
  ctx.set('Refreshtoken', `Bearer ${tokens.refreshToken}`);
  noStore(ctx);
}

/**
 * The client's refresh dance: after a 401 it repeats the call with its old
 * access token and `Refreshtoken: Bearer <refresh>`. The refresh token is
 * rotated (reuse detection and its grace period as in /api/v1: the calls of
 * a page, repeated at once with one token, all get the same new pair), the
 * call is answered normally and the new pair goes back in the
 * `Authorization` and `Refreshtoken` headers. A reused refresh token is
 * AUTH-007 (400), an expired or revoked one AUTH-008 (418), as the
 * predecessor answered: the client signs the member out on either.
 */
export function legacyAuthenticate(authenticate: Authenticate, auth: AuthService): Authenticate {
  return async (ctx): Promise<Principal> => {
    try {
      return await authenticate(ctx);
    } catch (err) {
      const refreshToken = bearerToken(ctx, 'Refreshtoken');
      if (!refreshToken || !(err instanceof AppError) || !RETRYABLE.has(err.code)) throw err;
      const { member, tokens } = await auth.refresh(refreshToken).catch((e: unknown) => {
        throw e instanceof AppError && e.code !== 'ACCOUNT-006' ? new AppError(e.code === 'AUTH-007' ? 'AUTH-007' : 'AUTH-008') : e;
      });
      // Any guarded call can carry the new pair this way: its answer is a token answer then.
      sendTokens(ctx, tokens);
      return { id: Number(member.id), role: member.role, sessionId: tokens.refreshToken.split('.')[0]! };
    }
  };
}
