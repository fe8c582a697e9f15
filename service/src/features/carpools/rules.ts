import { z } from '../../platform/http/zod.js';
import '../../platform/http/routes.js'; // extends zod with .openapi()

/**
 * The rules of a carpool (domain.md, "Fields and validation"). The carpools
 * service checks its input against them whoever calls it; the API schemas
 * (/api/v1 and, under the predecessor's field names, the legacy adapter) are
 * these same rules, so the edge and the domain cannot disagree.
 */
export const MAX_CAPACITY = 8;
/** A seat costs at most this many KRW: a sanity bound, far above any commute. */
export const MAX_COST_KRW = 1_000_000;

/** A carpool's id as a JSON value: a positive integer, never a string or an array that happens to convert to one. */
export const carpoolIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const newCarpoolSchema = z
  .object({
    departurePlace: z.string().trim().min(1).max(100).openapi({ example: '수원시 권선구 오목천동' }),
    latitude: z.number().min(-90).max(90).openapi({ description: 'decimal degrees, kept to 7 places', example: 37.2431 }),
    longitude: z.number().min(-180).max(180).openapi({ description: 'decimal degrees, kept to 7 places', example: 126.9534 }),
    departureAt: z.iso.datetime({ offset: true }).openapi({
      description: 'an instant with its offset, within the current service day and in the future (MATE-009 otherwise)',
      example: '2026-03-03T08:00:00+09:00',
    }),
    chatLink: z
      .string()
      .trim()
      .max(500)
      .pipe(z.url({ protocol: /^https$/, hostname: z.regexes.domain }))
      .openapi({ description: 'an https URL, at most 500 characters', example: 'https://open.kakao.com/o/gMateRide' }),
    capacity: z.number().int().min(1).max(MAX_CAPACITY).openapi({ description: 'seats offered, not counting the driver', example: 3 }),
    cost: z.number().int().min(0).max(MAX_COST_KRW).openapi({ description: 'per seat, in KRW', example: 3000 }),
  })
  .openapi('NewCarpool');
export type NewCarpool = z.infer<typeof newCarpoolSchema>;
