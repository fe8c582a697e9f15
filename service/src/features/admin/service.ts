import { AppError } from '../../platform/http/errors.js';
import type { Sessions } from '../auth/sessions.js';
import type { Member } from '../members/models.js';
import type { MembersService } from '../members/service.js';

/** What an administrator does beyond reading: bans. The admin feature owns no table. */
export function createAdminService(parts: { members: MembersService; sessions: Sessions }) {
  const { members, sessions } = parts;
  return {
    /**
     * Bans or unbans. A ban is saved first, then every session of the member
     * ends, so its tokens fail on the next request (ACCOUNT-006). If the
     * session store is away the call fails (503) with the ban saved; the
     * admin repeats it, which is harmless.
     */
    async setBanned(adminId: number, memberId: number, banned: boolean): Promise<Member> {
      if (adminId === memberId) throw new AppError('ACCOUNT-010');
      await members.require(memberId);
      const member = await members.setBanned(memberId, banned);
      if (banned) await sessions.revokeAll(memberId);
      return member;
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
