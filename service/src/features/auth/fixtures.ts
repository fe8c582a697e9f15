import { randomBytes } from 'node:crypto';
import type { TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';

export interface TestMember {
  id: number;
  loginId: string;
  email: string;
  nickname: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** Calls the API as this member. */
  call: Call;
}

let counter = 0;

/** Signs a new member up and in through the API; `admin` and `driver` are granted on the side. */
export async function newMember(t: TestApp, opts: { admin?: boolean; driver?: boolean; prefix?: string } = {}): Promise<TestMember> {
  const call = httpClient(t.url);
  const n = `${opts.prefix ?? 'm'}${++counter}${randomBytes(3).toString('hex')}`;
  const input = { loginId: n, email: `${n}@example.com`, nickname: `닉${n}`.slice(0, 20), password: `pw${n}secret1` };
  const up = await call('POST', '/auth/signup', { body: input });
  if (up.status !== 201) throw new Error(`signup failed: ${up.status} ${JSON.stringify(up.body)}`);
  if (opts.admin) await t.deps.db('members').where('id', up.body.id).update({ role: 'admin' });
  if (opts.driver) {
    const d = await call('PUT', '/me/driver', {
      token: (await call('POST', '/auth/signin', { body: { loginId: n, password: input.password } })).body.accessToken,
      body: { carNumber: '12가3456', phoneNumber: '010-1234-5678' },
    });
    if (d.status !== 201) throw new Error(`driver registration failed: ${d.status} ${JSON.stringify(d.body)}`);
  }
  const signin = await call('POST', '/auth/signin', { body: { loginId: n, password: input.password } });
  if (signin.status !== 200) throw new Error(`signin failed: ${signin.status} ${JSON.stringify(signin.body)}`);
  const accessToken: string = signin.body.accessToken;
  t.secrets.add(input.password).add(accessToken).add(signin.body.refreshToken);
  const member: TestMember = {
    id: up.body.id,
    ...input,
    accessToken,
    refreshToken: signin.body.refreshToken,
    call: (method, path, o = {}) => call(method, path, { token: member.accessToken, ...o }),
  };
  return member;
}
