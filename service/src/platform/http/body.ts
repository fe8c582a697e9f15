import fs from 'node:fs/promises';
import path from 'node:path';
import type Koa from 'koa';
import type { RouterMiddleware } from '@koa/router';
import { koaBody } from 'koa-body';
import { z } from './zod.js';
import { AppError } from './errors.js';

/**
 * Reading request bodies: the media type and content coding are checked
 * before a byte is read, and every file a multipart body brings is removed
 * when the call ends, whatever its outcome.
 */

/**
 * Content codings a JSON body may arrive in (RFC 9110 §8.4), as other JSON
 * APIs accept them (body-parser, Google APIs): a client may compress a large
 * body. The inflated size counts against the JSON limit, so a small
 * compressed body cannot unpack into a large one.
 */
const JSON_CODINGS = ['gzip', 'deflate', 'br'];
/** Text fields of a multipart body (a purpose and the like, never a file): how many, and their bytes in all. */
const MAX_TEXT_FIELDS = 8;
const MAX_TEXT_BYTES = 4 * 1024;

/** A file part of a multipart body, as the handler receives it (removed when the call ends). */
export interface UploadedFile {
  filepath: string;
  size: number;
}

/** The schema of a file part: the document shows it as binary, its Content-Type optional. */
export const uploadedFile = z
  .custom<UploadedFile>((v) => !!v && typeof v === 'object' && 'filepath' in v, 'a file part')
  .openapi({
    type: 'string',
    format: 'binary',
    description: 'a file part; its Content-Type is optional (RFC 7578 §4.4) and not relied on: the type is read from the bytes',
  });

/** The OpenAPI encoding of a multipart body: any Content-Type, or none, for its file parts. */
export function multipartEncoding(schema: z.ZodType): Record<string, { contentType: string }> | undefined {
  if (!(schema instanceof z.ZodObject)) return undefined;
  const files = Object.entries(schema.shape as Record<string, unknown>).filter(([, field]) => field === uploadedFile);
  return files.length ? Object.fromEntries(files.map(([name]) => [name, { contentType: '*/*' }])) : undefined;
}

function requireMediaType(ctx: Koa.Context, type: string): void {
  if (!ctx.is(type)) throw new AppError('REQUEST-004', `send the body as ${type}`);
}

/**
 * The body's content coding is identity or one of `accepted`; any other is 415 naming those
 * (and `Accept-Encoding`, RFC 7694 §3). Codings are case-insensitive and x-gzip is gzip
 * (RFC 9110 §8.4.1); the header is rewritten to the normalised name because the JSON parser
 * reads it itself, exactly.
 */
function requireCoding(ctx: Koa.Context, accepted: string[]): void {
  const given = (ctx.get('Content-Encoding') || 'identity').trim().toLowerCase();
  const coding = given === 'x-gzip' ? 'gzip' : given;
  if (coding !== 'identity' && !accepted.includes(coding)) {
    const supported = accepted.length ? accepted.join(', ') : 'identity';
    throw new AppError('REQUEST-004', `this Content-Encoding is not accepted here; send the body as ${supported}`, {
      'Accept-Encoding': supported,
    });
  }
  ctx.req.headers['content-encoding'] = coding;
}

/** A JSON body (identity or one of JSON_CODINGS), at most `limitBytes` once inflated. */
export function jsonBody(limitBytes: number): RouterMiddleware {
  const parse = koaBody({
    json: true,
    jsonStrict: true,
    jsonLimit: limitBytes,
    urlencoded: false,
    text: false,
    multipart: false,
    onError: (err, ctx) => {
      // The parser's own errors carry an HTTP status (400, 413, 415); one without is the
      // decompressor's: the body is not the coding it claims, which is the client's error.
      const coding = ctx.get('Content-Encoding');
      if (coding !== 'identity' && !('status' in err)) throw new AppError('REQUEST-002', `the body is not valid ${coding} data`);
      throw err;
    },
  });
  return (ctx, next) => {
    requireMediaType(ctx, 'application/json');
    requireCoding(ctx, JSON_CODINGS);
    return parse(ctx, next);
  };
}

/**
 * A multipart/form-data body with at most one file of at most `fileBytes`, written to a
 * directory of its own under `uploadDir`, removed with all it holds when the call ends
 * (so a part the parser had begun when the body failed goes too). Uncompressed: the
 * images it carries are compressed already.
 */
export function multipartBody(limits: { fileBytes: number; uploadDir: string }): RouterMiddleware {
  return async (ctx, next) => {
    requireMediaType(ctx, 'multipart/form-data');
    requireCoding(ctx, []);
    const dir = await fs.mkdtemp(path.join(limits.uploadDir, 'mate-upload-'));
    try {
      await koaBody({
        multipart: true,
        json: false,
        urlencoded: false,
        text: false,
        formidable: {
          uploadDir: dir,
          maxFiles: 1,
          maxFileSize: limits.fileBytes,
          maxFields: MAX_TEXT_FIELDS,
          maxFieldsSize: MAX_TEXT_BYTES,
          // A part with a filename is a file even without a Content-Type (optional in RFC 7578);
          // formidable would read it as a text field.
          onPart: (part, handle) => {
            if (typeof part.originalFilename === 'string' && !part.mimetype) part.mimetype = 'application/octet-stream';
            handle(part);
          },
        },
      })(ctx, next);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
}
