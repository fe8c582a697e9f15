import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMailer } from './index.js';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp.js';

const mail = { to: 'rider@example.com', subject: '카풀 알림', text: '내일 아침 8시 출발', html: '<p>내일 아침 8시 출발</p>' };

describe('mailer', () => {
  let sink: SmtpSink;
  after(() => sink?.close());

  it('delivers over SMTP with Korean subject and both bodies intact', async () => {
    sink = await startSmtpSink();
    const mailer = createMailer({ smtpUrl: sink.url, outboxDir: '/nonexistent', from: 'MATE <no-reply@mate.example>' });
    await mailer.send(mail);
    mailer.close();
    const got = await sink.waitFor('rider@example.com');
    assert.equal(got.subject, '카풀 알림');
    assert.equal(got.text?.trim(), '내일 아침 8시 출발');
    assert.match(String(got.html), /내일 아침 8시 출발/);
  });

  it('fails (does not hang) when the SMTP server refuses', async () => {
    const refusing = await startSmtpSink({ refuse: () => true });
    const mailer = createMailer({ smtpUrl: refusing.url, outboxDir: '/nonexistent', from: 'no-reply@mate.example' });
    await assert.rejects(mailer.send(mail));
    mailer.close();
    await refusing.close();
  });

  it('writes to the outbox folder in the embedded mode', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-outbox-'));
    const mailer = createMailer({ outboxDir: dir, from: 'no-reply@mate.example' });
    await mailer.send(mail);
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(fs.readFileSync(path.join(dir, files[0]!), 'utf8'), /Subject: =\?UTF-8\?/);
  });
});
