import type Koa from 'koa';
import { AppError } from '../../platform/http/errors.js';
import { isDependencyOutage } from '../../platform/http/middleware.js';
import type { Authenticate, Principal } from '../../platform/http/routes.js';
import type { MembersService } from '../members/service.js';
import type { Sessions } from './sessions.js';
import type { AccessTokens } from './tokens.js';

export function bearerToken(ctx: Koa.Context, header = 'Authorization'): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(ctx.get(header))?.[1];
}

/**
 * The access token proves who calls; the session record proves the session
 * still stands, so sign-out, a password change and a ban take effect on the
 * next request rather than at token expiry.
 */
export function createAuthenticate(tokens: AccessTokens, sessions: Sessions, members: MembersService): Authenticate {
  async function bannedOrEnded(memberId: number): Promise<never> {
    const member = await members.findById(memberId);
    if (member?.banned_at) throw new AppError('ACCOUNT-006');
    throw new AppError('AUTH-001', 'the session has ended; sign in again');
  }

  return async (ctx): Promise<Principal> => {
    const token = bearerToken(ctx);
    if (!token) throw new AppError('AUTH-005');
    const claims = tokens.verify(token);
    const memberId = Number(claims.sub);
    let alive: boolean;
    try {
      alive = await sessions.exists(claims.sid);
    } catch (err) {
      if (!isDependencyOutage(err)) throw err;
      // Redis away: the signed token stands, the ban is checked in the database instead.
      const member = await members.findById(memberId);
      if (!member) throw new AppError('AUTH-001');
      if (member.banned_at) throw new AppError('ACCOUNT-006');
      alive = true;
    }
    if (!alive) await bannedOrEnded(memberId);
    return { id: memberId, role: claims.role, sessionId: claims.sid };
  };
}
