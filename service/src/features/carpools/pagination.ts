import type { ZodType } from 'zod';
import { z } from '../../platform/http/zod.js';
import { AppError } from '../../platform/http/errors.js';
import '../../platform/http/routes.js'; // extends zod with .openapi()

/**
 * Two kinds of pagination, both with a bounded page size (a larger one is
 * 400 REQUEST-001) and an order that ends in a unique column, so ties never
 * reorder between pages:
 *  - cursor pages for what members scroll (today's lists, history): stable
 *    while rows are added, `nextCursor` is null on the last page;
 *  - numbered pages with a total for what administrators list.
 */
export const MAX_CURSOR_PAGE_SIZE = 50;
export const MAX_ADMIN_PAGE_SIZE = 100;

export const cursorPageQuery = z.object({
  size: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CURSOR_PAGE_SIZE)
    .default(20)
    .openapi({ description: `items per page, 1–${MAX_CURSOR_PAGE_SIZE} (default 20)` }),
  cursor: z
    .string()
    .max(200)
    .regex(/^[\w-]+$/, 'a nextCursor from the previous page')
    .refine((c) => cursorKey(c) !== undefined, 'a nextCursor this list gave out (an opaque value)')
    .optional()
    .openapi({ description: 'the `nextCursor` of the previous page; absent for the first page' }),
});

export const numberedPageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).openapi({ description: 'page number, from 1' }),
  size: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ADMIN_PAGE_SIZE)
    .default(20)
    .openapi({ description: `items per page, 1–${MAX_ADMIN_PAGE_SIZE} (default 20)` }),
});

export function cursorPage<T extends ZodType>(item: T, name: string) {
  return z
    .object({ items: z.array(item), nextCursor: z.string().nullable().openapi({ description: 'null on the last page' }) })
    .openapi(name);
}

export function numberedPage<T extends ZodType>(item: T, name: string) {
  return z.object({ items: z.array(item), page: z.number().int(), size: z.number().int(), total: z.number().int() }).openapi(name);
}

/** Opaque cursors: base64url JSON of the last item's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, or undefined for a string that is no cursor at all. */
function cursorKey(cursor: string): unknown[] | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

export function decodeCursor(cursor: string, check: (key: unknown[]) => boolean): unknown[] {
  const key = cursorKey(cursor);
  if (!key || !check(key)) throw new AppError('REQUEST-001', 'cursor: not a cursor this list gave out');
  return key;
}

export const offsetOf = (p: { page: number; size: number }) => (p.page - 1) * p.size;
