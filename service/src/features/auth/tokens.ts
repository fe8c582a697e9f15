import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
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
        return { sub: payload.sub, sid: payload.sid, role: payload.role, exp: payload.exp! };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof jwt.TokenExpiredError) throw new AppError('AUTH-002');
        throw new AppError('AUTH-001');
      }
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;
