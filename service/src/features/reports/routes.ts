import { route } from '../../platform/http/routes.js';
import { carpoolIdParams } from '../carpools/schemas.js';
import { newReportSchema } from './rules.js';
import { reportView } from './schemas.js';
import type { ReportsService } from './service.js';

export function reportRoutes(reports: ReportsService) {
  return [
    route({
      method: 'post',
      path: '/carpools/{id}/reports',
      tag: 'carpools',
      summary: 'Report a carpool I rode (not one I drove), once, within 7 days of its departure',
      access: 'member',
      status: 201,
      params: carpoolIdParams,
      body: newReportSchema,
      response: reportView,
      errors: ['MATE-001', 'REPORT-002', 'REPORT-003', 'REPORT-004', 'REPORT-005'],
      handler: ({ principal, params, body }) => reports.report(principal.id, params.id, body),
    }),
  ];
}
