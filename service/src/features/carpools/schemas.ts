import { z } from 'zod';
import { addDays } from '../../platform/clock/index.js';
import { nullableRef } from '../../platform/http/routes.js'; // also extends zod with .openapi()
import { cursorPage, cursorPageQuery, numberedPageQuery } from './pagination.js';

export const MAX_CAPACITY = 8;
/** A seat costs at most this many KRW: a sanity bound, far above any commute. */
export const MAX_COST_KRW = 1_000_000;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || addDays(d, 0) === d, 'not a calendar date');
export const serviceDaySchema = day.openapi({ description: 'a service day, named by the date it starts on', example: '2026-03-02' });

/** `{id}` path parameters: a positive integer. */
export const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
export const carpoolIdParams = idParams;

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

export const carpoolDriverView = z
  .object({
    id: z.number().int(),
    nickname: z.string(),
    profileImageUrl: z.string().nullable(),
    carNumber: z.string().nullable(),
    carImageUrl: z.string().nullable(),
  })
  .openapi('CarpoolDriver');

export const carpoolView = z
  .object({
    id: z.number().int(),
    serviceDay: serviceDaySchema,
    driver: carpoolDriverView,
    departurePlace: z.string(),
    latitude: z.number(),
    longitude: z.number(),
    departureAt: z.string().openapi({ description: 'ISO 8601, UTC' }),
    chatLink: z.string(),
    capacity: z.number().int(),
    cost: z.number().int(),
    seatsTaken: z.number().int().openapi({ description: 'reservations held; always equals the active reservations' }),
    seatsLeft: z.number().int(),
    createdAt: z.string(),
  })
  .openapi('Carpool');
export type CarpoolView = z.infer<typeof carpoolView>;

export const reservationView = z
  .object({
    carpoolId: z.number().int(),
    serviceDay: serviceDaySchema,
    seatsTaken: z.number().int().openapi({ description: 'the carpool’s reservations, mine included, when mine was made' }),
    seatsLeft: z.number().int(),
    capacity: z.number().int(),
    reservedAt: z.string(),
  })
  .openapi('Reservation');
export type ReservationView = z.infer<typeof reservationView>;

export const LIST_SORTS = ['latest', 'departure', 'cost'] as const;
export type ListSort = (typeof LIST_SORTS)[number];

export const booleanQuery = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .openapi({ type: 'boolean' });

export const listQuery = cursorPageQuery
  .extend({
    sort: z
      .enum(LIST_SORTS)
      .default('latest')
      .openapi({ description: 'latest: newest first; departure: earliest departure first; cost: cheapest first' }),
    available: booleanQuery.optional().openapi({ description: 'true: only carpools with a free seat' }),
  })
  .openapi('CarpoolListQuery');
export type ListQuery = z.infer<typeof listQuery>;

export const carpoolList = cursorPage(carpoolView, 'CarpoolPage').extend({ serviceDay: serviceDaySchema }).openapi('CarpoolList');
export type CarpoolList = z.infer<typeof carpoolList>;

export const passengerView = z
  .object({ nickname: z.string(), profileImageUrl: z.string().nullable(), reservedAt: z.string() })
  .openapi('Passenger');

export const myCarpoolView = z
  .object({
    serviceDay: serviceDaySchema,
    status: z.enum(['active', 'cancelled', 'none']).openapi({
      description:
        'active: I drive or ride `carpool` today; cancelled: the driver deleted the carpool I had reserved (I may reserve another); none: nothing today',
    }),
    amIDriver: z.boolean(),
    carpool: nullableRef(carpoolView),
    passengers: z.array(passengerView),
    cancelledAt: z.string().nullable(),
    detail: z.string(),
  })
  .openapi('MyCarpool');
export type MyCarpoolView = z.infer<typeof myCarpoolView>;

export const historyPage = cursorPage(carpoolView, 'CarpoolHistory');
export type HistoryPage = z.infer<typeof historyPage>;

export const adminPassengerView = z
  .object({
    memberId: z.number().int(),
    nickname: z.string(),
    profileImageUrl: z.string().nullable(),
    status: z.enum(['active', 'cancelled', 'carpool_deleted']),
    reservedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi('AdminPassenger');

export const adminCarpoolView = carpoolView
  .extend({ deletedAt: z.string().nullable(), passengers: z.array(adminPassengerView) })
  .openapi('AdminCarpool');
export type AdminCarpoolView = z.infer<typeof adminCarpoolView>;

export const adminCarpoolsQuery = numberedPageQuery
  .extend({
    from: serviceDaySchema.optional().openapi({ description: 'first service day, inclusive' }),
    to: serviceDaySchema.optional().openapi({ description: 'last service day, inclusive' }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
