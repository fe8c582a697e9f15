import assert from 'node:assert/strict';
import type { TestApp } from '../../testing/harness.js';
import { httpClient, type Reply } from '../../testing/http.js';
import { PREDECESSOR_ERRORS } from './errors.js';

export const ORIGIN = 'https://web.mate.example';

/** A valid legacy carpool post for 2026-03-02 (the tests' service day). */
export const LEGACY_CARPOOL = {
  departureCoordinate: '수원역',
  latitude: 37.266,
  longitude: 127.0,
  departureTime: '2026-03-02T08:00:00',
  chatLink: 'https://open.kakao.com/o/mate',
  capacity: 2,
  cost: 0,
};

/** The web client: its paths, its headers, its refresh dance. */
export function legacyClient(t: TestApp, tokens: { access?: string; refresh?: string } = {}) {
  const call = httpClient(t.url);
  const session = { access: tokens.access ?? '', refresh: tokens.refresh ?? '' };
  const take = (res: Reply) => {
    const a = res.headers.get('authorization');
    const r = res.headers.get('refreshtoken');
    if (a) session.access = a.replace(/^Bearer /, '');
    if (r) session.refresh = r.replace(/^Bearer /, '');
    if (a) t.secrets.add(session.access).add(session.refresh);
    return res;
  };
  return {
    session,
    async send(method: string, path: string, body?: unknown, opts: { form?: FormData; withRefresh?: boolean } = {}) {
      const headers: Record<string, string> = { origin: ORIGIN };
      if (session.access) headers.authorization = `Bearer ${session.access}`;
      if (opts.withRefresh) headers.refreshtoken = `Bearer ${session.refresh}`;
      return take(await call(method, path, { body, headers, form: opts.form }));
    },
    /** What the client does: on 401, the same call again with its refresh token. */
    async request(method: string, path: string, body?: unknown, opts: { form?: FormData } = {}) {
      const first = await this.send(method, path, body, opts);
      return first.status === 401 ? this.send(method, path, body, { ...opts, withRefresh: true }) : first;
    },
  };
}

export type LegacyClient = ReturnType<typeof legacyClient>;

/** A predecessor success: HTTP 200 whatever happened, its body status and message. */
export function ok(res: Reply, message: string | RegExp, status: 'OK' | 'CREATED' = 'OK') {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.status, status);
  if (typeof message === 'string') assert.equal(res.body.message, message);
  else assert.match(res.body.message, message);
  return res.body.data;
}

/** A predecessor error body: exactly its four fields, no stack trace. */
export function legacyError(res: Reply, status: number, name: string, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body).sort(), ['code', 'message', 'name', 'status']);
  assert.equal(res.body.status, status);
  assert.equal(res.body.name, name);
  assert.equal(res.body.code, code);
  assert.match(res.body.message, /[가-힣]/, 'a Korean message');
  assert.doesNotMatch(JSON.stringify(res.body), /\bat \w+ \(|node_modules/, 'no stack trace');
}

/** The predecessor's answer for one of its codes, message included. */
export function predecessorError(res: Reply, code: keyof typeof PREDECESSOR_ERRORS) {
  const e = PREDECESSOR_ERRORS[code];
  legacyError(res, e.status, e.name, code);
  assert.ok(res.body.message.startsWith(e.message), res.body.message);
}
