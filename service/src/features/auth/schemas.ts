import { z } from '../../platform/http/zod.js';
import { emailSchema, loginIdSchema, nicknameSchema, passwordSchema } from '../members/schemas.js';

/** Request bodies of the auth calls (the legacy adapter serves the same ones under the predecessor's field names). */
export const signupSchema = z.object({ loginId: loginIdSchema, email: emailSchema, nickname: nicknameSchema, password: passwordSchema });
export const signinSchema = z.object({ loginId: z.string().trim().min(1).max(64), password: z.string().min(1).max(128) });
export const forgotPasswordSchema = z.object({ loginId: z.string().trim().min(1).max(64), email: z.string().trim().min(3).max(254) });
export const forgotLoginIdSchema = z.object({ email: z.string().trim().min(3).max(254) });
