import type { Knex } from 'knex';
import { createTable, timestamps } from './helpers.js';

/**
 * Carpools and the participations in them (one row per driver or passenger).
 * "What am I doing today" is derived from these rows: the service day is a
 * column, so the day rolls over with no job, and the one-carpool-a-day rule
 * is a unique key, not application state.
 */
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'carpools', (t) => {
    t.bigIncrements('id');
    t.bigInteger('driver_id').unsigned().notNullable().references('members.id').onDelete('CASCADE');
    t.date('service_day').notNullable();
    t.string('departure_place', 100).notNullable();
    t.decimal('latitude', 10, 7).notNullable();
    t.decimal('longitude', 10, 7).notNullable();
    t.datetime('departure_at', { precision: 3 }).notNullable();
    t.string('chat_link', 500).notNullable();
    t.tinyint('capacity').unsigned().notNullable();
    t.integer('cost').unsigned().notNullable();
    // Equals the number of active passenger participations: both change in one transaction.
    t.tinyint('seats_taken').unsigned().notNullable().defaultTo(0);
    timestamps(t);
    t.datetime('deleted_at', { precision: 3 }).nullable();
    // Today's lists, one per order (the primary key is the last column of each, the tiebreaker).
    t.index(['service_day', 'deleted_at', 'created_at'], 'carpools_day_latest_idx');
    t.index(['service_day', 'deleted_at', 'departure_at'], 'carpools_day_departure_idx');
    t.index(['service_day', 'deleted_at', 'cost'], 'carpools_day_cost_idx');
    // Administration: carpools of a range of days, newest first.
    t.index(['service_day'], 'carpools_day_idx');
  });

  await createTable(knex, 'participations', (t) => {
    t.bigIncrements('id');
    t.bigInteger('carpool_id').unsigned().notNullable().references('carpools.id').onDelete('CASCADE');
    t.bigInteger('member_id').unsigned().notNullable().references('members.id').onDelete('CASCADE');
    t.enum('role', ['driver', 'passenger']).notNullable();
    t.date('service_day').notNullable();
    // service_day while the participation stands, NULL once it ended: NULLs never collide in a unique key.
    t.date('active_day').nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('ended_at', { precision: 3 }).nullable();
    t.enum('end_reason', ['cancelled', 'carpool_deleted']).nullable();
    // Rule 1: at most one carpool per member per service day, as driver or passenger.
    t.unique(['member_id', 'active_day'], { indexName: 'participations_member_active_day_unique' });
    // History (rides, drives), newest first.
    t.index(['member_id', 'role', 'active_day'], 'participations_history_idx');
    // Today's participations of a member, ended ones included ("your carpool was cancelled").
    t.index(['member_id', 'service_day'], 'participations_member_service_day_idx');
    // Passengers of a carpool; whether a member rode it (reports).
    t.index(['carpool_id', 'member_id'], 'participations_carpool_member_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('participations');
  await knex.schema.dropTable('carpools');
}
