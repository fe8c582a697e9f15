import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

/**
 * A local stand-in for Kakao's or LINE's OAuth endpoints (the outside world is
 * the one thing tests may stand in for). It enforces what the real ones do:
 * the redirect URI, single-use codes and PKCE.
 */
export async function startOAuthProvider(flavor: 'kakao' | 'line') {
  const codes = new Map<string, { challenge: string; redirectUri: string; user: string }>();
  const tokens = new Map<string, string>();
  const behaviour = { tokenDelayMs: 0, user: 'user-1', nickname: '카카오친구' };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://provider');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/authorize') {
      const p = url.searchParams;
      if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('state'))
        return send(400, { error: 'invalid_request' });
      const code = randomBytes(12).toString('hex');
      codes.set(code, { challenge: p.get('code_challenge')!, redirectUri: p.get('redirect_uri')!, user: behaviour.user });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state')!);
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let raw = '';
      for await (const c of req) raw += c;
      const form = new URLSearchParams(raw);
      if (behaviour.tokenDelayMs) await new Promise((r) => setTimeout(r, behaviour.tokenDelayMs));
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      // A code issued without PKCE (the legacy client's own redirect) needs no verifier.
      const pkceOk = grant?.challenge ? grant.challenge === challenge : !form.get('code_verifier');
      if (!grant || grant.redirectUri !== form.get('redirect_uri') || !pkceOk) return send(400, { error: 'invalid_grant' });
      const token = randomBytes(12).toString('hex');
      tokens.set(token, grant.user);
      return send(200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
    }
    if (url.pathname === '/profile') {
      const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      if (!user) return send(401, { error: 'invalid_token' });
      return send(
        200,
        flavor === 'kakao'
          ? { id: Number(user.replace(/\D/g, '')) || 1, kakao_account: { profile: { nickname: behaviour.nickname } } }
          : { userId: user, displayName: behaviour.nickname },
      );
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const prefix = flavor.toUpperCase();
  return {
    behaviour,
    /** A code as the provider hands it to a client that ran the redirect itself, without PKCE. */
    issueCode(redirectUri: string): string {
      const code = randomBytes(12).toString('hex');
      codes.set(code, { challenge: '', redirectUri, user: behaviour.user });
      return code;
    },
    /** Settings that point the API at this stand-in. */
    env: {
      [`${prefix}_CLIENT_ID`]: `${flavor}-client`,
      [`${prefix}_CLIENT_SECRET`]: `${flavor}-secret`,
      [`${prefix}_AUTHORIZE_URL`]: `${base}/authorize`,
      [`${prefix}_TOKEN_URL`]: `${base}/token`,
      [`${prefix}_PROFILE_URL`]: `${base}/profile`,
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
