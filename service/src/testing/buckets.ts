import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { testServices } from './env.js';

/** A fresh bucket on the test MinIO; `drop()` empties and deletes it. */
export async function createTestBucket(prefix = 'mate-t'): Promise<{ bucket: string; drop(): Promise<void> }> {
  const svc = testServices().s3;
  const bucket = `${prefix}-${randomBytes(4).toString('hex')}`;
  const s3 = new S3Client({
    region: svc.region,
    endpoint: svc.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: svc.accessKeyId, secretAccessKey: svc.secretAccessKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    async drop() {
      try {
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (objects.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        s3.destroy();
      }
    },
  };
}
