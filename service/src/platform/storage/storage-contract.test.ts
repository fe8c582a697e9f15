import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DiskStorage, S3Storage, type ObjectStorage } from './index.js';
import { testServices } from '../../testing/env.js';

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

function contract(name: string, make: () => Promise<{ storage: ObjectStorage; cleanup: () => Promise<void> }>) {
  describe(`ObjectStorage contract: ${name}`, () => {
    let storage: ObjectStorage;
    let cleanup: () => Promise<void>;
    before(async () => ({ storage, cleanup } = await make()));
    after(() => cleanup());

    it('stores, reads back, and deletes an object', async () => {
      const body = randomBytes(2048);
      await storage.put('images/a.png', body, 'image/png');
      assert.equal(await storage.exists('images/a.png'), true);
      const got = await storage.read('images/a.png');
      assert.ok(got);
      assert.equal(got.contentType, 'image/png');
      assert.deepEqual(await readAll(got.body), body);
      await storage.delete('images/a.png');
      assert.equal(await storage.exists('images/a.png'), false);
      assert.equal(await storage.read('images/a.png'), null);
    });

    it('answers its health check', async () => {
      await storage.ping();
    });
  });
}

contract('S3 (MinIO)', async () => {
  const svc = testServices();
  const bucket = `mate-contract-${randomBytes(4).toString('hex')}`;
  const storage = new S3Storage({ bucket, forcePathStyle: true, presignTtlSeconds: 60, ...svc.s3 });
  await (await storage.sdkClient()).send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    storage,
    cleanup: async () => {
      const listed = await (await storage.sdkClient()).send(new ListObjectsV2Command({ Bucket: bucket }));
      const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (objects.length)
        await (await storage.sdkClient()).send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
      await (await storage.sdkClient()).send(new DeleteBucketCommand({ Bucket: bucket }));
      storage.close();
    },
  };
});

contract('local disk (embedded mode)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-files-'));
  return { storage: new DiskStorage(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

describe('S3 read URLs', () => {
  it('are presigned and readable by a plain HTTP client, and expire', async () => {
    const svc = testServices();
    const bucket = `mate-presign-${randomBytes(4).toString('hex')}`;
    const storage = new S3Storage({ bucket, forcePathStyle: true, presignTtlSeconds: 1, ...svc.s3 });
    await (await storage.sdkClient()).send(new CreateBucketCommand({ Bucket: bucket }));
    try {
      await storage.put('k.png', Buffer.from('png-bytes'), 'image/png');
      const url = await storage.readUrl('k.png');
      assert.ok(url && url.includes('X-Amz-Signature'));
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'png-bytes');
      await new Promise((r) => setTimeout(r, 2_100));
      assert.equal((await fetch(url)).status, 403, 'an expired URL is refused');
      await storage.delete('k.png');
    } finally {
      await (await storage.sdkClient()).send(new DeleteBucketCommand({ Bucket: bucket }));
      storage.close();
    }
  });

  it('use the public base URL when one is configured', async () => {
    const storage = new DiskStorage(fs.mkdtempSync(path.join(os.tmpdir(), 'mate-pub-')), 'https://cdn.mate.example/img/');
    assert.equal(await storage.readUrl('a/b.png'), 'https://cdn.mate.example/img/a/b.png');
  });
});
