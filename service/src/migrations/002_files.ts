import type { Knex } from 'knex';
import { createTable } from './helpers.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'files', (t) => {
    t.string('object_key', 100).primary();
    t.bigInteger('owner_id').unsigned().notNullable().references('members.id').onDelete('CASCADE');
    t.enum('purpose', ['profile', 'car', 'image']).notNullable();
    t.string('content_type', 50).notNullable();
    t.integer('size').unsigned().notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['owner_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('files');
}
