import { loadConfigOrExit } from '../platform/config/index.js';
import { createDb, migrateLatest } from '../platform/db/index.js';

const config = loadConfigOrExit({ requireAll: false });
const db = createDb(config.databaseUrl);
try {
  const applied = await migrateLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
} finally {
  await db.destroy();
}
