import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { addDays } from '../../platform/clock/index.js';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { reportsCountQuery, reportsPageQuery } from '../reports/queries.js';
import { MORNING, MORNING_DAY } from './fixtures.js';
import * as q from './queries.js';

const DAYS = 100;
const CARPOOLS_PER_DAY = 100;
const PASSENGERS_PER_CARPOOL = 4;
const MEMBERS = 2_000;
const BATCH = 1_000;

interface Plan {
  type: string | null;
  key: string | null;
  table: string | null;
  Extra?: string;
  [k: string]: unknown;
}

/**
 * Every list and history query the service runs uses an index, on MariaDB,
 * with 10,000 carpools and 50,000 participations: the builders below are the
 * ones the services await, so EXPLAIN sees exactly their SQL.
 */
describe('list and history queries use an index (MariaDB, 10,000 carpools, 50,000 participations)', () => {
  let t: TestApp;
  let db: Knex;
  const sample = { memberId: 0, carpoolId: 0, carpoolIds: [] as number[], day: MORNING_DAY };

  before(async () => {
    t = await startTestApp({ now: MORNING });
    db = t.deps.db;
    const now = new Date(MORNING);
    const members = Array.from({ length: MEMBERS }, (_, i) => ({
      login_id: `seed${i}`,
      email: `seed${i}@example.com`,
      nickname: `seed${i}`,
      role: 'member',
      provider: 'mate',
      created_at: now,
      updated_at: now,
    }));
    await db.batchInsert('members', members, BATCH);
    const memberIds: number[] = (await db('members').orderBy('id').pluck('id')).map(Number);

    const carpools = [];
    for (let d = 0; d < DAYS; d++) {
      const day = addDays(MORNING_DAY, -d);
      const dayStart = new Date(`${day}T01:00:00Z`).getTime();
      for (let k = 0; k < CARPOOLS_PER_DAY; k++) {
        const capacity = 1 + (k % 8);
        carpools.push({
          driver_id: memberIds[(d * 500 + k * 5) % MEMBERS],
          service_day: day,
          departure_place: `출발지 ${k}`,
          latitude: 37 + k / 1000,
          longitude: 127 - k / 1000,
          departure_at: new Date(dayStart + (13 + (k % 10)) * 3_600_000),
          chat_link: 'https://open.kakao.com/o/seed',
          capacity,
          cost: (k % 7) * 1000,
          seats_taken: Math.min(capacity, PASSENGERS_PER_CARPOOL),
          created_at: new Date(dayStart + k * 60_000),
          updated_at: new Date(dayStart + k * 60_000),
          deleted_at: k % 25 === 0 ? new Date(dayStart + k * 60_000 + 1000) : null,
        });
      }
    }
    await db.batchInsert('carpools', carpools, BATCH);
    const rows: Array<{ id: number; service_day: unknown; driver_id: number }> = await db('carpools')
      .orderBy('id')
      .select('id', 'service_day', 'driver_id');

    const participations = [];
    for (const [i, c] of rows.entries()) {
      const d = Math.floor(i / CARPOOLS_PER_DAY);
      const k = i % CARPOOLS_PER_DAY;
      const day = addDays(MORNING_DAY, -d);
      for (let p = 0; p <= PASSENGERS_PER_CARPOOL; p++) {
        // Each day, the 500 participants are distinct members (the unique key holds).
        participations.push({
          carpool_id: c.id,
          member_id: memberIds[(d * 500 + k * 5 + p) % MEMBERS],
          role: p === 0 ? 'driver' : 'passenger',
          service_day: day,
          active_day: p === 4 && k % 3 === 0 ? null : day,
          created_at: new Date(MORNING),
          ended_at: p === 4 && k % 3 === 0 ? new Date(MORNING) : null,
          end_reason: p === 4 && k % 3 === 0 ? 'cancelled' : null,
        });
      }
    }
    await db.batchInsert('participations', participations, BATCH);
    const reports = [];
    for (let i = 0; i < 5_000; i++) {
      reports.push({
        carpool_id: rows[i]!.id,
        reporter_id: memberIds[(i * 7 + 1) % MEMBERS],
        title: '신고',
        content: '내용',
        created_at: new Date(MORNING),
        processed_at: i % 2 ? new Date(MORNING) : null,
      });
    }
    await db.batchInsert('reports', reports, BATCH);
    for (const table of ['members', 'carpools', 'participations', 'reports']) await db.raw(`ANALYZE TABLE \`${table}\``);

    sample.memberId = memberIds[7]!;
    sample.carpoolId = rows[3]!.id;
    sample.carpoolIds = rows.slice(0, 50).map((r) => r.id);
  });
  after(() => t.close());

  async function explain(builder: Knex.QueryBuilder | Knex.Raw): Promise<Plan[]> {
    const { sql, bindings } = builder.toSQL();
    const [plan] = (await db.raw(`EXPLAIN ${sql}`, bindings as readonly Knex.RawBinding[])) as [Plan[]];
    return plan;
  }

  function assertIndexed(name: string, plan: Plan[]) {
    for (const step of plan) {
      if (step.table === null) continue; // "Impossible WHERE" and the like read no table
      assert.notEqual(step.type, 'ALL', `${name}: full scan of ${step.table}\n${JSON.stringify(plan, null, 1)}`);
      assert.ok(step.key, `${name}: no key on ${step.table}\n${JSON.stringify(plan, null, 1)}`);
    }
  }

  it('seeded the volume the rule asks for', async () => {
    const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0]!.n);
    assert.equal(await count('carpools'), 10_000);
    assert.equal(await count('participations'), 50_000);
  });

  it("today's lists, every order, with and without a cursor and the free-seats filter", async () => {
    const afterDate = { value: new Date(`${MORNING_DAY}T15:00:00Z`), id: sample.carpoolId };
    for (const sort of ['latest', 'departure', 'cost'] as const) {
      for (const available of [false, true]) {
        for (const after of [undefined, sort === 'cost' ? { value: 3000, id: sample.carpoolId } : afterDate]) {
          const name = `todayList ${sort} available=${available} cursor=${!!after}`;
          assertIndexed(name, await explain(q.todayListQuery(db, { day: sample.day, sort, available, after, limit: 51 })));
        }
      }
    }
  });

  it('one carpool, carpools by id, and the writes on a carpool row', async () => {
    assertIndexed('carpoolById', await explain(q.carpoolByIdQuery(db, sample.carpoolId)));
    assertIndexed('daySeats', await explain(q.daySeatsQuery(db, sample.day)));
    assertIndexed('carpoolsByIds', await explain(q.carpoolsByIdsQuery(db, sample.carpoolIds)));
    assertIndexed(
      'takeSeat',
      await explain(q.takeSeatQuery(db, { id: sample.carpoolId, day: sample.day, now: new Date(), memberId: sample.memberId })),
    );
    assertIndexed('freeSeat', await explain(q.freeSeatQuery(db, sample.carpoolId)));
    assertIndexed('deleteCarpool', await explain(q.deleteCarpoolQuery(db, sample.carpoolId, new Date())));
  });

  it('participations: mine today, my latest today, passengers, a member in a carpool, and the ending writes', async () => {
    assertIndexed('activeParticipation', await explain(q.activeParticipationQuery(db, sample.memberId, sample.day)));
    assertIndexed('latestParticipation', await explain(q.latestParticipationQuery(db, sample.memberId, sample.day)));
    assertIndexed('participationCount', await explain(q.participationCountQuery(db, sample.memberId)));
    assertIndexed('passengers', await explain(q.passengersQuery(db, [sample.carpoolId])));
    assertIndexed('allPassengers', await explain(q.allPassengersQuery(db, sample.carpoolIds)));
    assertIndexed('memberInCarpool', await explain(q.memberInCarpoolQuery(db, sample.carpoolId, sample.memberId)));
    assertIndexed('endParticipation', await explain(q.endParticipationQuery(db, 1, new Date(), 'cancelled')));
    assertIndexed('endCarpoolParticipations', await explain(q.endCarpoolParticipationsQuery(db, sample.carpoolId, new Date())));
  });

  it('history: rides and drives, first page and after a cursor', async () => {
    for (const role of ['passenger', 'driver'] as const) {
      for (const before of [sample.day, addDays(sample.day, -30)]) {
        assertIndexed(
          `history ${role} before ${before}`,
          await explain(q.historyQuery(db, { memberId: sample.memberId, role, before, limit: 21 })),
        );
      }
    }
  });

  it('administration: carpools of a day range (and all), reports by carpool and state', async () => {
    for (const range of [{ from: addDays(sample.day, -6), to: sample.day }, { from: sample.day }, {}]) {
      assertIndexed(
        `adminCarpools ${JSON.stringify(range)}`,
        await explain(q.adminCarpoolsPageQuery(db, { ...range, offset: 40, limit: 20 })),
      );
      assertIndexed(`adminCarpoolsCount ${JSON.stringify(range)}`, await explain(q.adminCarpoolsCountQuery(db, range)));
    }
    for (const filter of [
      {},
      { carpoolId: sample.carpoolId },
      { processed: false },
      { processed: true },
      { carpoolId: sample.carpoolId, processed: true },
    ]) {
      assertIndexed(`reports ${JSON.stringify(filter)}`, await explain(reportsPageQuery(db, { ...filter, offset: 0, limit: 20 })));
      assertIndexed(`reportsCount ${JSON.stringify(filter)}`, await explain(reportsCountQuery(db, filter)));
    }
  });
});
