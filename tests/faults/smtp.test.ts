/**
 * The mail server refuses (554 on MAIL FROM), or is not there at all (a
 * closed port). Expected: the recovery calls still answer 202 at once (their
 * answer never depends on the mail: no account probing); the mail queue
 * retries (1 s, 4 s, 16 s) and then logs the mail as undelivered and counts
 * it in mate_mail_sends_total{outcome="failed"}; nothing else is affected;
 * once the server accepts again, the next mail goes out.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { httpClient } from '../../service/src/testing/http.js';
import { assertFast, metric, startRig, summary, timed, Traffic, within, type Rig } from './support.js';

const FAILED = /^mate_mail_sends_total\{outcome="failed"\}/;
const SENT = /^mate_mail_sends_total\{outcome="sent"\}/;

/**
 * A loopback port that refuses connections and stays refusing: one below the
 * kernel's ephemeral range, so no other test's listen(0) can take it meanwhile
 * and the client's own source port can never be it (a connection to a free
 * ephemeral port can connect to itself and then wait for a greeting).
 */
async function closedPort(): Promise<number> {
  const refuses = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
  for (let port = 1; port < 1024; port++) if (await refuses(port)) return port;
  throw new Error('every port below 1024 on 127.0.0.1 answers');
}

async function recoveryCallsAnswer202(rig: Rig) {
  const { t, member } = rig;
  const call = httpClient(t.url);
  const traffic = new Traffic(rig, 3, 30);
  traffic.start();
  const failedBefore = await metric(t, FAILED);
  const forgot = await timed(() => call('POST', '/auth/password/forgot', { body: { loginId: member.loginId, email: member.email } }));
  assert.equal(forgot.value.status, 202, JSON.stringify(forgot.value.body));
  const forgotId = await timed(() => call('POST', '/auth/login-id/forgot', { body: { email: member.email } }));
  assert.equal(forgotId.value.status, 202, JSON.stringify(forgotId.value.body));
  assert.ok(forgot.ms < 3_000 && forgotId.ms < 3_000, `the calls waited for the mail: ${forgot.ms} ms, ${forgotId.ms} ms`);

  // Three retries each (1 s, 4 s, 16 s), then given up: about 21 s.
  const gaveUp = await within(40_000, 'the mail queue gives up on both mails and counts them', async () => {
    return (await metric(t, FAILED)) >= failedBefore + 2;
  }).finally(() => traffic.stop());
  const lines = t.logs.join('');
  assert.ok((lines.match(/mail delivery failed; retrying/g) ?? []).length >= 6, 'each mail was retried three times');
  assert.ok((lines.match(/mail could not be delivered/g) ?? []).length >= 2, 'each undelivered mail is logged');
  assert.ok(
    traffic.answers.every((a) => (a.status >= 200 && a.status < 300) || a.code === 'MATE-002'),
    `nothing else needs mail: ${JSON.stringify(summary(traffic.answers))}`,
  );
  assertFast(traffic.answers, 3_000, 'while mail fails');
  return { forgotMs: forgot.ms, forgotIdMs: forgotId.ms, gaveUp };
}

describe('SMTP refusing or away', { concurrency: true }, () => {
  const rigs: Rig[] = [];
  after(() => Promise.all(rigs.map((r) => r.close())));

  it(
    'a server that refuses: 202 at once, retries, then logged and counted as failed; delivered again once it accepts',
    { timeout: 90_000 },
    async () => {
      const rig = await startRig({ riders: 10, carpools: 3 });
      rigs.push(rig);
      rig.smtp.refusing = true;
      const r = await recoveryCallsAnswer202(rig);
      assert.equal(rig.smtp.messages.length, 0);

      rig.smtp.refusing = false;
      const sentBefore = await metric(rig.t, SENT);
      const again = await httpClient(rig.t.url)('POST', '/auth/login-id/forgot', { body: { email: rig.member.email } });
      assert.equal(again.status, 202);
      await rig.smtp.waitFor(rig.member.email, 10_000);
      await within(5_000, 'counted as sent', async () => (await metric(rig.t, SENT)) >= sentBefore + 1);
      console.log(
        `smtp refusing: recovery calls answered 202 in ${r.forgotMs} and ${r.forgotIdMs} ms; both mails given up and counted after ${r.gaveUp} ms`,
      );
    },
  );

  it('a server that is not there (closed port): the same', { timeout: 90_000 }, async () => {
    const rig = await startRig({ riders: 10, carpools: 3, env: { SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` } });
    rigs.push(rig);
    const r = await recoveryCallsAnswer202(rig);
    console.log(
      `smtp away: recovery calls answered 202 in ${r.forgotMs} and ${r.forgotIdMs} ms; both mails given up and counted after ${r.gaveUp} ms`,
    );
  });
});
