/**
 * The server side of the carpools benchmark, started by carpools.ts: the API
 * with today's lists cached, the same API with the cache off, and a bare Koa
 * route returning a constant, all in this one process; and, on request, the
 * raw conditional seat UPDATE through a mysql2 pool of the same size (the
 * ceiling a reservation is compared with: one autocommitted statement, no
 * query builder, no transaction).
 */
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mysql from 'mysql2/promise';
import { createApp } from '../../service/src/app.js';
import { takeSeatQuery } from '../../service/src/features/carpools/queries.js';
import { listen } from '../../service/src/platform/http/server.js';
import { benchDeps, fromEnv } from './carpools-app.js';

const settings = fromEnv();
const cached = await benchDeps(settings, 30);
const uncached = await benchDeps(settings, 0);
const servers = await Promise.all([cached, uncached].map(({ deps, features }) => listen(createApp(deps, { features }), deps)));
const bare = new Koa();
bare.use((ctx) => {
  ctx.body = { ok: true };
});
const bareServer = bare.listen(0, '127.0.0.1');
await new Promise((r) => bareServer.once('listening', r));

process.send!({
  type: 'ready',
  cached: servers[0]!.url,
  uncached: servers[1]!.url,
  bare: `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`,
});

process.on('message', async (m: { type: string; carpoolIds?: number[]; concurrency?: number }) => {
  if (m.type === 'raw-update') {
    const ids = m.carpoolIds!;
    // The service's own conditional UPDATE, as SQL text with its placeholders.
    const { calendar } = cached.features.services.carpools;
    const { sql, bindings } = takeSeatQuery(cached.deps.db, { id: 0, day: calendar.today(), now: calendar.now(), memberId: 0 })
      .toSQL()
      .toNative();
    const pool = mysql.createPool({ uri: settings.databaseUrl, connectionLimit: settings.pool });
    await Promise.all(Array.from({ length: settings.pool }, () => pool.query('select 1')));
    let next = 0;
    let updated = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: m.concurrency! }, async () => {
        while (next < ids.length) {
          const [result] = await pool.query<mysql.ResultSetHeader>(sql, [ids[next++]!, ...bindings.slice(1)]);
          updated += result.affectedRows;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await pool.end();
    process.send!({ type: 'raw-result', updated, seconds });
  } else if (m.type === 'stop') {
    bareServer.close();
    for (const s of servers) await s.shutdown();
    process.exit(0);
  }
});
