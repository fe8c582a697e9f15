/**
 * Stateful fuzzing of the account rules: fast-check generates sequences of
 * calls on one fresh member (sign-in with the right or a wrong password, v1
 * password changes, the legacy checkPassword, reset links asked for and used
 * in any order, bans and unbans by an admin, availability look-ups from a few
 * addresses, sign-ups with look-alikes of the member's names) and runs each
 * against the app and a model of what it must answer. The model is the rule
 * set in a few lines:
 *   - every wrong password, wherever it is tried, counts against the account;
 *     after MAX_FAILURES, every try is 429, the right password included;
 *   - a banned account answers ACCOUNT-006 to the right and the wrong password;
 *   - a reset link works once, and only while the password it was sent for
 *     is still the password;
 *   - availability look-ups are limited per client address;
 *   - a login id or email in another case, a nickname that reads the same,
 *     is taken; one with an invisible character is refused.
 * A failing sequence is shrunk to a short one and printed with its seed.
 *
 *   FUZZ_RUNS=50   sequences on each database (default; up to 30 calls each, ~15 s in all)
 *   FUZZ_SEED=n    replay a run
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newMember, type TestMember } from '../../service/src/features/auth/fixtures.js';
import { quickMembers } from '../../service/src/features/carpools/fixtures.js';
import { legacyClient } from '../../service/src/features/legacy/fixtures.js';
import { startTestApp, type TestApp } from '../../service/src/testing/harness.js';
import { httpClient, type Call, type Reply } from '../../service/src/testing/http.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const MAX_CALLS = 30;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_FAILURES = 3;
const LOOKUPS_PER_MINUTE = 3;
const ADDRESSES = 2;

interface Model {
  password: string;
  failures: number;
  banned: boolean;
  /** Whether the session the sequence started with still stands. */
  sessionAlive: boolean;
  /** Bumped at every password change: a link is good only for the version it was sent at. */
  passwordVersion: number;
  links: Array<{ token: string; version: number; used: boolean }>;
  lookups: number[];
}

interface Real {
  t: TestApp;
  call: Call;
  member: TestMember;
  admin: TestMember;
  /** This sequence's own addresses, so look-up budgets never carry over between sequences. */
  address: (i: number) => string;
  mailsSeen: number;
}

const limited = (m: Model) => m.failures >= MAX_FAILURES;
const WRONG = 'wrong4guess';

function expectCode(res: Reply, code: string, what: string) {
  assert.equal(res.body?.code, code, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The answer a call that needs the sequence's session gets once that session is gone. */
function expectSessionRefusal(m: Model, res: Reply, what: string): boolean {
  if (m.sessionAlive) return false;
  expectCode(res, m.banned ? 'ACCOUNT-006' : 'AUTH-001', what);
  return true;
}

/** A password tried: the same outcome rules for sign-in, v1 change and legacy check. */
function expectPasswordOutcome(m: Model, res: Reply, right: boolean, what: string, okStatus: number) {
  if (limited(m)) {
    assert.equal(res.status, 429, `${what} while limited: ${res.status} ${JSON.stringify(res.body)}`);
    return false;
  }
  if (!right) {
    m.failures++;
    expectCode(res, 'ACCOUNT-008', what);
    return false;
  }
  assert.equal(res.status, okStatus, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return true;
}

class SignIn implements fc.AsyncCommand<Model, Real> {
  constructor(readonly right: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const password = this.right ? m.password : WRONG;
    const res = await r.call('POST', '/auth/signin', { body: { loginId: r.member.loginId, password } });
    if (!limited(m) && m.banned) {
      if (!this.right) m.failures++;
      expectCode(res, 'ACCOUNT-006', `${this}`);
      return;
    }
    if (expectPasswordOutcome(m, res, this.right, `${this}`, 200)) {
      r.member.accessToken = res.body.accessToken;
      r.t.secrets.add(res.body.accessToken).add(res.body.refreshToken);
      m.sessionAlive = true;
    }
  }
  toString = () => `signIn(${this.right ? 'right' : 'wrong'})`;
}

class ChangePassword implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly right: boolean,
    readonly legacy: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const current = this.right ? m.password : WRONG;
    const res = this.legacy
      ? await legacyClient(r.t, { access: r.member.accessToken }).send('POST', '/api/member/checkPassword', { password: current })
      : await r.member.call('PUT', '/me/password', { body: { currentPassword: current, newPassword: `${m.password}x` } });
    if (expectSessionRefusal(m, res, `${this}`)) return;
    if (expectPasswordOutcome(m, res, this.right, `${this}`, this.legacy ? 200 : 204) && !this.legacy) {
      m.password = `${m.password}x`;
      m.passwordVersion++;
      r.t.secrets.add(m.password);
    }
  }
  toString = () => `${this.legacy ? 'legacyCheckPassword' : 'changePassword'}(${this.right ? 'right' : 'wrong'})`;
}

class ForgotPassword implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    const res = await r.call('POST', '/auth/password/forgot', { body: { loginId: r.member.loginId, email: r.member.email } });
    assert.equal(res.status, 202);
    await r.t.services.mail.idle();
    const mails = r.t.smtp.messages.filter((x) => JSON.stringify(x.to).includes(`${r.member.loginId}@`));
    const fresh = mails.slice(r.mailsSeen);
    r.mailsSeen = mails.length;
    // A banned member gets no link.
    assert.equal(fresh.length, m.banned ? 0 : 1, `${this}: ${fresh.length} mails`);
    for (const mail of fresh) {
      const token = decodeURIComponent(/[?&]token=([\w%-]+)/.exec(mail.text ?? '')![1]!);
      r.t.secrets.add(token);
      m.links.push({ token, version: m.passwordVersion, used: false });
    }
  }
  toString = () => 'forgotPassword';
}

class ResetPassword implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.links.length > 0;
  async run(m: Model, r: Real) {
    const link = m.links[this.pick % m.links.length]!;
    const password = `reset${m.passwordVersion}${this.pick}pw`;
    const res = await r.call('POST', '/auth/password/reset', { body: { token: link.token, password } });
    if (link.used || link.version !== m.passwordVersion) {
      expectCode(res, 'AUTH-010', `${this} (${link.used ? 'used' : 'stale'})`);
      return;
    }
    assert.equal(res.status, 204, `${this}: ${res.status} ${JSON.stringify(res.body)}`);
    link.used = true;
    m.password = password;
    m.passwordVersion++;
    m.sessionAlive = false;
    r.t.secrets.add(password);
  }
  toString = () => `resetPassword(link ${this.pick})`;
}

class Ban implements fc.AsyncCommand<Model, Real> {
  constructor(readonly banned: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const res = await r.admin.call('PUT', `/admin/members/${r.member.id}/ban`, { body: { banned: this.banned } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    m.banned = this.banned;
    if (this.banned) m.sessionAlive = false;
  }
  toString = () => (this.banned ? 'ban' : 'unban');
}

type NameVariant = 'loginId' | 'email' | 'nickname' | 'invisible';

class LookUp implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly address: number,
    readonly field: 'loginId' | 'email' | 'nickname',
    readonly disguise: (s: string) => string,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const value = this.disguise(r.member[this.field]);
    const res = await r.call('GET', `/auth/availability?${this.field}=${encodeURIComponent(value)}`, {
      headers: { 'x-forwarded-for': r.address(this.address) },
    });
    if (m.lookups[this.address]! >= LOOKUPS_PER_MINUTE) {
      expectCode(res, 'RATE-001', `${this}`);
      return;
    }
    m.lookups[this.address]!++;
    assert.equal(res.status, 200, `${this} ${value}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.available, false, `${this}: ${JSON.stringify(value)} reads as the member's own`);
  }
  toString = () => `lookUp(${this.field} from address ${this.address})`;
}

class SignUpAlike implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly variant: NameVariant,
    readonly disguise: (s: string) => string,
  ) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    const n = Math.random().toString(36).slice(2, 10);
    const body = { loginId: `alike${n}`, email: `alike${n}@example.com`, nickname: `alike${n}`, password: 'alike2pass' };
    const res =
      this.variant === 'invisible'
        ? await r.call('POST', '/auth/signup', { body: { ...body, nickname: this.disguise(`n${n}`) } })
        : await r.call('POST', '/auth/signup', { body: { ...body, [this.variant]: this.disguise(r.member[this.variant]) } });
    const code = { loginId: 'ACCOUNT-003', email: 'ACCOUNT-002', nickname: 'ACCOUNT-004', invisible: 'REQUEST-001' }[this.variant];
    expectCode(res, code, `${this}`);
  }
  toString = () => `signUpAlike(${this.variant})`;
}

/** Ways to write a name so that it still reads the same. */
const HOMOGLYPHS: Record<string, string[]> = {
  a: ['а', 'ａ'],
  e: ['е', 'ｅ'],
  o: ['о', 'ο', 'ｏ'],
  p: ['р'],
  c: ['с'],
  x: ['х'],
  i: ['і', 'ｉ'],
  m: ['rn'],
};
const lookAlikeArb = fc
  .record({ swaps: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), upper: fc.boolean(), spaced: fc.boolean() })
  .map(({ swaps, upper, spaced }) => (s: string) => {
    const out = [...(upper ? s.toUpperCase() : s)];
    const swappable = out.flatMap((ch, i) => (HOMOGLYPHS[ch.toLowerCase()] ? [i] : []));
    for (const n of swappable.length ? swaps : []) {
      const i = swappable[n % swappable.length]!;
      const options = HOMOGLYPHS[out[i]!.toLowerCase()];
      if (options) out[i] = options[n % options.length]!;
    }
    if (spaced) out.splice(1, 0, ' ');
    return out.join('');
  });
// Login ids and emails only change case (their schemas allow nothing else); nicknames get look-alikes.
const caseArb = fc.boolean().map((upper) => (s: string) => (upper ? s.toUpperCase() : s.replace(/^./, (c) => c.toUpperCase())));
const invisibleArb = fc
  .constantFrom('\u200b', '\u200d', '\u2060', '\u202e', '\u0007', '\u3164', '\ufeff')
  .map((ch) => (s: string) => `${s.slice(0, 2)}${ch}${s.slice(2)}`);

const commands = [
  fc.boolean().map((right) => new SignIn(right)),
  fc.tuple(fc.boolean(), fc.boolean()).map(([right, legacy]) => new ChangePassword(right, legacy)),
  fc.constant(new ForgotPassword()),
  fc.nat(20).map((pick) => new ResetPassword(pick)),
  fc.boolean().map((banned) => new Ban(banned)),
  fc.tuple(fc.nat(ADDRESSES - 1), fc.constantFrom('loginId' as const, 'email' as const), caseArb).map(([a, f, d]) => new LookUp(a, f, d)),
  fc.tuple(fc.nat(ADDRESSES - 1), lookAlikeArb).map(([a, d]) => new LookUp(a, 'nickname', d)),
  fc.tuple(fc.constantFrom('loginId' as const, 'email' as const), caseArb).map(([v, d]) => new SignUpAlike(v, d)),
  lookAlikeArb.map((d) => new SignUpAlike('nickname', d)),
  invisibleArb.map((d) => new SignUpAlike('invisible', d)),
];

for (const database of ['mysql', 'sqlite'] as const)
  describe(`account rules under generated call sequences (${database})`, () => {
    let t: TestApp;
    let admin: TestMember;
    let sequence = 0;
    let calls = 0;
    before(async () => {
      t = await startTestApp({
        database,
        env: {
          LOG_LEVEL: 'warn',
          SIGNIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES),
          SIGNIN_MAX_FAILURES_PER_CLIENT: '10000',
          AVAILABILITY_CHECKS_PER_MINUTE: String(LOOKUPS_PER_MINUTE),
          MAIL_MAX_PER_HOUR: '1000',
          TRUSTED_PROXIES: '127.0.0.1',
        },
      });
      admin = (await quickMembers(t, 1, { admin: true }))[0]!;
    });
    after(() => t?.close());

    it('every sequence is answered as the model says', { timeout: 600_000 }, async () => {
      console.log(`account sequences (${database}): FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_CALLS, size: 'max' }), async (cmds) => {
          const s = ++sequence;
          const member = await newMember(t, { prefix: 'seq' });
          const real: Real = {
            t,
            call: httpClient(t.url),
            member: member,
            admin,
            address: (i) => `10.${(s >> 8) & 255}.${s & 255}.${i + 1}`,
            mailsSeen: 0,
          };
          const model: Model = {
            password: member.password,
            failures: 0,
            banned: false,
            sessionAlive: true,
            passwordVersion: 0,
            links: [],
            lookups: Array.from({ length: ADDRESSES }, () => 0),
          };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          calls += [...cmds].length;
        }),
        { numRuns: RUNS, seed: SEED },
      );
      console.log(`account sequences (${database}): ${sequence} sequences, ${calls} calls`);
    });
  });
