/**
 * The baseline of the pressure suite: a bare Koa app answering a constant JSON
 * body, started the same way as the API (`node --import tsx <file>`, its own
 * process), so every figure of the API stands beside what this machine does
 * with no work at all in the same run.
 */
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { ok: true };
});
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
server.keepAliveTimeout = 65_000;
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
