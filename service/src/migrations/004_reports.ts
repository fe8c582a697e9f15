import type { Knex } from 'knex';
import { createTable } from './helpers.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'reports', (t) => {
    t.bigIncrements('id');
    t.bigInteger('carpool_id').unsigned().notNullable().references('carpools.id').onDelete('CASCADE');
    t.bigInteger('reporter_id').unsigned().notNullable().references('members.id').onDelete('CASCADE');
    t.string('title', 250).notNullable();
    t.string('content', 2000).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('processed_at', { precision: 3 }).nullable();
    t.bigInteger('processed_by').unsigned().nullable().references('members.id').onDelete('SET NULL');
    // Rule 10: once per carpool and reporter; also serves "reports of a carpool".
    t.unique(['carpool_id', 'reporter_id'], { indexName: 'reports_carpool_reporter_unique' });
    // The admin's queue: unprocessed (or processed) first by newest.
    t.index(['processed_at'], 'reports_processed_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('reports');
}
