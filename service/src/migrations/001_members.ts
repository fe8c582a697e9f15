import type { Knex } from 'knex';
import { createTable, timestamps } from './helpers.js';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'members', (t) => {
    t.bigIncrements('id');
    t.string('login_id', 20).nullable().unique();
    t.string('email', 254).nullable().unique();
    t.string('nickname', 20).notNullable().unique();
    t.string('password_hash', 255).nullable();
    t.enum('role', ['member', 'admin']).notNullable().defaultTo('member');
    t.enum('provider', ['mate', 'kakao', 'line']).notNullable().defaultTo('mate');
    t.string('provider_subject', 128).nullable();
    t.string('profile_image_key', 255).nullable();
    t.datetime('banned_at', { precision: 3 }).nullable();
    timestamps(t);
    t.unique(['provider', 'provider_subject']);
  });
  await createTable(knex, 'drivers', (t) => {
    t.bigInteger('member_id').unsigned().primary().references('members.id').onDelete('CASCADE');
    t.string('car_number', 20).notNullable();
    t.string('phone_number', 20).notNullable();
    t.string('car_image_key', 255).nullable();
    timestamps(t);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('drivers');
  await knex.schema.dropTable('members');
}
