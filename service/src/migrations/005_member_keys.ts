import type { Knex } from 'knex';
import { nicknameKey } from '../features/members/rules.js';

/**
 * Nicknames unique by their look-alike key (features/members/rules.ts), and,
 * on SQLite, login ids and emails unique regardless of case, as MariaDB's
 * `_ci` collation already has them. Existing look-alikes keep their
 * nicknames: the later of each pair gets a key of its own (`#id`), so the
 * migration never fails on old data and no name changes under a member.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('members', (t) => {
    t.string('nickname_key', 160).nullable();
  });
  const taken = new Set<string>();
  const rows: Array<{ id: number; nickname: string }> = await knex('members').select('id', 'nickname').orderBy('id');
  for (const { id, nickname } of rows) {
    let key = nicknameKey(nickname);
    if (taken.has(key)) key = `${key}#${id}`;
    taken.add(key);
    await knex('members').where({ id }).update({ nickname_key: key });
  }
  await knex.schema.alterTable('members', (t) => {
    t.unique(['nickname_key']);
  });
  if (knex.client.config.client !== 'mysql2') {
    await knex.raw('create unique index members_login_id_nocase on members (login_id collate nocase)');
    await knex.raw('create unique index members_email_nocase on members (email collate nocase)');
  }
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'mysql2') {
    await knex.raw('drop index members_email_nocase');
    await knex.raw('drop index members_login_id_nocase');
  }
  await knex.schema.alterTable('members', (t) => {
    t.dropUnique(['nickname_key']);
    t.dropColumn('nickname_key');
  });
}
