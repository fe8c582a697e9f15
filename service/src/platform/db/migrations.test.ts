import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrateDown, migrateLatest, type Db } from './index.js';
import { createTestDatabase } from '../../testing/databases.js';

const KOREAN = '수원시 권선구 오목천동 🚗 출근 카풀';

async function tables(db: Db): Promise<string[]> {
  const rows = await (db.client.config.client === 'mysql2'
    ? db.raw('show tables').then(([r]: [Record<string, string>[]]) => r.map((x) => Object.values(x)[0]!))
    : db('sqlite_master').where('type', 'table').pluck('name'));
  return rows.filter((t: string) => !t.startsWith('knex_') && !t.startsWith('sqlite_')).sort();
}

async function roundTripKorean(db: Db) {
  const now = new Date();
  await db('members').insert({ login_id: 'korean1', email: 'k@example.com', nickname: '오목천', created_at: now, updated_at: now });
  await db('drivers').insert({
    member_id: db('members').select('id').where('login_id', 'korean1'),
    car_number: '12가3456',
    phone_number: KOREAN.slice(0, 20),
    created_at: now,
    updated_at: now,
  });
  const row = await db('drivers').first('car_number', 'phone_number');
  assert.equal(row.car_number, '12가3456');
  assert.equal(row.phone_number, KOREAN.slice(0, 20));
}

describe('migrations on MariaDB', () => {
  it('run up and down cleanly, with utf8mb4 tables and Korean text round-tripping exactly', async () => {
    const database = await createTestDatabase();
    const db = createDb(database.migratorUrl, { poolMax: 2 });
    try {
      const applied = await migrateLatest(db);
      assert.ok(applied.length > 0);
      const created = await tables(db);
      assert.ok(created.includes('members'));
      const [charsets] = await db.raw(
        `select table_name as t, table_collation as c from information_schema.tables where table_schema = ? and table_name not like 'knex%'`,
        [database.name],
      );
      for (const row of charsets as { t: string; c: string }[]) assert.match(row.c, /^utf8mb4_/, `${row.t} is ${row.c}`);
      const [columns] = await db.raw(
        `select table_name as t, column_name as n, character_set_name as cs from information_schema.columns where table_schema = ? and character_set_name is not null and table_name not like 'knex%'`,
        [database.name],
      );
      for (const col of columns as { t: string; n: string; cs: string }[]) assert.equal(col.cs, 'utf8mb4', `${col.t}.${col.n}`);
      await roundTripKorean(db);
      await migrateDown(db);
      assert.deepEqual(await tables(db), []);
      assert.ok((await migrateLatest(db)).length > 0, 'migrations apply again after a full rollback');
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

describe('migrations on SQLite', () => {
  it('run up and down cleanly and Korean text round-trips exactly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-mig-'));
    const db = createDb(`sqlite:${path.join(dir, 'm.sqlite')}`);
    try {
      await migrateLatest(db);
      assert.ok((await tables(db)).includes('members'));
      await roundTripKorean(db);
      await migrateDown(db);
      assert.deepEqual(await tables(db), []);
    } finally {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
