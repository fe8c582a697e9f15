import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient, type Call } from '../../testing/http.js';
import { newMember } from '../auth/fixtures.js';
import { createPasswordHasher } from '../auth/passwords.js';
import { legacyClient } from '../legacy/fixtures.js';
import { seedDemoMembers } from './demo-seed.js';

const INVISIBLE = {
  'zero-width space': '출근\u200b왕',
  'zero-width joiner': 'a\u200db',
  'right-to-left override': 'nimda\u202e',
  'a control character': 'bell\u0007',
  'the Hangul filler': '\u3164',
  'a line separator': 'two\u2028lines',
  'a private-use character': 'x\ue000',
};

for (const database of ['mysql', 'sqlite'] as const) {
  describe(`nicknames, login ids and emails as people read them (${database})`, () => {
    let t: TestApp;
    let call: Call;
    before(async () => {
      t = await startTestApp({ database });
      call = httpClient(t.url);
    });
    after(() => t.close());

    let n = 0;
    const signup = (fields: Partial<Record<'loginId' | 'email' | 'nickname', string>>) => {
      n++;
      return call('POST', '/auth/signup', {
        body: { loginId: `reader${n}`, email: `reader${n}@example.com`, nickname: `독자${n}`, password: 'morning2ride', ...fields },
      });
    };

    it("the embedded mode's demo members are members like any: their nicknames and look-alikes are taken", async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-demo-'));
      try {
        const hasher = createPasswordHasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
        assert.ok(await seedDemoMembers(t.deps.db, hasher, dataDir, new Date()), 'seeded into the empty members table');
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
      for (const nickname of ['출근왕', '출근 왕', '관리자']) {
        assert.equal((await call('GET', `/auth/availability?nickname=${encodeURIComponent(nickname)}`)).body.available, false, nickname);
        assert.equal((await signup({ nickname })).body.code, 'ACCOUNT-004', nickname);
      }
    });

    it('refuses invisible characters in a nickname: sign-up, profile change and the legacy sign-up', async () => {
      const m = await newMember(t);
      const web = legacyClient(t);
      for (const [what, nickname] of Object.entries(INVISIBLE)) {
        const up = await signup({ nickname });
        assert.equal(up.status, 400, what);
        assert.equal(up.body.code, 'REQUEST-001', what);
        assert.equal((await m.call('PATCH', '/me', { body: { nickname } })).body.code, 'REQUEST-001', what);
        const legacy = await web.send('POST', '/api/member/signUp', {
          memberId: `legacy${n}`,
          email: `legacy${n}@example.com`,
          nickname,
          password: 'morning2ride',
        });
        assert.equal(legacy.status, 400, what);
      }
    });

    it('stores the NFKC form of a nickname: full-width letters become plain ones', async () => {
      const up = await signup({ nickname: 'ｆｕｌｌ１' });
      assert.equal(up.status, 201);
      assert.equal(up.body.nickname, 'full1');
    });

    it("a look-alike of another member's nickname (the admin's) is a duplicate, and availability says so", async () => {
      const admin = await signup({ nickname: 'Operator' });
      assert.equal(admin.status, 201);
      await t.deps.db('members').where('id', admin.body.id).update({ role: 'admin' });
      const web = legacyClient(t);
      for (const lookAlike of ['operator', 'OPERATOR', 'оperator', 'ореrаtоr', 'ｏｐｅｒａｔｏｒ', 'Opera tor', 'Opérator']) {
        const up = await signup({ nickname: lookAlike });
        assert.equal(up.body.code, 'ACCOUNT-004', lookAlike);
        assert.equal(up.status, 409, lookAlike);
        const free = await call('GET', `/auth/availability?nickname=${encodeURIComponent(lookAlike)}`);
        assert.equal(free.body.available, false, lookAlike);
        assert.equal((await web.send('POST', '/api/member/checkNickname', { nickname: lookAlike })).body.code, 'ACCOUNT-004', lookAlike);
      }
      const m = await newMember(t);
      assert.equal((await m.call('PATCH', '/me', { body: { nickname: 'оperator' } })).body.code, 'ACCOUNT-004');
      assert.equal((await signup({ nickname: 'Operators' })).status, 201, 'a different name is still free');
    });

    it('a login id and an email are one account whatever their case', async () => {
      assert.equal((await signup({ loginId: 'CaseRider', email: 'Case.Rider@Example.com' })).status, 201);
      assert.equal((await signup({ loginId: 'caserider' })).body.code, 'ACCOUNT-003');
      assert.equal((await signup({ email: 'case.rider@example.COM' })).body.code, 'ACCOUNT-002');
      assert.equal((await call('GET', '/auth/availability?email=CASE.RIDER%40example.com')).body.available, false);
      assert.equal((await call('GET', '/auth/availability?loginId=CASERIDER')).body.available, false);
      const signin = await call('POST', '/auth/signin', { body: { loginId: 'caseRIDER', password: 'morning2ride' } });
      assert.equal(signin.status, 200);
      assert.equal((await call('POST', '/auth/login-id/forgot', { body: { email: 'case.rider@EXAMPLE.com' } })).status, 202);
      const mail = await t.smtp.waitFor('Case.Rider@');
      assert.match(mail.text ?? '', /CaseRider/);
    });
  });
}
