import { randomUUID } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import type { AppDeps } from '../../app.js';
import { AppError } from '../../platform/http/errors.js';
import { API_PREFIX } from '../../platform/http/paths.js';
import type { StoredObject } from '../../platform/storage/index.js';
import { stripMetadata } from './metadata.js';

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const IMAGE_TYPES: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
/** `image`: uploaded through the legacy client, which does not say what for; fits either use. */
export type FilePurpose = 'profile' | 'car' | 'image';

export interface StoredFile {
  key: string;
  url: string;
  contentType: string;
  size: number;
}

/** Images members upload: the type comes from the bytes, never from the name; their metadata (GPS…) is not kept. */
export function createFilesService(deps: Pick<AppDeps, 'db' | 'storage' | 'clock' | 'config' | 'logger'>) {
  const { db, storage } = deps;

  async function urlFor(key: string): Promise<string> {
    return (await storage.readUrl(key)) ?? `${deps.config.PUBLIC_BASE_URL}${API_PREFIX}/files/${key}`;
  }

  return {
    urlFor,

    /** Where the default profile image is read (routes.ts serves it). */
    defaultProfileImageUrl: `${deps.config.PUBLIC_BASE_URL}${API_PREFIX}/files/defaults/profile.svg`,

    async upload(ownerId: number, purpose: FilePurpose, uploaded: Buffer): Promise<StoredFile> {
      if (uploaded.length > MAX_IMAGE_BYTES) throw new AppError('REQUEST-003', 'images are at most 5 MiB');
      const detected = await fileTypeFromBuffer(uploaded);
      const ext = detected && IMAGE_TYPES[detected.mime];
      if (!detected || !ext) throw new AppError('REQUEST-004', 'only JPEG, PNG and WebP images are accepted');
      const bytes = stripMetadata(uploaded, detected.mime);
      const key = `${purpose}-${randomUUID()}.${ext}`;
      await storage.put(key, bytes, detected.mime);
      try {
        await db('files').insert({
          object_key: key,
          owner_id: ownerId,
          purpose,
          content_type: detected.mime,
          size: bytes.length,
          created_at: deps.clock(),
        });
      } catch (err) {
        await storage.delete(key).catch(() => undefined);
        throw err;
      }
      return { key, url: await urlFor(key), contentType: detected.mime, size: bytes.length };
    },

    /** Checks that `key` is an upload of this member for this purpose (nobody attaches another's file). */
    async assertOwned(ownerId: number, key: string, purpose: 'profile' | 'car'): Promise<void> {
      const row = await db('files')
        .where({ object_key: key, owner_id: ownerId })
        .whereIn('purpose', [purpose, 'image'])
        .first('object_key');
      if (!row) throw new AppError('S3-001', `no ${purpose} image ${key} uploaded by you`);
    },

    /** Removes a replaced image. A failure is logged, never undoes the replacement. */
    async remove(key: string): Promise<void> {
      try {
        await storage.delete(key);
        await db('files').where({ object_key: key }).delete();
      } catch (err) {
        deps.logger.warn({ err, file: { key } }, 'could not remove a replaced image');
      }
    },

    /** Where a client reads an image: a URL to redirect to, or the bytes themselves (embedded mode). */
    async open(key: string): Promise<{ redirect: string } | { object: StoredObject }> {
      if (!(await db('files').where({ object_key: key }).first('object_key'))) throw new AppError('S3-001');
      const redirect = await storage.readUrl(key);
      if (redirect) return { redirect };
      const object = await storage.read(key);
      if (!object) throw new AppError('S3-001');
      return { object };
    },
  };
}

export type FilesService = ReturnType<typeof createFilesService>;
