import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { testServices } from './env.js';

/**
 * A fresh MariaDB database per test app, with two accounts as in production:
 * a migrator that owns the schema and an app user limited to reading and
 * writing rows (least privilege).
 */
export async function createTestDatabase(): Promise<{ appUrl: string; migratorUrl: string; name: string; drop(): Promise<void> }> {
  const admin = new URL(testServices().mysqlUrl);
  const name = `mate_t_${randomBytes(5).toString('hex')}`;
  const appPassword = randomBytes(12).toString('hex');
  const conn = knexFactory({
    client: 'mysql2',
    connection: { host: admin.hostname, port: Number(admin.port), user: admin.username, password: admin.password },
    pool: { min: 0, max: 1 },
  });
  try {
    await conn.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.raw(`CREATE USER '${name}'@'%' IDENTIFIED BY '${appPassword}'`);
    await conn.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${name}\`.* TO '${name}'@'%'`);
  } finally {
    await conn.destroy();
  }
  const app = new URL(admin);
  app.username = name;
  app.password = appPassword;
  app.pathname = `/${name}`;
  const migrator = new URL(admin);
  migrator.pathname = `/${name}`;
  return {
    name,
    appUrl: app.toString(),
    migratorUrl: migrator.toString(),
    async drop() {
      const c = knexFactory({
        client: 'mysql2',
        connection: { host: admin.hostname, port: Number(admin.port), user: admin.username, password: admin.password },
        pool: { min: 0, max: 1 },
      });
      try {
        await c.raw(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.raw(`DROP USER IF EXISTS '${name}'@'%'`);
      } finally {
        await c.destroy();
      }
    },
  };
}
