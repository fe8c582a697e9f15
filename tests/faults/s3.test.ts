/**
 * The object store (MinIO, S3) becomes unreachable under steady traffic.
 * Expected: uploads fail fast (< 3 s) with 503 SERVER-002, not a hang;
 * everything else keeps answering (image URLs are presigned locally, reading
 * an image is a redirect); /readyz stays ready (S3 is not part of readiness:
 * one failing call should not take every pod out); uploads work again within
 * 5 s of the store's return.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { imageForm, PNG_1x1 } from '../../service/src/features/files/fixtures.js';
import { newMember } from '../../service/src/features/auth/fixtures.js';
import { startTestApp } from '../../service/src/testing/harness.js';
import {
  assertFast,
  assertNoLostReservations,
  readyz,
  sleep,
  startBlackhole,
  startRig,
  summary,
  timed,
  Traffic,
  within,
  type Rig,
} from './support.js';

const OUTAGE_MS = Number(process.env.FAULT_S3_SECONDS ?? 5) * 1000;

describe('object store (S3) outage under load', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it('fails uploads fast with 503 SERVER-002, keeps everything else answering, and recovers by itself', { timeout: 120_000 }, async () => {
    const { t, member } = rig;
    const upload = () => member.call('POST', '/files', { form: imageForm(PNG_1x1, 'me.png', 'profile') });
    const before = await upload();
    assert.equal(before.status, 201, JSON.stringify(before.body));
    const key: string = before.body.key;

    const traffic = new Traffic(rig);
    traffic.start();
    await sleep(1_000);
    const cutAt = Date.now();
    rig.proxies.s3.cut();
    const during = await timed(upload);
    assert.equal(during.value.status, 503, JSON.stringify(during.value.body));
    assert.equal(during.value.body.code, 'SERVER-002');
    assert.ok(during.ms < 3_000, `the upload failed in ${during.ms} ms, not fast`);
    assert.equal((await readyz(t)).status, 200, 'S3 is not part of readiness');
    const me = await member.call('GET', '/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const read = await fetch(`${t.url}/api/v1/files/${key}`, { redirect: 'manual' });
    assert.equal(read.status, 302, 'reading an image is a redirect to a presigned URL: no call to the store');
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));

    const restoredAt = Date.now();
    rig.proxies.s3.restore();
    const uploadAfter = await within(5_000, 'uploads work again', async () => (await upload()).status === 201);
    await sleep(1_000);
    await traffic.stop();

    const outage = traffic.between(cutAt, restoredAt);
    assert.ok(outage.length >= 30, `too little traffic during the outage: ${JSON.stringify(summary(outage))}`);
    assert.ok(
      outage.every((a) => (a.status >= 200 && a.status < 300) || a.code === 'MATE-002'),
      `nothing else needs the store: ${JSON.stringify(summary(outage))}`,
    );
    assertFast(traffic.answers, 3_000, 'during and around the outage');
    const ledger = await assertNoLostReservations(rig, traffic);
    console.log(
      `s3 outage ${OUTAGE_MS} ms: upload 503 in ${during.ms} ms, uploads back ${uploadAfter} ms after the return; ${outage.length} other requests during it (${JSON.stringify(summary(outage))}); ${ledger.reserved} reservations acknowledged`,
    );
  });

  it(
    'fails uploads fast when the store accepts connections but never answers (hung S3, or a partition)',
    {
      timeout: 60_000,
    },
    async () => {
      const hole = await startBlackhole();
      const t = await startTestApp({ env: { S3_ENDPOINT: `http://127.0.0.1:${hole.port}` } });
      try {
        const m = await newMember(t);
        const t0 = Date.now();
        const res = await fetch(`${t.url}/api/v1/files`, {
          method: 'POST',
          headers: { authorization: `Bearer ${m.accessToken}` },
          body: imageForm(PNG_1x1, 'me.png', 'profile'),
          signal: AbortSignal.timeout(5_000),
        }).then(
          (r) => r.status,
          () => 0,
        );
        assert.equal(res, 503, `an upload while S3 hung: ${res || 'no answer'} after ${Date.now() - t0} ms`);
        assert.ok(Date.now() - t0 < 3_000);
      } finally {
        await hole.close();
        await t.close();
      }
    },
  );
});
