import { z } from 'zod';
import { nullableRef } from '../../platform/http/routes.js';
import { envelopeOf } from './envelope.js';

/** The predecessor's shapes, as the web client reads them (docs/legacy.md). */
const localDateTime = z
  .string()
  .openapi({ description: 'local date-time in the service time zone, no offset', example: '2025-02-23T08:00:00' });

export const legacyMember = z
  .object({
    memberId: z.string().nullable(),
    nickname: z.string(),
    email: z.string().nullable(),
    profileImage: z.string().nullable(),
    memberType: z.enum(['STANDARD', 'ADMIN']),
    providerType: z.enum(['MATE', 'KAKAO', 'LINE']),
    createDate: localDateTime,
    updateDate: localDateTime,
    reservation: z.boolean(),
    isBanned: z.boolean(),
    isDriver: z.boolean(),
    carpoolCount: z.number().int(),
    carNumber: z.string().optional(),
    phoneNumber: z.string().optional(),
    carImage: z.string().nullable().optional(),
    driverRegistrationDate: localDateTime.optional(),
  })
  .openapi('LegacyMember');

export const legacyCarpool = z
  .object({
    carpoolId: z.number().int(),
    driverName: z.string(),
    driverImg: z.string().nullable(),
    carImg: z.string().nullable(),
    carNumber: z.string().nullable(),
    departureCoordinate: z.string(),
    latitude: z.number(),
    longitude: z.number(),
    departureTime: localDateTime,
    chatLink: z.string(),
    capacity: z.number().int(),
    cost: z.number().int(),
    reservationCount: z.number().int(),
    createAt: localDateTime,
  })
  .openapi('LegacyCarpool');

export const legacyHistoryItem = z
  .object({
    carpoolId: z.number().int(),
    driverImg: z.string().nullable(),
    departureCoordinate: z.string(),
    departureTime: localDateTime,
    capacity: z.number().int(),
    cost: z.number().int(),
    reservationCount: z.number().int(),
    createAt: localDateTime,
  })
  .openapi('LegacyHistoryItem');

export const memberEnvelope = envelopeOf(legacyMember, 'LegacyMemberEnvelope');
export const carpoolEnvelope = envelopeOf(legacyCarpool, 'LegacyCarpoolEnvelope');
export const carpoolListEnvelope = envelopeOf(z.array(legacyCarpool), 'LegacyCarpoolListEnvelope');
export const historyEnvelope = envelopeOf(z.array(legacyHistoryItem), 'LegacyHistoryEnvelope');
export const messageEnvelope = envelopeOf(z.string(), 'LegacyMessageEnvelope');
export const trueEnvelope = envelopeOf(z.literal(true), 'LegacyTrueEnvelope');
export const stringEnvelope = envelopeOf(z.string(), 'LegacyStringEnvelope');
export const numberEnvelope = envelopeOf(z.number().int(), 'LegacyNumberEnvelope');
export const driverEnvelope = envelopeOf(
  z.object({ carNumber: z.string(), phoneNumber: z.string(), carImage: z.string().nullable() }).openapi('LegacyDriver'),
  'LegacyDriverEnvelope',
);
export const profileEnvelope = envelopeOf(
  z.object({ nickname: z.string(), profileImage: z.string().nullable() }).openapi('LegacyProfile'),
  'LegacyProfileEnvelope',
);
export const myCarpoolEnvelope = envelopeOf(
  z
    .object({
      carpoolInfo: nullableRef(legacyCarpool),
      passengers: z.array(z.object({ passengerName: z.string(), passengerImg: z.string().nullable() })),
      amIDriver: z.boolean(),
    })
    .openapi('LegacyMyCarpool'),
  'LegacyMyCarpoolEnvelope',
);
