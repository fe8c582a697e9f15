import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { testServices } from '../../testing/env.js';
import { newMember } from '../auth/fixtures.js';
import { GPS_SECRETS, JPEG_1x1, PNG_1x1, WEBP_1x1, imageForm, jpegWithMetadata } from './fixtures.js';

describe('images on S3 (MinIO)', () => {
  let t: TestApp;
  let s3: S3Client;
  /** This app's own upload directory: what it holds is what the app left there. */
  const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-files-test-'));
  before(async () => {
    t = await startTestApp({ env: { UPLOAD_TEMP_DIR: uploadDir } });
    const svc = testServices().s3;
    s3 = new S3Client({ region: svc.region, endpoint: svc.endpoint, forcePathStyle: true, credentials: svc });
  });
  after(async () => {
    s3.destroy();
    await t.close();
    fs.rmSync(uploadDir, { recursive: true, force: true });
  });

  const objectKeys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: t.bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  const exists = (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key })).then(
      () => true,
      () => false,
    );

  it('stores a PNG renamed .jpg as PNG, under a random key, readable through a presigned URL', async () => {
    const m = await newMember(t);
    const res = await m.call('POST', '/files', { form: imageForm(PNG_1x1, 'photo.jpg', 'profile', 'image/jpeg') });
    assert.equal(res.status, 201);
    assert.equal(res.body.contentType, 'image/png');
    assert.match(res.body.key, /^profile-[0-9a-f-]{36}\.png$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: res.body.key }));
    assert.equal(head.ContentType, 'image/png');
    const fetched = await fetch(res.body.url);
    assert.equal(fetched.status, 200);
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), PNG_1x1);
    const viaApi = await m.call('GET', `/files/${res.body.key}`);
    assert.equal(viaApi.status, 302);
    assert.match(viaApi.headers.get('location') ?? '', /X-Amz-Signature/);
  });

  it('accepts JPEG and WebP', async () => {
    const m = await newMember(t);
    assert.equal((await m.call('POST', '/files', { form: imageForm(JPEG_1x1, 'a.jpg', 'car') })).body.contentType, 'image/jpeg');
    assert.equal((await m.call('POST', '/files', { form: imageForm(WEBP_1x1, 'a.webp', 'car') })).body.contentType, 'image/webp');
  });

  it('refuses a text file named .png with 415, and stores nothing', async () => {
    const m = await newMember(t);
    const before = await objectKeys();
    const res = await m.call('POST', '/files', {
      form: imageForm(Buffer.from('just some text, not an image'), 'evil.png', 'profile', 'image/png'),
    });
    assert.equal(res.status, 415);
    assert.equal(res.body.code, 'REQUEST-004');
    assert.deepEqual(await objectKeys(), before);
  });

  it('refuses 5 MiB + 1 byte with 413, and stores nothing', async () => {
    const m = await newMember(t);
    const before = await objectKeys();
    const big = Buffer.concat([PNG_1x1, Buffer.alloc(5 * 1024 * 1024 + 1 - PNG_1x1.length)]);
    const res = await m.call('POST', '/files', { form: imageForm(big, 'big.png', 'profile') });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'REQUEST-003');
    assert.deepEqual(await objectKeys(), before);
    const exact = Buffer.concat([PNG_1x1, Buffer.alloc(5 * 1024 * 1024 - PNG_1x1.length)]);
    assert.equal((await m.call('POST', '/files', { form: imageForm(exact, 'max.png', 'profile') })).status, 201, 'exactly 5 MiB is fine');
  });

  it('needs a signed-in member and a purpose', async () => {
    const res = await fetch(`${t.url}/api/v1/files`, { method: 'POST', body: imageForm(PNG_1x1, 'a.png', 'profile') });
    assert.equal(res.status, 401);
    const m = await newMember(t);
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(PNG_1x1)]), 'a.png');
    assert.equal((await m.call('POST', '/files', { form })).body.code, 'REQUEST-001');
  });

  it('replacing a profile image removes the old object; the profile refers to the new one', async () => {
    const m = await newMember(t);
    const first = (await m.call('POST', '/files', { form: imageForm(PNG_1x1, 'a.png', 'profile') })).body.key;
    assert.equal((await m.call('PATCH', '/me', { body: { profileImageKey: first } })).status, 200);
    const second = (await m.call('POST', '/files', { form: imageForm(JPEG_1x1, 'b.jpg', 'profile') })).body.key;
    const me = await m.call('PATCH', '/me', { body: { profileImageKey: second } });
    assert.equal(me.status, 200);
    assert.match(me.body.profileImageUrl, new RegExp(second));
    assert.equal(await exists(first), false, 'the old object is gone');
    assert.equal(await exists(second), true);
  });

  it('replacing a car image removes the old object, and the update is not ACCOUNT-011', async () => {
    const m = await newMember(t);
    const first = (await m.call('POST', '/files', { form: imageForm(PNG_1x1, 'car.png', 'car') })).body.key;
    const created = await m.call('PUT', '/me/driver', {
      body: { carNumber: '12가3456', phoneNumber: '010-1111-2222', carImageKey: first },
    });
    assert.equal(created.status, 201);
    const second = (await m.call('POST', '/files', { form: imageForm(PNG_1x1, 'car2.png', 'car') })).body.key;
    const updated = await m.call('PUT', '/me/driver', {
      body: { carNumber: '34나5678', phoneNumber: '010-1111-2222', carImageKey: second },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.driver.carNumber, '34나5678');
    assert.equal(await exists(first), false);
  });

  it("a member cannot attach another member's upload, nor an upload of the other purpose", async () => {
    const owner = await newMember(t);
    const other = await newMember(t);
    const key = (await owner.call('POST', '/files', { form: imageForm(PNG_1x1, 'a.png', 'profile') })).body.key;
    const stolen = await other.call('PATCH', '/me', { body: { profileImageKey: key } });
    assert.equal(stolen.status, 404);
    assert.equal(stolen.body.code, 'S3-001');
    assert.equal(
      (await owner.call('PUT', '/me/driver', { body: { carNumber: '12가3456', phoneNumber: '010-1111-2222', carImageKey: key } })).body
        .code,
      'S3-001',
    );
    assert.equal(await exists(key), true, 'the owner keeps the file');
  });

  /** Runs `calls` and reports whether anything was created in the upload directory meanwhile, and what is left. */
  async function watchUploads(calls: () => Promise<void>): Promise<{ touched: boolean; left: string[] }> {
    let touched = false;
    const watcher = fs.watch(uploadDir, () => (touched = true));
    try {
      await calls();
      await sleep(100); // inotify events arrive after the answer
    } finally {
      watcher.close();
    }
    return { touched, left: fs.readdirSync(uploadDir) };
  }
  const upload = (form: FormData, headers: Record<string, string> = {}, target = '/api/v1/files') =>
    fetch(`${t.url}${target}`, { method: 'POST', body: form, headers });

  it('an upload without a valid token is refused before its body is read: nothing reaches the upload directory', async () => {
    const seen = await watchUploads(async () => {
      for (const target of ['/api/v1/files', '/file/upload']) {
        assert.equal((await upload(imageForm(PNG_1x1, 'a.png', 'profile'), {}, target)).status, 401);
        assert.equal((await upload(imageForm(PNG_1x1, 'a.png', 'profile'), { authorization: 'Bearer not.a.token' }, target)).status, 401);
      }
    });
    assert.deepEqual(seen, { touched: false, left: [] });
  });

  it('every other upload, refused or stored, leaves nothing behind in the upload directory it used', async () => {
    const m = await newMember(t);
    const auth = { authorization: `Bearer ${m.accessToken}` };
    const seen = await watchUploads(async () => {
      assert.equal((await upload(imageForm(PNG_1x1, 'a.png', 'x' as 'car'), auth)).status, 400, 'a bad purpose');
      assert.equal((await upload(imageForm(Buffer.from('text'), 'a.png', 'car'), auth)).status, 415, 'not an image');
      const two = imageForm(PNG_1x1, 'a.png', 'car');
      two.append('file', new Blob([new Uint8Array(PNG_1x1)]), 'b.png');
      assert.equal((await upload(two, auth)).status, 413, 'a second file');
      const long = imageForm(PNG_1x1, 'a.png', 'car');
      long.set('note', 'x'.repeat(5000));
      assert.equal((await upload(long, auth)).status, 413, 'a text field past its 4 KiB');
      assert.equal((await upload(imageForm(PNG_1x1, 'a.png', 'car'), auth)).status, 201, 'stored');
      assert.equal((await upload(imageForm(PNG_1x1, 'a.png', 'car'), auth, '/file/upload')).status, 200, 'stored (legacy)');
    });
    assert.deepEqual(seen, { touched: true, left: [] });
  });

  it('accepts a file part without a Content-Type of its own (RFC 7578): the type is read from the bytes', async () => {
    const m = await newMember(t);
    const boundary = 'mate-boundary-7578';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nprofile\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo"\r\n\r\n`),
      PNG_1x1,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${t.url}/api/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${m.accessToken}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal(((await res.json()) as { contentType: string }).contentType, 'image/png');
  });

  it('stores a photo without its EXIF (GPS included), XMP or comments, still a whole JPEG', async () => {
    const m = await newMember(t);
    const res = await m.call('POST', '/files', { form: imageForm(jpegWithMetadata(), 'gps.jpg', 'profile', 'image/jpeg') });
    assert.equal(res.status, 201);
    const object = await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: res.body.key }));
    const stored = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(res.body.size, stored.length);
    for (const text of ['Exif', ...Object.values(GPS_SECRETS)]) assert.ok(!stored.includes(text), `no ${text} in what is stored`);
    assert.deepEqual([...stored.subarray(0, 2)], [0xff, 0xd8], 'SOI');
    assert.deepEqual([...stored.subarray(-2)], [0xff, 0xd9], 'EOI');
    assert.ok(stored.includes(Buffer.from([0xff, 0xc2])), 'its frame header (SOF2)');
  });

  it('an unknown key is S3-001', async () => {
    const res = await fetch(`${t.url}/api/v1/files/profile-00000000-0000-4000-8000-000000000000.png`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'S3-001');
  });
});

describe('images on local disk (embedded mode)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ database: 'sqlite' });
  });
  after(() => t.close());

  it('serves the bytes through the API', async () => {
    const m = await newMember(t);
    const up = await m.call('POST', '/files', { form: imageForm(WEBP_1x1, 'w.webp', 'profile') });
    assert.equal(up.status, 201);
    assert.match(up.body.url, /\/api\/v1\/files\/profile-/);
    const res = await fetch(`${t.url}/api/v1/files/${up.body.key}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/webp');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), WEBP_1x1);
  });
});
