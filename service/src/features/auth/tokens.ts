import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { RecentlyUsed } from '../../platform/cache/recently-used.js';
import { AppError } from '../../platform/http/errors.js';

export interface AccessClaims {
  sub: string;
  sid: string;
  role: 'member' | 'admin';
}

export interface TokenSettings {
  /** `kid:secret` pairs; the first signs, all verify (key rotation). */
  keys: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

const ALGORITHM = 'HS256' as const;
/** Verified tokens remembered per process: about the callers of a few minutes at a busy pod. */
const VERIFIED_TOKENS = 5_000;

/** Short-lived access JWTs: algorithm pinned, issuer and audience checked, key id for rotation. */
export function createAccessTokens(s: TokenSettings, now: () => Date) {
  const keys = new Map(
    s.keys.split(',').map((pair) => {
      const i = pair.indexOf(':');
      // A KeyObject made once: jsonwebtoken turns a string secret into one on every call (~50x slower).
      return [pair.slice(0, i), createSecretKey(Buffer.from(pair.slice(i + 1)))] as const;
    }),
  );
  const [signingKid, signingSecret] = [...keys][0]!;
  // A token that verified once verifies again until it expires (the keys are fixed for the process's
  // life): remembering it spares a decode, an HMAC and a JSON parse on every call. Whether its
  // session still stands is checked on every call all the same, elsewhere.
  const verified = new RecentlyUsed<AccessClaims & { exp: number }>(VERIFIED_TOKENS);

  return {
    ttlSeconds: s.ttlSeconds,

    sign(claims: AccessClaims): string {
      const iat = Math.floor(now().getTime() / 1000);
      return jwt.sign({ sid: claims.sid, role: claims.role, iat, exp: iat + s.ttlSeconds }, signingSecret, {
        algorithm: ALGORITHM,
        keyid: signingKid,
        issuer: s.issuer,
        audience: s.audience,
        subject: claims.sub,
      });
    },

    /** Throws AUTH-002 when expired, AUTH-001 for anything else wrong. */
    verify(token: string, opts: { ignoreExpiration?: boolean } = {}): AccessClaims & { exp: number } {
      const known = opts.ignoreExpiration ? undefined : verified.get(token, now().getTime());
      if (known) return known;
      const decoded = jwt.decode(token, { complete: true });
      const secret = decoded && typeof decoded.header.kid === 'string' ? keys.get(decoded.header.kid) : undefined;
      if (!secret) throw new AppError('AUTH-001', 'the token is malformed or signed with an unknown key');
      try {
        const payload = jwt.verify(token, secret, {
          algorithms: [ALGORITHM],
          issuer: s.issuer,
          audience: s.audience,
          clockTimestamp: Math.floor(now().getTime() / 1000),
          ignoreExpiration: opts.ignoreExpiration,
        }) as jwt.JwtPayload;
        if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || (payload.role !== 'member' && payload.role !== 'admin')) {
          throw new AppError('AUTH-001', 'the token lacks its claims');
        }
        const claims = { sub: payload.sub, sid: payload.sid, role: payload.role, exp: payload.exp! };
        return opts.ignoreExpiration ? claims : verified.set(token, claims, claims.exp * 1000);
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof jwt.TokenExpiredError) throw new AppError('AUTH-002');
        throw new AppError('AUTH-001');
      }
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
