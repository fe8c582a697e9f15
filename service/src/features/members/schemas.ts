import { z } from '../../platform/http/zod.js';
import { nullableRef } from '../../platform/http/routes.js';
import { NICKNAME_MAX, hasInvisible } from './rules.js';

/** Field rules carried over from the predecessor (password raised to 8–64). */
const trimmed = (min: number, max: number) => z.string().trim().min(min).max(max);

export const loginIdSchema = trimmed(3, 20)
  .regex(/^[A-Za-z0-9]+$/, 'letters and digits only')
  .openapi({ example: 'commuter01' });
export const emailSchema = z.string().trim().max(254).pipe(z.email()).openapi({ example: 'commuter@example.com' });
export const nicknameSchema = trimmed(1, NICKNAME_MAX)
  .refine((s) => !hasInvisible(s), 'no control, format or invisible characters')
  .openapi({ example: '출근왕' });
export const passwordSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/[A-Za-z]/, 'needs a letter')
  .regex(/\d/, 'needs a digit')
  .openapi({ example: 'morning2ride' });
export const carNumberSchema = trimmed(4, 20).openapi({ example: '12가3456' });
export const phoneNumberSchema = z
  .string()
  .trim()
  .regex(/^0\d{1,2}-?\d{3,4}-?\d{4}$/, 'a Korean phone number such as 010-1234-5678')
  .openapi({ example: '010-1234-5678' });
export const fileKeySchema = z
  .string()
  .regex(/^(profile|car|image)-[0-9a-f-]{36}\.(jpg|png|webp)$/, 'a key returned by POST /files')
  .openapi({ example: 'profile-8d7e3c1a-2b4f-4c6d-9e8f-0a1b2c3d4e5f.png' });

/** A change of nickname or profile image (an uploaded `profile` file). */
export const profileChangeSchema = z.object({ nickname: nicknameSchema.optional(), profileImageKey: fileKeySchema.optional() });

/** A member's car, as it registers or updates it. */
export const driverCarSchema = z.object({
  carNumber: carNumberSchema,
  phoneNumber: phoneNumberSchema,
  carImageKey: fileKeySchema.optional(),
});

export const driverView = z
  .object({
    carNumber: z.string(),
    phoneNumber: z.string(),
    carImageUrl: z.string().nullable(),
    registeredAt: z.string(),
  })
  .openapi('Driver');

export const memberView = z
  .object({
    id: z.number().int(),
    loginId: z.string().nullable(),
    email: z.string().nullable(),
    nickname: z.string(),
    profileImageUrl: z.string().nullable(),
    role: z.enum(['member', 'admin']),
    provider: z.enum(['mate', 'kakao', 'line']),
    isDriver: z.boolean(),
    driver: nullableRef(driverView),
    banned: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Member');

export type MemberView = z.infer<typeof memberView>;
