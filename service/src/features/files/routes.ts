import fs from 'node:fs/promises';
import { z } from '../../platform/http/zod.js';
import { uploadedFile } from '../../platform/http/body.js';
import { route } from '../../platform/http/routes.js';
import { DEFAULT_PROFILE_SVG } from './default-profile.js';
import type { FilesService } from './service.js';
import { fileKeySchema } from '../members/schemas.js';

const storedFile = z
  .object({ key: z.string(), url: z.string(), contentType: z.enum(['image/jpeg', 'image/png', 'image/webp']), size: z.number().int() })
  .openapi('StoredFile');

export function filesRoutes(files: FilesService) {
  return [
    route({
      method: 'post',
      path: '/files',
      tag: 'files',
      summary: 'Upload a profile or car image (JPEG, PNG or WebP, detected from the bytes; at most 5 MiB)',
      access: 'member',
      status: 201,
      bodyType: 'multipart',
      body: z.object({
        purpose: z.enum(['profile', 'car']),
        file: uploadedFile,
      }),
      response: storedFile,
      errors: ['REQUEST-003', 'REQUEST-004'],
      handler: async ({ principal, body }) => files.upload(principal.id, body.purpose, await fs.readFile(body.file.filepath)),
    }),
    route({
      method: 'get',
      path: '/files/defaults/profile.svg',
      tag: 'files',
      summary: 'The profile image of members who set none (an SVG shipped with the API)',
      access: 'public',
      responseDescription: 'the SVG image',
      handler: ({ ctx }) => {
        ctx.type = 'image/svg+xml';
        ctx.set('Cache-Control', 'public, max-age=86400');
        // Web clients on another site show it in <img> and CSS backgrounds.
        ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
        return DEFAULT_PROFILE_SVG;
      },
    }),
    route({
      method: 'get',
      path: '/files/{key}',
      tag: 'files',
      summary: 'Read an image: a redirect to its presigned or public URL, or the bytes in the embedded mode',
      access: 'public',
      params: z.object({ key: fileKeySchema }),
      responseDescription: 'the image bytes (the embedded mode)',
      alsoResponds: { 302: { description: 'a redirect to the image', headers: { Location: 'its presigned or public URL' } } },
      errors: ['S3-001'],
      handler: async ({ params, ctx }) => {
        const found = await files.open(params.key);
        if ('redirect' in found) return ctx.redirect(found.redirect);
        ctx.type = found.object.contentType;
        ctx.length = found.object.size;
        ctx.set('Cache-Control', 'private, max-age=300');
        ctx.body = found.object.body;
      },
    }),
  ];
}
