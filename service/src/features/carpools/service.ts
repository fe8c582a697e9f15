import type { Knex } from 'knex';
import type { AppDeps } from '../../app.js';
import { asServiceDay, type ServiceCalendar, type ServiceDay } from '../../platform/clock/index.js';
import { isUniqueViolation } from '../../platform/db/model.js';
import { Gauge } from 'prom-client';
import { API_METRICS, metricOptions } from '../../platform/observability/contract.js';
import { AppError, checked, type ErrorCode } from '../../platform/http/errors.js';
import type { MembersService } from '../members/service.js';
import { createListCache, type EarlyVersion } from './list-cache.js';
import { decodeCursor, encodeCursor, offsetOf } from './pagination.js';
import {
  LIST_ORDER,
  activeParticipationQuery,
  adminCarpoolsCountQuery,
  adminCarpoolsPageQuery,
  allPassengersQuery,
  carpoolByIdQuery,
  daySeatsQuery,
  carpoolsByIdsQuery,
  deleteCarpoolQuery,
  endCarpoolParticipationsQuery,
  endParticipationQuery,
  freeSeatQuery,
  historyQuery,
  latestParticipationQuery,
  memberInCarpoolQuery,
  participationCountQuery,
  passengersQuery,
  seatsQuery,
  takeSeatQuery,
  todayListQuery,
  type CarpoolRow,
  type ListAfter,
  type ParticipationRow,
} from './queries.js';
import { carpoolIdSchema, newCarpoolSchema, type NewCarpool } from './rules.js';
import type { AdminCarpoolView, CarpoolList, CarpoolView, HistoryPage, ListQuery, MyCarpoolView, ReservationView } from './schemas.js';

/** Instants as the drivers return them: mysql2 a Date, SQLite epoch milliseconds. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) return new Date(Number(value));
  return new Date(String(value));
}
const iso = (value: unknown) => toDate(value).toISOString();
const isoOrNull = (value: unknown) => (value === null || value === undefined ? null : iso(value));

/** Lock conflicts the database resolves by aborting one transaction: safe to run again from the start. */
function isRetryable(err: unknown): boolean {
  const e = ((err as { nativeError?: unknown }).nativeError ?? err) as { code?: string; errno?: number };
  return e.code === 'ER_LOCK_DEADLOCK' || e.code === 'ER_LOCK_WAIT_TIMEOUT' || e.code === 'SQLITE_BUSY' || e.errno === 1213;
}

async function withRetry<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 20));
    }
  }
}

export interface CarpoolsParts {
  members: MembersService;
  calendar: ServiceCalendar;
}

/**
 * Carpools, reservations and the service day. The feature owns the
 * `carpools` and `participations` tables; member details come from the
 * members service. Every rule that two requests could race on is decided
 * by the database: the one-carpool-a-day unique key and the conditional
 * seat UPDATE, in the same transaction as the row they belong with.
 */
const RESERVATION_OUTCOMES: Partial<Record<ErrorCode, string>> = {
  'MATE-001': 'not_found',
  'MATE-002': 'full',
  'MATE-003': 'already_in_carpool',
  'MATE-008': 'own_carpool',
};

export function createCarpoolsService(deps: Pick<AppDeps, 'db' | 'kv' | 'config' | 'logger' | 'metrics'>, parts: CarpoolsParts) {
  const { db } = deps;
  const { members, calendar } = parts;
  // Rendered lists carry presigned image URLs: served at most 1.5 × the TTL after rendering (list-cache.ts),
  // they stay valid for at least half their lifetime.
  const cacheTtl = Math.min(deps.config.CARPOOL_LIST_CACHE_TTL_SECONDS, Math.floor(deps.config.FILES_PRESIGN_TTL_SECONDS / 3));
  const cache = createListCache(deps.kv, deps.logger, cacheTtl);
  const { carpoolsPosted: posted, reservations, cancellations, carpoolsDeleted: deletions } = deps.metrics;
  // Seats of today's carpools, read at scrape time: derived from the rows, never a second count to keep in step.
  for (const [spec, column] of [
    [API_METRICS.seatsOffered, 'offered'],
    [API_METRICS.seatsTaken, 'taken'],
  ] as const) {
    new Gauge({
      ...metricOptions(spec),
      registers: [deps.metrics.registry],
      async collect() {
        const sums: Record<string, unknown> | undefined = await daySeatsQuery(db, calendar.today());
        this.set(Number(sums?.[column] ?? 0));
      },
    });
  }

  async function views(rows: CarpoolRow[]): Promise<CarpoolView[]> {
    if (!rows.length) return [];
    const profiles = await members.publicProfiles([...new Set(rows.map((r) => Number(r.driver_id)))]);
    return rows.map((r) => {
      const p = profiles.get(Number(r.driver_id));
      const capacity = Number(r.capacity);
      const seatsTaken = Number(r.seats_taken);
      return {
        id: Number(r.id),
        serviceDay: asServiceDay(r.service_day),
        driver: {
          id: Number(r.driver_id),
          nickname: p?.nickname ?? '',
          profileImageUrl: p?.profileImageUrl ?? null,
          carNumber: p?.carNumber ?? null,
          carImageUrl: p?.carImageUrl ?? null,
        },
        departurePlace: r.departure_place,
        latitude: Number(r.latitude),
        longitude: Number(r.longitude),
        departureAt: iso(r.departure_at),
        chatLink: r.chat_link,
        capacity,
        cost: Number(r.cost),
        seatsTaken,
        seatsLeft: Math.max(0, capacity - seatsTaken),
        createdAt: iso(r.created_at),
      };
    });
  }

  const view = async (row: CarpoolRow) => (await views([row]))[0]!;

  async function passengerViews(carpoolId: number) {
    const rows: ParticipationRow[] = await passengersQuery(db, [carpoolId]);
    if (!rows.length) return [];
    const profiles = await members.publicProfiles(rows.map((p) => Number(p.member_id)));
    return rows.map((p) => {
      const profile = profiles.get(Number(p.member_id));
      return { nickname: profile?.nickname ?? '', profileImageUrl: profile?.profileImageUrl ?? null, reservedAt: iso(p.created_at) };
    });
  }

  /** A carpool members may see: it exists and was not deleted. */
  async function requireLive(id: number): Promise<CarpoolRow> {
    const row: CarpoolRow | undefined = await carpoolByIdQuery(db, id);
    if (!row || row.deleted_at) throw new AppError('MATE-001');
    return row;
  }

  /** Rule 1's referee: UNIQUE(member_id, active_day) over driving and riding alike. */
  async function takePart(
    trx: Knex.Transaction,
    p: { carpoolId: number; memberId: number; role: 'driver' | 'passenger'; day: ServiceDay; now: Date },
  ): Promise<void> {
    try {
      await trx('participations').insert({
        carpool_id: p.carpoolId,
        member_id: p.memberId,
        role: p.role,
        service_day: p.day,
        active_day: p.day,
        created_at: p.now,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'active_day')) throw inAnotherCarpool(p.day);
      throw err;
    }
  }

  function assertOpen(row: CarpoolRow, day: ServiceDay, now: Date): void {
    if (asServiceDay(row.service_day) !== day) throw new AppError('MATE-001', `carpool ${row.id} is not one of today's`);
    if (toDate(row.departure_at) <= now) throw new AppError('MATE-010', `carpool ${row.id} left at ${iso(row.departure_at)}`);
  }

  /** Rule 9's page as JSON bytes, cached until the next change: the API sends them as they are. */
  async function listTodayJson(q: ListQuery, early?: EarlyVersion): Promise<Buffer> {
    const day = calendar.today();
    const { column } = LIST_ORDER[q.sort];
    let after: ListAfter | undefined;
    if (q.cursor) {
      // [sort value (epoch ms for instants), id] of the previous page's last item
      const key = decodeCursor(q.cursor, (k) => k.length === 2 && Number.isSafeInteger(k[0]) && Number.isSafeInteger(k[1]));
      const [value, id] = key as [number, number];
      after = { value: column === 'cost' ? value : new Date(value), id };
    }
    const variant = `${q.sort}:${q.available ? 1 : 0}:${q.size}:${q.cursor ?? ''}`;
    return cache.read(
      day,
      variant,
      async () => {
        const rows: CarpoolRow[] = await todayListQuery(db, { day, sort: q.sort, available: q.available, after, limit: q.size + 1 });
        const page = rows.slice(0, q.size);
        const last = page[page.length - 1];
        const nextCursor =
          rows.length > q.size && last
            ? encodeCursor([column === 'cost' ? Number(last.cost) : toDate(last[column]).getTime(), Number(last.id)])
            : null;
        const list: CarpoolList = { serviceDay: day, items: await views(page), nextCursor };
        return JSON.stringify(list);
      },
      early,
    );
  }

  const inAnotherCarpool = (day: ServiceDay) => new AppError('MATE-003', `you already drive or ride a carpool in the service day ${day}`);

  /**
   * Why the seat UPDATE changed no row, in the order the rules are checked: a carpool members cannot
   * see, their own, not one of today's or already left, a carpool of theirs today already, else full.
   */
  async function whyNoSeat(trx: Knex.Transaction, p: { carpoolId: number; memberId: number; day: ServiceDay; now: Date }) {
    const row: CarpoolRow | undefined = await carpoolByIdQuery(trx, p.carpoolId);
    if (!row || row.deleted_at) return new AppError('MATE-001');
    if (Number(row.driver_id) === p.memberId) return new AppError('MATE-008');
    assertOpen(row, p.day, p.now);
    if (await activeParticipationQuery(trx, p.memberId, p.day)) return inAnotherCarpool(p.day);
    return new AppError('MATE-002', `all ${row.capacity} seats of carpool ${p.carpoolId} are taken`);
  }

  /**
   * One seat, taken only while seats remain; never one's own carpool, never two a day. Nothing is read
   * first: the conditional seat UPDATE holds every condition (and locks the carpool row, first, as in
   * cancel and delete: one lock order), the participation's unique key refuses a second carpool today,
   * then the new count: BEGIN, three statements, COMMIT. A refusal is explained after it.
   */
  async function takeSeat(memberId: number, carpoolId: number): Promise<ReservationView> {
    checked(carpoolIdSchema, carpoolId);
    const now = calendar.now();
    const day = calendar.dayOf(now);
    const p = { carpoolId, memberId, day, now };
    const seats = await withRetry(() =>
      db.transaction(async (trx) => {
        if ((await takeSeatQuery(trx, { id: carpoolId, day, now, memberId })) === 0) throw await whyNoSeat(trx, p);
        await takePart(trx, { ...p, role: 'passenger' });
        return (await seatsQuery(trx, carpoolId)) as { seats_taken: number; capacity: number };
      }),
    );
    await cache.invalidate(day);
    const capacity = Number(seats.capacity);
    const seatsTaken = Number(seats.seats_taken);
    return { carpoolId, serviceDay: day, seatsTaken, seatsLeft: capacity - seatsTaken, capacity, reservedAt: now.toISOString() };
  }

  return {
    calendar,

    /** Rule 1, 2 and the field rules: drivers only, one carpool a day, departing within today's service day. */
    async post(memberId: number, given: NewCarpool): Promise<CarpoolView> {
      const input = checked(newCarpoolSchema, given);
      if (!(await members.isDriver(memberId))) throw new AppError('MATE-006', 'register your car (PUT /me/driver) to post carpools');
      const now = calendar.now();
      const day = calendar.dayOf(now);
      const { end } = calendar.bounds(day);
      const departure = new Date(input.departureAt);
      if (!(departure > now && departure < end)) {
        throw new AppError(
          'MATE-009',
          `departureAt must be after now (${calendar.localDateTime(now)}) and before ${calendar.localDateTime(end)}, ` +
            `the end of the service day ${day} (${calendar.settings.timeZone})`,
        );
      }
      if (await activeParticipationQuery(db, memberId, day)) throw inAnotherCarpool(day);
      const id = await withRetry(() =>
        db.transaction(async (trx) => {
          const [carpoolId] = await trx('carpools').insert({
            driver_id: memberId,
            service_day: day,
            departure_place: input.departurePlace,
            latitude: input.latitude,
            longitude: input.longitude,
            departure_at: departure,
            chat_link: input.chatLink,
            capacity: input.capacity,
            cost: input.cost,
            seats_taken: 0,
            created_at: now,
            updated_at: now,
          });
          await takePart(trx, { carpoolId: Number(carpoolId), memberId, role: 'driver', day, now });
          return Number(carpoolId);
        }),
      );
      await cache.invalidate(day);
      posted.inc();
      return view(await carpoolByIdQuery(db, id));
    },

    /** Rules 1, 3, 4, counted by outcome. */
    async reserve(memberId: number, carpoolId: number): Promise<ReservationView> {
      try {
        const reservation = await takeSeat(memberId, carpoolId);
        reservations.inc({ outcome: 'reserved' });
        return reservation;
      } catch (err) {
        const outcome = err instanceof AppError ? RESERVATION_OUTCOMES[err.code] : undefined;
        if (outcome) reservations.inc({ outcome });
        throw err;
      }
    },

    /** Rule 5: the passenger cancels; the seat is free in the same transaction. */
    async cancelReservation(memberId: number, carpoolId: number): Promise<void> {
      checked(carpoolIdSchema, carpoolId);
      const now = calendar.now();
      const day = calendar.dayOf(now);
      const mine: ParticipationRow | undefined = await activeParticipationQuery(db, memberId, day);
      if (!mine || mine.role !== 'passenger' || Number(mine.carpool_id) !== carpoolId) {
        await requireLive(carpoolId);
        const hint = mine?.role === 'driver' ? '; you drive it: delete the carpool instead' : '';
        throw new AppError('MATE-004', `you hold no reservation in carpool ${carpoolId}${hint}`);
      }
      const row = await requireLive(Number(mine.carpool_id));
      assertOpen(row, day, now);
      await withRetry(() =>
        db.transaction(async (trx) => {
          await freeSeatQuery(trx, Number(mine.carpool_id));
          const ended = await endParticipationQuery(trx, Number(mine.id), now, 'cancelled');
          if (ended === 0) throw new AppError('MATE-004', 'the reservation had already ended');
        }),
      );
      await cache.invalidate(day);
      cancellations.inc();
    },

    /** Rule 6: the driver deletes; its passengers' reservations end with it, in the same transaction. */
    async deleteCarpool(memberId: number, id: number): Promise<void> {
      checked(carpoolIdSchema, id);
      const now = calendar.now();
      const day = calendar.dayOf(now);
      const row = await requireLive(id);
      if (Number(row.driver_id) !== memberId) throw new AppError('MATE-007');
      assertOpen(row, day, now);
      await withRetry(() =>
        db.transaction(async (trx) => {
          if ((await deleteCarpoolQuery(trx, id, now)) === 0) throw new AppError('MATE-001');
          await endCarpoolParticipationsQuery(trx, id, now);
        }),
      );
      await cache.invalidate(asServiceDay(row.service_day));
      deletions.inc();
    },

    async get(id: number): Promise<CarpoolView> {
      return view(await requireLive(id));
    },

    /** Rule 9: today's carpools in one order, a page at a time. */
    async listToday(q: ListQuery): Promise<CarpoolList> {
      return JSON.parse((await listTodayJson(q)).toString()) as CarpoolList;
    },

    listTodayJson,

    /** Starts reading today's list version for a list call to come (a route's `early`). */
    earlyListVersion: () => cache.early(calendar.today()),

    /**
     * Another rendering of today's lists (the legacy client's), cached as its bytes under the same
     * versioned keys as the pages: every write that changes a list replaces it too.
     */
    todayRendered(variant: string, render: () => Promise<string>, early?: EarlyVersion): Promise<Buffer> {
      return cache.read(calendar.today(), `rendered:${variant}`, render, early);
    },

    /** Rule 7 (and 6): today's carpool as driver or passenger, or why the one I had reserved is gone. */
    async myCarpool(memberId: number): Promise<MyCarpoolView> {
      const day = calendar.today();
      const active: ParticipationRow | undefined = await activeParticipationQuery(db, memberId, day);
      if (active) {
        const row: CarpoolRow = await carpoolByIdQuery(db, Number(active.carpool_id));
        const amIDriver = active.role === 'driver';
        return {
          serviceDay: day,
          status: 'active',
          amIDriver,
          carpool: await view(row),
          passengers: await passengerViews(Number(row.id)),
          cancelledAt: null,
          detail: amIDriver ? 'you drive this carpool today' : 'you have a seat in this carpool today',
        };
      }
      const latest: ParticipationRow | undefined = await latestParticipationQuery(db, memberId, day);
      if (latest?.end_reason === 'carpool_deleted' && latest.role === 'passenger') {
        const row: CarpoolRow = await carpoolByIdQuery(db, Number(latest.carpool_id));
        return {
          serviceDay: day,
          status: 'cancelled',
          amIDriver: false,
          carpool: await view(row),
          passengers: [],
          cancelledAt: isoOrNull(latest.ended_at),
          detail: 'the driver deleted the carpool you had reserved; your reservation ended with it and you may reserve another today',
        };
      }
      return {
        serviceDay: day,
        status: 'none',
        amIDriver: false,
        carpool: null,
        passengers: [],
        cancelledAt: null,
        detail: 'you neither drive nor ride a carpool today',
      };
    },

    /** Rule 8: rides (as passenger) or drives of earlier service days, newest first. */
    async history(memberId: number, kind: 'rides' | 'drives', q: { size: number; cursor?: string }): Promise<HistoryPage> {
      const today = calendar.today();
      const before = q.cursor
        ? String(decodeCursor(q.cursor, (k) => k.length === 1 && typeof k[0] === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(k[0]))[0])
        : today;
      const rows: CarpoolRow[] = await historyQuery(db, {
        memberId,
        role: kind === 'rides' ? 'passenger' : 'driver',
        before: before < today ? before : today,
        limit: q.size + 1,
      });
      const page = rows.slice(0, q.size);
      const last = page[page.length - 1];
      return {
        items: await views(page),
        nextCursor: rows.length > q.size && last ? encodeCursor([asServiceDay(last.service_day)]) : null,
      };
    },

    /** What today looks like for a member (the legacy `reservation` flag, and the carpool its cancel and delete act on). */
    async participationToday(memberId: number): Promise<{ carpoolId: number; role: 'driver' | 'passenger' } | null> {
      const p: ParticipationRow | undefined = await activeParticipationQuery(db, memberId, calendar.today());
      return p ? { carpoolId: Number(p.carpool_id), role: p.role } : null;
    },

    /** Carpools a member drove or rode, today's included (the legacy `carpoolCount`). */
    async participationCount(memberId: number): Promise<number> {
      const [row]: { n?: number | string }[] = await participationCountQuery(db, memberId);
      return Number(row?.n ?? 0);
    },

    /** For reports: the carpool (deleted ones too) and how a member took part in it. */
    async involvement(carpoolId: number, memberId: number) {
      const row: CarpoolRow | undefined = await carpoolByIdQuery(db, carpoolId);
      if (!row) return null;
      const rows: ParticipationRow[] = await memberInCarpoolQuery(db, carpoolId, memberId);
      return {
        carpoolId: Number(row.id),
        deleted: !!row.deleted_at,
        departureAt: toDate(row.departure_at),
        isDriver: Number(row.driver_id) === memberId,
        /** A passenger whose reservation stood (was not cancelled, nor ended by a deletion). */
        rode: rows.some((p) => p.role === 'passenger' && p.active_day !== null),
      };
    },

    /** Carpools by id, for views elsewhere (reports). Deleted ones too. */
    async byIds(ids: number[]): Promise<Map<number, CarpoolView>> {
      if (!ids.length) return new Map();
      const rows: CarpoolRow[] = await carpoolsByIdsQuery(db, ids);
      const list = await views(rows);
      return new Map(list.map((c) => [c.id, c]));
    },

    /** Rule 11: carpools of a range of service days with their passengers (ended reservations too). */
    async adminList(q: { from?: ServiceDay; to?: ServiceDay; page: number; size: number }) {
      const [rows, [count]]: [CarpoolRow[], { n?: number | string }[]] = await Promise.all([
        adminCarpoolsPageQuery(db, { from: q.from, to: q.to, offset: offsetOf(q), limit: q.size }),
        adminCarpoolsCountQuery(db, q),
      ]);
      return { items: await adminViews(rows), page: q.page, size: q.size, total: Number(count?.n ?? 0) };
    },

    async adminGet(id: number): Promise<AdminCarpoolView> {
      const row: CarpoolRow | undefined = await carpoolByIdQuery(db, id);
      if (!row) throw new AppError('MATE-001');
      return (await adminViews([row]))[0]!;
    },
  };

  async function adminViews(rows: CarpoolRow[]): Promise<AdminCarpoolView[]> {
    if (!rows.length) return [];
    const base = await views(rows);
    const passengers: ParticipationRow[] = await allPassengersQuery(
      db,
      rows.map((r) => Number(r.id)),
    );
    const profiles = passengers.length
      ? await members.publicProfiles([...new Set(passengers.map((p) => Number(p.member_id)))])
      : new Map<number, { nickname: string; profileImageUrl: string | null }>();
    return base.map((c, i) => ({
      ...c,
      deletedAt: isoOrNull(rows[i]!.deleted_at),
      passengers: passengers
        .filter((p) => Number(p.carpool_id) === c.id)
        .map((p) => {
          const profile = profiles.get(Number(p.member_id));
          return {
            memberId: Number(p.member_id),
            nickname: profile?.nickname ?? '',
            profileImageUrl: profile?.profileImageUrl ?? null,
            status: p.active_day !== null ? ('active' as const) : (p.end_reason ?? 'cancelled'),
            reservedAt: iso(p.created_at),
            endedAt: isoOrNull(p.ended_at),
          };
        }),
    }));
  }
}

export type CarpoolsService = ReturnType<typeof createCarpoolsService>;
