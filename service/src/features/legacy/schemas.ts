import { z } from '../../platform/http/zod.js';
import { forgotLoginIdSchema, forgotPasswordSchema, signinSchema, signupSchema } from '../auth/schemas.js';
import { carpoolIdSchema, newCarpoolSchema } from '../carpools/rules.js';
import { driverCarSchema, nicknameSchema, passwordSchema } from '../members/schemas.js';
import { newReportSchema } from '../reports/rules.js';
import { envelopeOf } from './envelope.js';

/** The predecessor's shapes, as the web client reads them (docs/legacy.md). */
const localDateTime = z
  .string()
  .openapi({ description: 'local date-time in the service time zone, no offset', example: '2025-02-23T08:00:00' });

type Renamed<S extends z.ZodRawShape, R extends Partial<Record<keyof S & string, string>>> = {
  [K in keyof S as K extends keyof R ? NonNullable<R[K]> : K]: S[K];
};

/**
 * A /api/v1 body under the predecessor's field names: the same field schemas (so the same rules),
 * renamed; `toV1` gives a parsed body back its /api/v1 names for the services.
 */
function renamed<S extends z.ZodRawShape, const R extends Partial<Record<keyof S & string, string>>>(schema: z.ZodObject<S>, names: R) {
  const rename = (obj: object, map: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(obj).map(([k, v]) => [map[k] ?? k, v]));
  const back = Object.fromEntries(Object.entries(names).map(([v1, old]) => [old, v1]));
  const body = z.object(rename(schema.shape, names) as Renamed<S, R>);
  return { body, toV1: (value: z.output<typeof body>) => rename(value, back) as z.output<z.ZodObject<S>> };
}

export const signUpBody = renamed(signupSchema, { loginId: 'memberId' });
export const signInBody = renamed(signinSchema, { loginId: 'memberId' });
export const findPasswordBody = renamed(forgotPasswordSchema, { loginId: 'memberId' });
export const findMemberIdBody = forgotLoginIdSchema.extend({ nickname: nicknameSchema });
export const checkPasswordBody = z.object({ password: signinSchema.shape.password });
export const changePasswordBody = z.object({ password: passwordSchema });

/** The client sends image URLs (from /file/upload), not keys. */
const imageUrl = z.string().max(2000).optional().nullable();
export const driverBody = driverCarSchema.omit({ carImageKey: true }).extend({ carImage: imageUrl });
export const profileBody = z.object({ nickname: nicknameSchema.optional(), profileImage: imageUrl });

export const carpoolBody = renamed(newCarpoolSchema.omit({ departureAt: true }), { departurePlace: 'departureCoordinate' });
export const newCarpoolBody = carpoolBody.body.extend({
  departureTime: z
    .string()
    .regex(
      /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/,
      'a local date-time such as 2025-02-23T08:00:00',
    )
    .openapi({
      description:
        'a local date-time in the service time zone; only its time of day counts: the carpool leaves at that time within the current service day',
      example: '2025-02-23T08:00:00',
    }),
});
export const reservationBody = z.object({ carpoolId: carpoolIdSchema });
export const reportBody = renamed(newReportSchema, { title: 'reportTitle', content: 'reportContent' });

export const legacyMember = z
  .object({
    memberId: z.string().nullable(),
    nickname: z.string(),
    email: z.string().nullable(),
    profileImage: z.string().openapi({ description: 'the default profile image when the member set none' }),
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
    driverImg: z.string(),
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
    driverImg: z.string(),
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
  z.object({ nickname: z.string(), profileImage: z.string() }).openapi('LegacyProfile'),
  'LegacyProfileEnvelope',
);
export const myCarpoolEnvelope = envelopeOf(
  z
    .object({
      carpoolInfo: legacyCarpool,
      passengers: z.array(z.object({ passengerName: z.string(), passengerImg: z.string() })),
      amIDriver: z.boolean(),
    })
    .openapi('LegacyMyCarpool'),
  'LegacyMyCarpoolEnvelope',
);
