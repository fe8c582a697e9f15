import type { Knex } from 'knex';
import * as m001 from './001_members.js';
import * as m002 from './002_files.js';
import * as m003 from './003_carpools.js';
import * as m004 from './004_reports.js';
import * as m005 from './005_member_keys.js';

/**
 * Migrations are imported, not discovered on disk, so they run the same from
 * TypeScript sources, the compiled image and the embedded mode.
 */
const migrations: Record<string, Knex.Migration> = {
  '001_members': m001,
  '002_files': m002,
  '003_carpools': m003,
  '004_reports': m004,
  '005_member_keys': m005,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
