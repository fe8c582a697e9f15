import type { Knex } from 'knex';

/**
 * Creates a table; on MySQL it is utf8mb4 so Korean (and any) text
 * round-trips exactly. SQLite stores UTF-8 text as it is.
 */
export function createTable(knex: Knex, name: string, build: (t: Knex.CreateTableBuilder) => void) {
  const mysql = knex.client.config.client === 'mysql2';
  return knex.schema.createTable(name, (t) => {
    if (mysql) {
      t.charset('utf8mb4');
      t.collate('utf8mb4_unicode_ci');
      t.engine('InnoDB');
    }
    build(t);
  });
}

/** Set by the service from its clock (tests move the clock), never by a database default. */
export function timestamps(table: Knex.CreateTableBuilder): void {
  table.datetime('created_at', { precision: 3 }).notNullable();
  table.datetime('updated_at', { precision: 3 }).notNullable();
}
