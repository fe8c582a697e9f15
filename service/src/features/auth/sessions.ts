import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../../platform/cache/index.js';
import { AppError } from '../../platform/http/errors.js';

interface SessionRecord {
  /** member id */
  m: number;
  /** hash of the current refresh secret */
  h: string;
  /** hashes of secrets already rotated away: presenting one again is theft */
  p: string[];
  /**
   * The last rotation, for its grace period: the hash of the secret it replaced, the salt its
   * successor was derived with, and until when (epoch ms) the replaced secret still yields it.
   */
  g?: { h: string; s: string; u: number };
}

export interface SessionSettings {
  ttlSeconds: number;
  /** How long a just-replaced refresh token still yields its successor (0: never). */
  rotationGraceSeconds: number;
  now: () => Date;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
/**
 * A successor secret is derived from the secret it replaces and a random salt kept in the record:
 * within the grace period the holder of the old secret gets the same successor again, while the
 * store holds nothing (a hash, a salt) from which anyone else could compute it.
 */
const successorOf = (secret: string, salt: string) => createHmac('sha256', secret).update(salt).digest('base64url');
const sessionKey = (sid: string) => `session:${sid}`;
const memberKey = (memberId: number) => `member-sessions:${memberId}`;
const KEPT_USED_SECRETS = 20;
/** A lost compare-and-set means another rotation changed the record: look again, a bounded number of times. */
const ROTATION_ATTEMPTS = 3;

/**
 * Refresh tokens are opaque `sid.secret` strings; only a hash of the secret
 * is stored, in the key-value store, one record per session.
 */
export function createSessions(kv: KeyValueStore, s: SessionSettings) {
  const { ttlSeconds } = s;
  const graceMs = s.rotationGraceSeconds * 1000;

  async function revoke(sid: string, memberId?: number): Promise<void> {
    await kv.del(sessionKey(sid));
    if (memberId !== undefined) await kv.setRemove(memberKey(memberId), sid);
  }

  return {
    ttlSeconds,

    async create(memberId: number): Promise<{ sid: string; refreshToken: string }> {
      const sid = randomBytes(16).toString('base64url');
      const secret = randomBytes(32).toString('base64url');
      const record: SessionRecord = { m: memberId, h: sha256(secret), p: [] };
      await kv.set(sessionKey(sid), JSON.stringify(record), ttlSeconds);
      await kv.setAdd(memberKey(memberId), sid, ttlSeconds);
      return { sid, refreshToken: `${sid}.${secret}` };
    },

    async exists(sid: string): Promise<boolean> {
      return (await kv.get(sessionKey(sid))) !== null;
    },

    /**
     * Rotates a refresh token. The token the last rotation replaced yields that
     * rotation's successor again within the grace period (a client retrying
     * several calls at once with one token); any other already-used token
     * revokes the whole session (AUTH-007); an unknown, expired or revoked one
     * is AUTH-008.
     */
    async rotate(refreshToken: string): Promise<{ sid: string; memberId: number; refreshToken: string }> {
      const [sid, secret] = refreshToken.split('.');
      if (!sid || !secret) throw new AppError('AUTH-008', 'the refresh token is malformed');
      const hash = sha256(secret);
      let memberId: number | undefined;
      for (let attempt = 1; attempt <= ROTATION_ATTEMPTS; attempt++) {
        const raw = await kv.get(sessionKey(sid));
        if (!raw) throw new AppError('AUTH-008');
        const record = JSON.parse(raw) as SessionRecord;
        memberId = record.m;
        const now = s.now().getTime();
        if (record.h === hash) {
          const salt = randomBytes(16).toString('base64url');
          const next = successorOf(secret, salt);
          const updated: SessionRecord = {
            m: record.m,
            h: sha256(next),
            p: [hash, ...record.p].slice(0, KEPT_USED_SECRETS),
            ...(graceMs > 0 && { g: { h: hash, s: salt, u: now + graceMs } }),
          };
          // Rotations racing with one token: one wins; the others read its record on the next pass.
          if (await kv.compareAndSet(sessionKey(sid), raw, JSON.stringify(updated), ttlSeconds)) {
            return { sid, memberId: record.m, refreshToken: `${sid}.${next}` };
          }
          continue;
        }
        if (record.g && record.g.h === hash && now < record.g.u) {
          return { sid, memberId: record.m, refreshToken: `${sid}.${successorOf(secret, record.g.s)}` };
        }
        if (!record.p.includes(hash)) throw new AppError('AUTH-008', 'the refresh token does not belong to this session');
        break;
      }
      await revoke(sid, memberId);
      throw new AppError('AUTH-007');
    },

    revoke,

    /** Ends every session of a member, except `keep` if given. */
    async revokeAll(memberId: number, keep?: string): Promise<void> {
      const sids = await kv.setMembers(memberKey(memberId));
      await Promise.all(sids.filter((x) => x !== keep).map((x) => revoke(x, memberId)));
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
