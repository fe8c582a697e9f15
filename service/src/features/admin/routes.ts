import { z } from '../../platform/http/zod.js';
import { route } from '../../platform/http/routes.js';
import { numberedPage, numberedPageQuery } from '../carpools/pagination.js';
import { adminCarpoolView, adminCarpoolsQuery, carpoolIdParams, idParams as memberIdParams } from '../carpools/schemas.js';
import type { CarpoolsService } from '../carpools/service.js';
import { memberView } from '../members/schemas.js';
import type { MembersService } from '../members/service.js';
import { reportDetailView, reportIdParams, reportListQuery, reportView } from '../reports/schemas.js';
import type { ReportsService } from '../reports/service.js';
import type { AdminService } from './service.js';

export interface AdminParts {
  admin: AdminService;
  members: MembersService;
  carpools: CarpoolsService;
  reports: ReportsService;
}

/** Rule 11: what an administrator sees and does. Every list is a numbered page with its total. */
export function adminRoutes({ admin, members, carpools, reports }: AdminParts) {
  const pagesNote = 'Numbered pages (`page` from 1, `size` 1–100, default 20) with the total.';
  return [
    route({
      method: 'get',
      path: '/admin/members',
      tag: 'admin',
      summary: 'Members, newest first; only drivers with role=driver',
      description: pagesNote,
      access: 'admin',
      query: numberedPageQuery.extend({
        role: z.enum(['driver']).optional().openapi({ description: 'driver: only members who registered a car' }),
      }),
      response: numberedPage(memberView, 'MemberPage'),
      handler: async ({ query }) => {
        const { items, total } = await members.listPage({ driversOnly: query.role === 'driver', page: query.page, size: query.size });
        return { items: await Promise.all(items.map((m) => members.toView(m))), page: query.page, size: query.size, total };
      },
    }),
    route({
      method: 'get',
      path: '/admin/members/{id}',
      tag: 'admin',
      summary: 'One member',
      access: 'admin',
      params: memberIdParams,
      response: memberView,
      errors: ['ACCOUNT-001'],
      handler: async ({ params }) => members.toView(await members.require(params.id)),
    }),
    route({
      method: 'put',
      path: '/admin/members/{id}/ban',
      tag: 'admin',
      summary: "Ban or unban a member; a ban ends the member's sessions at once",
      access: 'admin',
      params: memberIdParams,
      body: z.object({ banned: z.boolean() }).openapi('BanChange'),
      response: memberView,
      errors: ['ACCOUNT-001', 'ACCOUNT-010'],
      handler: async ({ principal, params, body }) => members.toView(await admin.setBanned(principal.id, params.id, body.banned)),
    }),
    route({
      method: 'get',
      path: '/admin/carpools',
      tag: 'admin',
      summary: 'Carpools of a range of service days (deleted ones too), newest day first, with their passengers',
      description: `\`from\` and \`to\` are service days, both inclusive, both optional. ${pagesNote}`,
      access: 'admin',
      query: adminCarpoolsQuery,
      response: numberedPage(adminCarpoolView, 'AdminCarpoolPage'),
      handler: ({ query }) => carpools.adminList(query),
    }),
    route({
      method: 'get',
      path: '/admin/carpools/{id}',
      tag: 'admin',
      summary: 'One carpool (deleted ones too) with its passengers',
      access: 'admin',
      params: carpoolIdParams,
      response: adminCarpoolView,
      errors: ['MATE-001'],
      handler: ({ params }) => carpools.adminGet(params.id),
    }),
    route({
      method: 'get',
      path: '/admin/reports',
      tag: 'admin',
      summary: 'Reports, newest first: all, of one carpool, processed or not',
      description: pagesNote,
      access: 'admin',
      query: reportListQuery,
      response: numberedPage(reportView, 'ReportPage'),
      handler: ({ query }) => reports.list(query),
    }),
    route({
      method: 'get',
      path: '/admin/reports/{id}',
      tag: 'admin',
      summary: 'One report, with its carpool',
      access: 'admin',
      params: reportIdParams,
      response: reportDetailView,
      errors: ['REPORT-001'],
      handler: ({ params }) => reports.get(params.id),
    }),
    route({
      method: 'post',
      path: '/admin/reports/{id}/process',
      tag: 'admin',
      summary: 'Mark a report processed (again: no change)',
      access: 'admin',
      params: reportIdParams,
      response: reportDetailView,
      errors: ['REPORT-001'],
      handler: ({ principal, params }) => reports.process(params.id, principal.id),
    }),
  ];
}
