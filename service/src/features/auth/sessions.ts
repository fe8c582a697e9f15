import { createHash, randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../../platform/cache/index.js';
import { AppError } from '../../platform/http/errors.js';

interface SessionRecord {
  /** member id */
  m: number;
  /** hash of the current refresh secret */
  h: string;
  /** hashes of secrets already rotated away: presenting one again is theft */
  p: string[];
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const sessionKey = (sid: string) => `session:${sid}`;
const memberKey = (memberId: number) => `member-sessions:${memberId}`;
const KEPT_USED_SECRETS = 20;

/**
 * Refresh tokens are opaque `sid.secret` strings; only a hash of the secret
 * is stored, in the key-value store, one record per session.
 */
export function createSessions(kv: KeyValueStore, ttlSeconds: number) {
  const newSecret = () => randomBytes(32).toString('base64url');

  async function revoke(sid: string, memberId?: number): Promise<void> {
    await kv.del(sessionKey(sid));
    if (memberId !== undefined) await kv.setRemove(memberKey(memberId), sid);
  }

  return {
    ttlSeconds,

    async create(memberId: number): Promise<{ sid: string; refreshToken: string }> {
      const sid = randomBytes(16).toString('base64url');
      const secret = newSecret();
      const record: SessionRecord = { m: memberId, h: sha256(secret), p: [] };
      await kv.set(sessionKey(sid), JSON.stringify(record), ttlSeconds);
      await kv.setAdd(memberKey(memberId), sid, ttlSeconds);
      return { sid, refreshToken: `${sid}.${secret}` };
    },

    async exists(sid: string): Promise<boolean> {
      return (await kv.get(sessionKey(sid))) !== null;
    },

    /**
     * Rotates a refresh token. An already-used token revokes the whole
     * session (AUTH-007); an unknown, expired or revoked one is AUTH-008.
     */
    async rotate(refreshToken: string): Promise<{ sid: string; memberId: number; refreshToken: string }> {
      const [sid, secret] = refreshToken.split('.');
      if (!sid || !secret) throw new AppError('AUTH-008', 'the refresh token is malformed');
      const raw = await kv.get(sessionKey(sid));
      if (!raw) throw new AppError('AUTH-008');
      const record = JSON.parse(raw) as SessionRecord;
      const hash = sha256(secret);
      if (record.h === hash) {
        const next = newSecret();
        const updated: SessionRecord = { ...record, h: sha256(next), p: [hash, ...record.p].slice(0, KEPT_USED_SECRETS) };
        // Two refreshes racing with one token: one wins, the other is a reuse.
        if (await kv.compareAndSet(sessionKey(sid), raw, JSON.stringify(updated), ttlSeconds)) {
          return { sid, memberId: record.m, refreshToken: `${sid}.${next}` };
        }
      } else if (!record.p.includes(hash)) {
        throw new AppError('AUTH-008', 'the refresh token does not belong to this session');
      }
      await revoke(sid, record.m);
      throw new AppError('AUTH-007');
    },

    revoke,

    /** Ends every session of a member, except `keep` if given. */
    async revokeAll(memberId: number, keep?: string): Promise<void> {
      const sids = await kv.setMembers(memberKey(memberId));
      await Promise.all(sids.filter((s) => s !== keep).map((s) => revoke(s, memberId)));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
