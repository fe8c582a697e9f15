/**
 * A stand-in for a Kubernetes Service between nginx and the API processes:
 * one TCP forwarder per replica, which sends each NEW connection to its own
 * replica while that replica is ready and to another ready replica otherwise
 * (as kube-proxy only routes new connections to ready endpoints), and leaves
 * established connections alone until their ends close them. Readiness is
 * read from each replica's /readyz every `probeMs`, as the kubelet's probe
 * does. nginx is never reloaded, so its client connections are never cut.
 */
import net from 'node:net';
import { sleep } from './processes.js';

export interface Endpoints {
  /** The forwarders' ports, in replica order: nginx's upstream servers. */
  ports: number[];
  /** Whether each replica is currently an endpoint (ready). */
  ready: boolean[];
  /** Resolves once replica `i` is an endpoint again. */
  waitReady(i: number): Promise<void>;
  close(): Promise<void>;
}

export async function startEndpoints(
  backends: Array<{ port: number }>,
  opts: { probeMs?: number; onChange?: (i: number, ready: boolean) => void } = {},
): Promise<Endpoints> {
  const ready = backends.map(() => true);
  const sockets = new Set<net.Socket>();
  let running = true;
  const pick = (i: number) => (ready[i] ? i : ready.findIndex(Boolean));

  const servers = await Promise.all(
    backends.map(async (_, i) => {
      const server = net.createServer((client) => {
        const target = pick(i);
        if (target < 0) return client.destroy();
        const upstream = net.connect(backends[target]!.port, '127.0.0.1');
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.pipe(upstream).pipe(client);
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );

  const probe = async (port: number) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };
  const prober = (async () => {
    while (running) {
      const states = await Promise.all(backends.map((b) => probe(b.port)));
      states.forEach((s, i) => {
        if (s !== ready[i]) {
          ready[i] = s;
          opts.onChange?.(i, s);
        }
      });
      await sleep(opts.probeMs ?? 250);
    }
  })();

  return {
    ports: servers.map((s) => (s.address() as net.AddressInfo).port),
    ready,
    async waitReady(i) {
      while (running && !ready[i]) await sleep(20);
    },
    async close() {
      running = false;
      await prober;
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
