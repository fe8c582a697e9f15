import http from 'node:http';
import type Koa from 'koa';
import type { AppDeps } from '../../app.js';
import { closeDeps } from '../deps.js';

export interface RunningServer {
  server: http.Server;
  /** A URL this machine can call (127.0.0.1 when bound to every address). */
  url: string;
  port: number;
  /** Drain, stop accepting, finish in-flight requests, close pools. */
  shutdown(): Promise<void>;
}

const sleep = (ms: number, unref = false) =>
  new Promise((r) => {
    const timer = setTimeout(r, ms);
    if (unref) timer.unref();
  });

export async function listen(app: Koa, deps: AppDeps): Promise<RunningServer> {
  const { PORT, HOST, DRAIN_DELAY_MS, SHUTDOWN_TIMEOUT_MS } = deps.config;
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000; // longer than the usual load balancer idle timeout
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, HOST, () => resolve());
  });
  const address = server.address() as { port: number };
  const url = `http://${HOST === '0.0.0.0' ? '127.0.0.1' : HOST}:${address.port}`;

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      deps.lifecycle.draining = true;
      deps.logger.info({ event: { action: 'drain-start' } }, `draining for ${DRAIN_DELAY_MS} ms`);
      await sleep(DRAIN_DELAY_MS);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timedOut = await Promise.race([closed.then(() => false), sleep(SHUTDOWN_TIMEOUT_MS, true).then(() => true)]);
      if (timedOut) server.closeAllConnections();
      await closeDeps(deps);
      deps.logger.info({ event: { action: 'shutdown-complete' } }, timedOut ? 'stopped after timeout' : 'stopped cleanly');
    })());
  return { server, url, port: address.port, shutdown };
}

/**
 * SIGTERM/SIGINT start the graceful shutdown and exit 0 when it is done; a
 * second signal exits at once (an operator who means "now").
 */
export function exitOnSignal(running: RunningServer, deps: AppDeps): void {
  let signals = 0;
  const stop = () => {
    if (++signals > 1) process.exit(1);
    running.shutdown().then(
      () => process.exit(0),
      (err) => {
        deps.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
