import type { AppDeps } from './app.js';
import { migrateLatest } from './platform/db/index.js';
import { createPasswordHasher } from './features/auth/passwords.js';
import { seedDemoMembers } from './features/members/demo-seed.js';

/** The embedded mode migrates its SQLite file and seeds demo data on every start. */
export async function prepareEmbedded(deps: AppDeps): Promise<void> {
  await migrateLatest(deps.db);
  const { ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM, MATE_DATA_DIR } = deps.config;
  const hasher = createPasswordHasher({ memoryCost: ARGON2_MEMORY_KIB, timeCost: ARGON2_TIME_COST, parallelism: ARGON2_PARALLELISM });
  const credentials = await seedDemoMembers(deps.db, hasher, MATE_DATA_DIR, deps.clock());
  if (credentials) console.log(`  Seeded demo members; their password is in ${credentials}`);
}
