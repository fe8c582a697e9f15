import type { Knex } from 'knex';

export interface ReportRow {
  id: number;
  carpool_id: number;
  reporter_id: number;
  title: string;
  content: string;
  created_at: unknown;
  processed_at: unknown;
  processed_by: number | null;
}

export interface ReportFilter {
  carpoolId?: number;
  processed?: boolean;
}

/** The admin's report lists (EXPLAINed by the index test, as the service runs them). */
export function reportsQuery(db: Knex, f: ReportFilter) {
  const q = db('reports');
  if (f.carpoolId !== undefined) q.where('carpool_id', f.carpoolId);
  if (f.processed === true) q.whereNotNull('processed_at');
  if (f.processed === false) q.whereNull('processed_at');
  return q;
}

export function reportsPageQuery(db: Knex, f: ReportFilter & { offset: number; limit: number }) {
  return reportsQuery(db, f).select('*').orderBy('id', 'desc').offset(f.offset).limit(f.limit);
}

export function reportsCountQuery(db: Knex, f: ReportFilter) {
  return reportsQuery(db, f).count({ n: '*' });
}

export function reportByIdQuery(db: Knex, id: number) {
  return db('reports').where('id', id).first();
}
