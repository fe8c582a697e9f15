import type { AppDeps } from '../../app.js';
import type { ServiceCalendar } from '../../platform/clock/index.js';
import { isUniqueViolation } from '../../platform/db/model.js';
import { AppError, checked } from '../../platform/http/errors.js';
import { offsetOf } from '../carpools/pagination.js';
import { carpoolIdSchema } from '../carpools/rules.js';
import { toDate, type CarpoolsService } from '../carpools/service.js';
import type { MembersService } from '../members/service.js';
import { reportByIdQuery, reportsCountQuery, reportsPageQuery, type ReportFilter, type ReportRow } from './queries.js';
import { REPORT_WINDOW_DAYS, newReportSchema, type NewReport } from './rules.js';
import type { ReportDetailView, ReportView } from './schemas.js';

export interface ReportsParts {
  carpools: CarpoolsService;
  members: MembersService;
  calendar: ServiceCalendar;
}

/** Reports about carpools (rule 10) and their review (rule 11). Owns the `reports` table. */
export function createReportsService(deps: Pick<AppDeps, 'db' | 'metrics'>, parts: ReportsParts) {
  const { db } = deps;
  const { carpools, members, calendar } = parts;
  const filed = deps.metrics.reports;

  async function views(rows: ReportRow[]): Promise<ReportView[]> {
    if (!rows.length) return [];
    const profiles = await members.publicProfiles([...new Set(rows.map((r) => Number(r.reporter_id)))]);
    return rows.map((r) => {
      const p = profiles.get(Number(r.reporter_id));
      return {
        id: Number(r.id),
        carpoolId: Number(r.carpool_id),
        reporter: { id: Number(r.reporter_id), nickname: p?.nickname ?? '', profileImageUrl: p?.profileImageUrl ?? null },
        title: r.title,
        content: r.content,
        createdAt: toDate(r.created_at).toISOString(),
        processed: r.processed_at !== null,
        processedAt: r.processed_at === null ? null : toDate(r.processed_at).toISOString(),
        processedBy: r.processed_by === null ? null : Number(r.processed_by),
      };
    });
  }

  async function requireRow(id: number): Promise<ReportRow> {
    const row: ReportRow | undefined = await reportByIdQuery(db, id);
    if (!row) throw new AppError('REPORT-001');
    return row;
  }

  async function detail(row: ReportRow): Promise<ReportDetailView> {
    const [view] = await views([row]);
    const carpool = (await carpools.byIds([Number(row.carpool_id)])).get(Number(row.carpool_id)) ?? null;
    return { ...view!, carpool };
  }

  return {
    /** Rule 10: a passenger whose reservation stood, not the driver, once, within 7 days of departure. */
    async report(memberId: number, carpoolId: number, given: NewReport): Promise<ReportView> {
      checked(carpoolIdSchema, carpoolId);
      const input = checked(newReportSchema, given);
      const involvement = await carpools.involvement(carpoolId, memberId);
      if (!involvement || involvement.deleted) throw new AppError('MATE-001');
      if (involvement.isDriver) throw new AppError('REPORT-003');
      if (!involvement.rode) throw new AppError('REPORT-004', 'only a passenger whose reservation stood can report this carpool');
      const now = calendar.now();
      const deadline = new Date(involvement.departureAt.getTime() + REPORT_WINDOW_DAYS * 24 * 3600 * 1000);
      if (now > deadline) throw new AppError('REPORT-002', `reports on this carpool closed at ${deadline.toISOString()}`);
      let id: number;
      try {
        [id] = (await db('reports').insert({
          carpool_id: carpoolId,
          reporter_id: memberId,
          title: input.title,
          content: input.content,
          created_at: now,
        })) as [number];
      } catch (err) {
        if (isUniqueViolation(err, 'reporter')) throw new AppError('REPORT-005');
        throw err;
      }
      filed.inc();
      return (await views([await requireRow(Number(id))]))[0]!;
    },

    /** Rule 11: all reports, or those of one carpool, or only (un)processed ones; newest first. */
    async list(q: ReportFilter & { page: number; size: number }) {
      const [rows, [count]]: [ReportRow[], { n?: number | string }[]] = await Promise.all([
        reportsPageQuery(db, { ...q, offset: offsetOf(q), limit: q.size }),
        reportsCountQuery(db, q),
      ]);
      return { items: await views(rows), page: q.page, size: q.size, total: Number(count?.n ?? 0) };
    },

    async get(id: number): Promise<ReportDetailView> {
      return detail(await requireRow(id));
    },

    /** Marks a report processed; processing it again keeps the first admin and time. */
    async process(id: number, adminId: number): Promise<ReportDetailView> {
      await requireRow(id);
      await db('reports').where('id', id).whereNull('processed_at').update({ processed_at: calendar.now(), processed_by: adminId });
      return detail(await requireRow(id));
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
