import type { Context } from 'koa';
import { z } from '../../platform/http/zod.js';
import { route } from '../../platform/http/routes.js';
import type { AuthService } from '../auth/service.js';
import { driverCarSchema, memberView, passwordSchema, profileChangeSchema } from './schemas.js';
import type { MembersService } from './service.js';

export function meRoutes(members: MembersService, auth: AuthService, clientIp: (ctx: Context) => string) {
  return [
    route({
      method: 'get',
      path: '/me',
      tag: 'me',
      summary: 'My profile',
      access: 'member',
      response: memberView,
      handler: async ({ principal }) => members.toView(await members.require(principal.id)),
    }),
    route({
      method: 'patch',
      path: '/me',
      tag: 'me',
      summary: 'Change my nickname or profile image (an uploaded `profile` file); the replaced image is deleted',
      access: 'member',
      body: profileChangeSchema.refine(
        (b) => b.nickname !== undefined || b.profileImageKey !== undefined,
        'give a nickname or a profileImageKey',
      ),
      response: memberView,
      errors: ['ACCOUNT-004', 'S3-001'],
      handler: async ({ principal, body }) => members.toView(await members.updateProfile(principal.id, body)),
    }),
    route({
      method: 'put',
      path: '/me/password',
      tag: 'me',
      summary: 'Change my password (needs the current one); ends my other sessions',
      access: 'member',
      status: 204,
      body: z.object({ currentPassword: z.string().min(1).max(128), newPassword: passwordSchema }),
      errors: ['ACCOUNT-008', 'RATE-001'],
      handler: async ({ principal, body, ctx }) => {
        const change = { current: body.currentPassword, next: body.newPassword };
        await auth.changePassword(principal.id, principal.sessionId, change, clientIp(ctx));
      },
    }),
    route({
      method: 'put',
      path: '/me/driver',
      tag: 'me',
      summary: 'Register my car (become a driver) or update it',
      access: 'member',
      body: driverCarSchema,
      response: memberView,
      responseDescription: 'an existing registration is updated',
      alsoResponds: { 201: { description: 'the car is registered: I am a driver now', response: memberView } },
      errors: ['S3-001'],
      handler: async ({ principal, body, ctx }) => {
        const { created, member } = await members.upsertDriver(principal.id, body);
        const view = await members.toView(member);
        ctx.status = created ? 201 : 200;
        ctx.body = view;
      },
    }),
  ];
}
