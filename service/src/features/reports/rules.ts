import { z } from '../../platform/http/zod.js';
import '../../platform/http/routes.js'; // extends zod with .openapi()

/**
 * The rules of a report (domain.md, "Fields and validation", rule 10). The
 * reports service checks its input against them whoever calls it; the API
 * schemas are these same rules.
 */
export const REPORT_WINDOW_DAYS = 7;

export const newReportSchema = z
  .object({
    title: z.string().trim().min(1).max(250).openapi({ example: '출발 시간을 지키지 않았어요' }),
    content: z.string().trim().min(1).max(2000).openapi({ example: '약속한 시간보다 30분 늦게 출발했습니다.' }),
  })
  .openapi('NewReport');
export type NewReport = z.infer<typeof newReportSchema>;
