import { createHash, randomBytes } from 'node:crypto';
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../app.js';
import { AppError, checked } from '../../platform/http/errors.js';
import type { MailQueue } from '../../platform/mail/index.js';
import type { AvailabilityField, MembersService } from '../members/service.js';
import type { Member } from '../members/models.js';
import { passwordSchema } from '../members/schemas.js';
import type { PasswordHasher } from './passwords.js';
import type { Sessions } from './sessions.js';
import type { AccessTokens } from './tokens.js';
import { loginIdMail, passwordResetMail } from './mails.js';
import { signupSchema } from './schemas.js';

export const RESET_TOKEN_MINUTES = 30;
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

interface AuthParts {
  members: MembersService;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  sessions: Sessions;
  mail: MailQueue;
}

/** A rate-limit gate: refuses while the key has no points left, counts only what `hit` is told. */
function gate(limiter: RateLimiterAbstract, points: number) {
  const retryAfter = (r: RateLimiterRes) => String(Math.max(1, Math.ceil(r.msBeforeNext / 1000)));
  return {
    async check(key: string) {
      const r = await limiter.get(key).catch(() => null); // a limiter outage must not lock everyone out
      if (r && r.consumedPoints >= points)
        throw new AppError('RATE-001', 'too many attempts; try again later', { 'Retry-After': retryAfter(r) });
    },
    async hit(key: string) {
      await limiter.consume(key).catch(() => undefined);
    },
    async take(key: string) {
      await this.check(key);
      await this.hit(key);
    },
  };
}

export function createAuthService(deps: AppDeps, parts: AuthParts) {
  const { config, kv } = deps;
  const { members, hasher, tokens, sessions, mail } = parts;
  const window = config.SIGNIN_FAILURE_WINDOW_SECONDS;
  const perAccount = gate(
    kv.rateLimiter({ keyPrefix: 'signin-account', points: config.SIGNIN_MAX_FAILURES_PER_ACCOUNT, durationSeconds: window }),
    config.SIGNIN_MAX_FAILURES_PER_ACCOUNT,
  );
  const perClient = gate(
    kv.rateLimiter({ keyPrefix: 'signin-client', points: config.SIGNIN_MAX_FAILURES_PER_CLIENT, durationSeconds: window }),
    config.SIGNIN_MAX_FAILURES_PER_CLIENT,
  );
  const mailLimit = gate(
    kv.rateLimiter({ keyPrefix: 'mail', points: config.MAIL_MAX_PER_HOUR, durationSeconds: 3600 }),
    config.MAIL_MAX_PER_HOUR,
  );
  const lookupLimit = gate(
    kv.rateLimiter({ keyPrefix: 'availability', points: config.AVAILABILITY_CHECKS_PER_MINUTE, durationSeconds: 60 }),
    config.AVAILABILITY_CHECKS_PER_MINUTE,
  );
  // Verified when the login id is unknown, so both failures cost the same time.
  const dummyHash = hasher.hash(randomBytes(16).toString('hex'));

  async function issue(member: Member, existing?: { sid: string; refreshToken: string }): Promise<TokenPair> {
    const session = existing ?? (await sessions.create(Number(member.id)));
    return {
      accessToken: tokens.sign({ sub: String(member.id), sid: session.sid, role: member.role }),
      refreshToken: session.refreshToken,
      tokenType: 'Bearer',
      expiresIn: tokens.ttlSeconds,
    };
  }

  async function verifyPassword(member: Member | undefined, password: string): Promise<boolean> {
    if (!member?.password_hash) {
      await hasher.verify(await dummyHash, password);
      return false;
    }
    const ok = await hasher.verify(member.password_hash, password);
    if (ok && hasher.needsRehash(member.password_hash)) await members.setPasswordHash(Number(member.id), await hasher.hash(password));
    return ok;
  }

  /**
   * Sign-in and every check of a member's current password share the failure
   * limits, per account and per client: a stolen access token must not become
   * a way to guess the password.
   */
  async function verifyLimited(member: Member | undefined, account: string, password: string, clientIp: string): Promise<boolean> {
    await Promise.all([perAccount.check(account), perClient.check(clientIp)]);
    if (await verifyPassword(member, password)) return true;
    await Promise.all([perAccount.hit(account), perClient.hit(clientIp)]);
    return false;
  }

  async function verifyOwnPassword(memberId: number, password: string, clientIp: string): Promise<void> {
    const member = await members.require(memberId);
    const account = member.login_id?.toLowerCase() ?? `member:${memberId}`;
    if (!(await verifyLimited(member, account, password, clientIp))) throw new AppError('ACCOUNT-008', 'the current password is wrong');
  }

  const resetKey = (token: string) => `password-reset:${sha256(token)}`;
  /** A reset link names the password it replaces: once that changes (any newer link used, any change), older links are dead. */
  const passwordState = (member: Member) => sha256(member.password_hash ?? '').slice(0, 16);

  return {
    issue,

    async signup(given: { loginId: string; email: string; nickname: string; password: string }) {
      const input = checked(signupSchema, given);
      const member = await members.create({ ...input, passwordHash: await hasher.hash(input.password) });
      deps.metrics.signups.inc({ provider: 'mate' });
      return member;
    },

    async signin(input: { loginId: string; password: string }, clientIp: string): Promise<{ member: Member; tokens: TokenPair }> {
      const outcome = (o: string) => deps.metrics.signins.inc({ outcome: o });
      const member = await members.findByLoginId(input.loginId);
      const passwordRight = await verifyLimited(member, input.loginId.toLowerCase(), input.password, clientIp).catch((err: unknown) => {
        outcome('rate_limited');
        throw err;
      });
      // A banned account answers the same whatever the password: no way to test guesses on it.
      if (member?.banned_at) {
        outcome('banned');
        throw new AppError('ACCOUNT-006');
      }
      if (!passwordRight) {
        outcome('wrong_credentials');
        throw new AppError('ACCOUNT-008');
      }
      outcome('success');
      return { member: member!, tokens: await issue(member!) };
    },

    async refresh(refreshToken: string): Promise<{ member: Member; tokens: TokenPair }> {
      const rotated = await sessions.rotate(refreshToken);
      const member = await members.findById(rotated.memberId);
      if (!member || member.banned_at) {
        await sessions.revoke(rotated.sid, rotated.memberId);
        throw new AppError(member ? 'ACCOUNT-006' : 'AUTH-008');
      }
      return { member, tokens: await issue(member, rotated) };
    },

    signout: (sid: string, memberId: number) => sessions.revoke(sid, memberId),

    /** Needs the current password; ends every other session. */
    async changePassword(memberId: number, sid: string, change: { current: string; next: string }, clientIp: string): Promise<void> {
      checked(passwordSchema, change.next);
      await verifyOwnPassword(memberId, change.current, clientIp);
      await members.setPasswordHash(memberId, await hasher.hash(change.next));
      await sessions.revokeAll(memberId, sid);
    },

    /** Sign-up forms check each field as it is typed; limited per client all the same. */
    async isAvailable(field: AvailabilityField, value: string, clientIp: string): Promise<boolean> {
      await lookupLimit.take(clientIp);
      return members.isAvailable(field, value);
    },

    /** Same answer whether or not the pair matches; on a match, a single-use link by mail. */
    async forgotPassword(input: { loginId: string; email: string }, clientIp: string): Promise<void> {
      await mailLimit.take(`client:${clientIp}`);
      await mailLimit.take(`account:${input.loginId.toLowerCase()}`);
      const member = await members.findByLoginId(input.loginId);
      if (!member || member.email?.toLowerCase() !== input.email.toLowerCase() || member.banned_at) return;
      const token = randomBytes(32).toString('base64url');
      await kv.set(resetKey(token), `${member.id}.${passwordState(member)}`, RESET_TOKEN_MINUTES * 60);
      const base = config.PASSWORD_RESET_URL ?? `${config.PUBLIC_BASE_URL}/reset-password`;
      const link = `${base}${base.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
      mail.enqueue(passwordResetMail(member.email!, member.nickname, link, RESET_TOKEN_MINUTES));
    },

    /** Uses a reset link once: sets the password and ends every session. */
    async resetPassword(token: string, password: string): Promise<void> {
      checked(passwordSchema, password);
      const [id, state] = (await kv.take(resetKey(token)))?.split('.') ?? [];
      const member = id ? await members.findById(Number(id)) : undefined;
      if (!member || passwordState(member) !== state) throw new AppError('AUTH-010');
      const memberId = Number(member.id);
      await members.setPasswordHash(memberId, await hasher.hash(password));
      await sessions.revokeAll(memberId);
    },

    /**
     * Mails the login id to its owner's address. Returns the member only when
     * the email (and the nickname, when given) matched; callers that must not
     * reveal that ignore it.
     */
    async forgotLoginId(email: string, clientIp: string, nickname?: string): Promise<Member | undefined> {
      await mailLimit.take(`client:${clientIp}`);
      await mailLimit.take(`email:${email.toLowerCase()}`);
      const member = await members.findByEmail(email);
      if (!member?.login_id || member.banned_at || (nickname !== undefined && member.nickname !== nickname)) return undefined;
      mail.enqueue(loginIdMail(member.email!, member.nickname, member.login_id));
      return member;
    },

    /** The legacy client checks the current password, then changes it: the check is remembered for 5 minutes. */
    async confirmPassword(memberId: number, sid: string, password: string, clientIp: string): Promise<void> {
      await verifyOwnPassword(memberId, password, clientIp);
      await kv.set(`password-confirmed:${sid}`, '1', 300);
    },

    async changeConfirmedPassword(memberId: number, sid: string, next: string): Promise<void> {
      checked(passwordSchema, next);
      if (!(await kv.take(`password-confirmed:${sid}`))) throw new AppError('ACCOUNT-008', 'confirm the current password first');
      await members.setPasswordHash(memberId, await hasher.hash(next));
      await sessions.revokeAll(memberId, sid);
    },

    /** The first admin comes from configuration (a Secret), never from a default password. */
    async ensureAdmin(): Promise<void> {
      const { ADMIN_LOGIN_ID: loginId, ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = config;
      if (!loginId || !email || !password) return;
      if (await members.findByLoginId(loginId)) return;
      await members.create({ loginId, email, nickname: loginId, passwordHash: await hasher.hash(password), role: 'admin' });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
