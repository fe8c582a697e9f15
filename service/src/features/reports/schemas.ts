import { z } from '../../platform/http/zod.js';
import { nullableRef } from '../../platform/http/routes.js'; // also extends zod with .openapi()
import { booleanQuery, carpoolView, idParams } from '../carpools/schemas.js';
import { numberedPageQuery } from '../carpools/pagination.js';

export const reportView = z
  .object({
    id: z.number().int(),
    carpoolId: z.number().int(),
    reporter: z.object({ id: z.number().int(), nickname: z.string(), profileImageUrl: z.string().nullable() }),
    title: z.string(),
    content: z.string(),
    createdAt: z.string(),
    processed: z.boolean(),
    processedAt: z.string().nullable(),
    processedBy: z.number().int().nullable().openapi({ description: 'the admin who marked it processed' }),
  })
  .openapi('Report');
export type ReportView = z.infer<typeof reportView>;

export const reportDetailView = reportView.extend({ carpool: nullableRef(carpoolView) }).openapi('ReportDetail');
export type ReportDetailView = z.infer<typeof reportDetailView>;

export const reportIdParams = idParams;

export const reportListQuery = numberedPageQuery.extend({
  carpoolId: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ description: 'only reports of this carpool' }),
  processed: booleanQuery.optional().openapi({ description: 'only processed (true) or unprocessed (false) reports' }),
});
