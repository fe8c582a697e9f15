import { z } from '../../platform/http/zod.js';
import { addDays } from '../../platform/clock/index.js';
import { nullableRef } from '../../platform/http/routes.js'; // also extends zod with .openapi()
import { cursorPage, cursorPageQuery, numberedPageQuery } from './pagination.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || addDays(d, 0) === d, 'must be a calendar date');
export const serviceDaySchema = day.openapi({ description: 'a service day, named by the date it starts on', example: '2026-03-02' });

/** `{id}` path parameters: a positive integer in decimal digits (not `0x4e`, ` 78 ` or `7.8e1`). */
export const idParams = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'a positive integer')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER))
    .openapi({ type: 'integer', minimum: 1 }),
});
export const carpoolIdParams = idParams;

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
