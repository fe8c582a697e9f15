import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../../platform/db/index.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { nicknameColumns } from './rules.js';

const DEMO_MEMBERS = [
  { login_id: 'admin', nickname: '관리자', role: 'admin' as const },
  { login_id: 'driver1', nickname: '출근왕', driver: { car_number: '12가3456', phone_number: '010-1234-5678' } },
  { login_id: 'driver2', nickname: '수원드라이버', driver: { car_number: '34나5678', phone_number: '010-2345-6789' } },
  { login_id: 'rider1', nickname: '아침탑승객' },
  { login_id: 'rider2', nickname: '오목천러' },
];

/**
 * Demo members for the embedded mode only. Their shared password is random per
 * data folder and written to a file readable by the owner alone, never logged.
 */
export async function seedDemoMembers(db: Db, hasher: PasswordHasher, dataDir: string, now: Date): Promise<string | null> {
  const existing = await db('members').count<{ n: number }[]>({ n: '*' });
  if (Number(existing[0]?.n) > 0) return null;
  const password = `demo${randomBytes(6).toString('hex')}`;
  const hash = await hasher.hash(password);
  for (const m of DEMO_MEMBERS) {
    const [id] = await db('members').insert({
      login_id: m.login_id,
      email: `${m.login_id}@demo.mate.example`,
      ...nicknameColumns(m.nickname),
      password_hash: hash,
      role: m.role ?? 'member',
      created_at: now,
      updated_at: now,
    });
    if (m.driver) await db('drivers').insert({ member_id: id, ...m.driver, created_at: now, updated_at: now });
  }
  const file = path.join(dataDir, 'demo-credentials.txt');
  fs.writeFileSync(file, `login ids: ${DEMO_MEMBERS.map((m) => m.login_id).join(', ')}\npassword: ${password}\n`, { mode: 0o600 });
  return file;
}
