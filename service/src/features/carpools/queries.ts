import type { Knex } from 'knex';
import type { ServiceDay } from '../../platform/clock/index.js';
import type { ListSort } from './schemas.js';

/**
 * Every read and the seat-taking write of the carpools feature, as functions
 * returning the knex builder the service awaits: the index test EXPLAINs
 * exactly this SQL, and the benchmark runs exactly this UPDATE.
 */

export interface CarpoolRow {
  id: number;
  driver_id: number;
  service_day: unknown;
  departure_place: string;
  latitude: number | string;
  longitude: number | string;
  departure_at: unknown;
  chat_link: string;
  capacity: number;
  cost: number;
  seats_taken: number;
  created_at: unknown;
  updated_at: unknown;
  deleted_at: unknown;
}

export interface ParticipationRow {
  id: number;
  carpool_id: number;
  member_id: number;
  role: 'driver' | 'passenger';
  service_day: unknown;
  active_day: unknown;
  created_at: unknown;
  ended_at: unknown;
  end_reason: 'cancelled' | 'carpool_deleted' | null;
}

const CARPOOL_COLUMNS = [
  'id',
  'driver_id',
  'service_day',
  'departure_place',
  'latitude',
  'longitude',
  'departure_at',
  'chat_link',
  'capacity',
  'cost',
  'seats_taken',
  'created_at',
  'updated_at',
  'deleted_at',
];
const carpoolColumns = (alias?: string) => CARPOOL_COLUMNS.map((c) => (alias ? `${alias}.${c}` : c));

/** Sort column and direction of each list; `id` in the same direction breaks ties. */
export const LIST_ORDER: Record<ListSort, { column: 'created_at' | 'departure_at' | 'cost'; dir: 'asc' | 'desc' }> = {
  latest: { column: 'created_at', dir: 'desc' },
  departure: { column: 'departure_at', dir: 'asc' },
  cost: { column: 'cost', dir: 'asc' },
};

export interface ListAfter {
  value: Date | number;
  id: number;
}

/** Today's carpools in one order, after a cursor (keyset pagination). */
export function todayListQuery(
  db: Knex,
  opts: { day: ServiceDay; sort: ListSort; available?: boolean; after?: ListAfter; limit: number },
): Knex.QueryBuilder {
  const { column, dir } = LIST_ORDER[opts.sort];
  const q = db('carpools').select(carpoolColumns()).where('service_day', opts.day).whereNull('deleted_at');
  if (opts.available) q.whereRaw('seats_taken < capacity');
  const after = opts.after;
  if (after) {
    const op = dir === 'asc' ? '>' : '<';
    q.where((w) => w.where(column, op, after.value).orWhere((tie) => tie.where(column, after.value).where('id', op, after.id)));
  }
  return q
    .orderBy([
      { column, order: dir },
      { column: 'id', order: dir },
    ])
    .limit(opts.limit);
}

/** Seats offered and taken across a day's live carpools (the seats gauges). */
export function daySeatsQuery(db: Knex, day: ServiceDay) {
  return db('carpools').where('service_day', day).whereNull('deleted_at').sum({ offered: 'capacity', taken: 'seats_taken' }).first();
}

export function carpoolByIdQuery(db: Knex, id: number) {
  return db('carpools').select(carpoolColumns()).where('id', id).first();
}

export function carpoolsByIdsQuery(db: Knex, ids: number[]) {
  return db('carpools').select(carpoolColumns()).whereIn('id', ids);
}

/**
 * The seat: one conditional UPDATE by primary key, which locks the carpool
 * row until the transaction ends, so no interleaving of reservations can
 * overbook. It also holds every other condition of a reservation (a live
 * carpool of that day, not yet left, not the member's own), so a reservation
 * reads nothing first; when it changes no row, the caller finds out why.
 */
export function takeSeatQuery(db: Knex, p: { id: number; day: ServiceDay; now: Date; memberId: number }) {
  return db('carpools')
    .where('id', p.id)
    .whereNull('deleted_at')
    .where('service_day', p.day)
    .where('departure_at', '>', p.now)
    .whereNot('driver_id', p.memberId)
    .whereRaw('seats_taken < capacity')
    .update({ seats_taken: db.raw('seats_taken + 1') });
}

/** The seat count, read under the lock the seat UPDATE took (what the reservation answers). */
export function seatsQuery(db: Knex, id: number) {
  return db('carpools').select('seats_taken', 'capacity').where('id', id).first();
}

export function freeSeatQuery(db: Knex, id: number) {
  return db('carpools')
    .where('id', id)
    .where('seats_taken', '>', 0)
    .update({ seats_taken: db.raw('seats_taken - 1') });
}

/** Soft-deletes a carpool (once); its seats are released with its reservations. */
export function deleteCarpoolQuery(db: Knex, id: number, now: Date) {
  return db('carpools').where('id', id).whereNull('deleted_at').update({ deleted_at: now, updated_at: now, seats_taken: 0 });
}

/** Ends one standing participation (a cancelled reservation). */
export function endParticipationQuery(db: Knex, id: number, now: Date, reason: 'cancelled' | 'carpool_deleted') {
  return db('participations').where('id', id).whereNotNull('active_day').update({ active_day: null, ended_at: now, end_reason: reason });
}

/** Ends every standing participation in a carpool (its driver's and its passengers'). */
export function endCarpoolParticipationsQuery(db: Knex, carpoolId: number, now: Date) {
  return db('participations')
    .where('carpool_id', carpoolId)
    .whereNotNull('active_day')
    .update({ active_day: null, ended_at: now, end_reason: 'carpool_deleted' });
}

/** A member's standing participation of a service day (the unique key). */
export function activeParticipationQuery(db: Knex, memberId: number, day: ServiceDay) {
  return db('participations').where('member_id', memberId).where('active_day', day).first();
}

/** How many carpools a member drove or rode, all days (ended participations not counted). */
export function participationCountQuery(db: Knex, memberId: number) {
  return db('participations').where('member_id', memberId).whereNotNull('active_day').count({ n: '*' });
}

/** A member's latest participation of a service day, standing or ended. */
export function latestParticipationQuery(db: Knex, memberId: number, day: ServiceDay) {
  return db('participations').where('member_id', memberId).where('service_day', day).orderBy('id', 'desc').first();
}

/** Standing passengers of carpools, in reservation order. */
export function passengersQuery(db: Knex, carpoolIds: number[]) {
  return db('participations').whereIn('carpool_id', carpoolIds).where('role', 'passenger').whereNotNull('active_day').orderBy('id', 'asc');
}

/** Every passenger participation of carpools, ended ones too (administration). */
export function allPassengersQuery(db: Knex, carpoolIds: number[]) {
  return db('participations').whereIn('carpool_id', carpoolIds).where('role', 'passenger').orderBy('id', 'asc');
}

/** A member's participations in one carpool (reports: did this member ride it?). */
export function memberInCarpoolQuery(db: Knex, carpoolId: number, memberId: number) {
  return db('participations').where('carpool_id', carpoolId).where('member_id', memberId).orderBy('id', 'asc');
}

/**
 * Rides or drives of earlier service days, newest first. A member stands in
 * at most one carpool a day, so the day alone orders the rows and is the cursor.
 */
export function historyQuery(db: Knex, opts: { memberId: number; role: 'driver' | 'passenger'; before: ServiceDay; limit: number }) {
  return db('participations as p')
    .join('carpools as c', 'c.id', 'p.carpool_id')
    .select(carpoolColumns('c'))
    .where('p.member_id', opts.memberId)
    .where('p.role', opts.role)
    .where('p.active_day', '<', opts.before)
    .orderBy('p.active_day', 'desc')
    .limit(opts.limit);
}

/** Administration: carpools of a range of service days, deleted ones included. */
export function adminCarpoolsQuery(db: Knex, opts: { from?: ServiceDay; to?: ServiceDay }) {
  const q = db('carpools');
  if (opts.from) q.where('service_day', '>=', opts.from);
  if (opts.to) q.where('service_day', '<=', opts.to);
  return q;
}

export function adminCarpoolsPageQuery(db: Knex, opts: { from?: ServiceDay; to?: ServiceDay; offset: number; limit: number }) {
  return adminCarpoolsQuery(db, opts)
    .select(carpoolColumns())
    .orderBy([
      { column: 'service_day', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .offset(opts.offset)
    .limit(opts.limit);
}

export function adminCarpoolsCountQuery(db: Knex, opts: { from?: ServiceDay; to?: ServiceDay }) {
  return adminCarpoolsQuery(db, opts).count({ n: '*' });
}
