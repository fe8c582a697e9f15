// The rehearsal's only way out of its network namespace: an HTTP proxy for the
// package registries, served on a Unix socket that the namespace reaches
// through a loopback bridge. It forwards to host names only (never to an IP
// literal or localhost), so the rehearsal cannot reach this machine's own
// services, and it changes nothing in the machine's network.
//   node registry-proxy.mjs serve SOCKET              (outside the namespace)
//   node registry-proxy.mjs bridge HOST:PORT SOCKET   (inside it)
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';

const [mode, ...args] = process.argv.slice(2);

function allowed(host, port) {
  return (
    (port === 80 || port === 443) && net.isIP(host) === 0 && /^[a-z0-9.-]+$/i.test(host) && !/^localhost\.?$|\.localhost\.?$/i.test(host)
  );
}

function refuse(socket, why) {
  socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${why}\n`);
}

function serve(socketPath) {
  rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url);
    } catch {
      res.writeHead(400).end('absolute http:// URLs only\n');
      return;
    }
    const port = Number(url.port || 80);
    if (url.protocol !== 'http:' || !allowed(url.hostname, port)) {
      res.writeHead(403).end(`not forwarded: ${url.host}\n`);
      return;
    }
    const upstream = http.request(
      { host: url.hostname, port, path: url.pathname + url.search, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  server.on('connect', (req, client, head) => {
    const [host, portText] = String(req.url).split(':');
    const port = Number(portText);
    if (!allowed(host, port)) {
      refuse(client, `not forwarded: ${req.url}`);
      return;
    }
    const upstream = net.connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
  });
  server.listen(socketPath);
}

function bridge(listenAt, socketPath) {
  const [host, port] = listenAt.split(':');
  net
    .createServer((client) => {
      const upstream = net.connect(socketPath);
      client.pipe(upstream).pipe(client);
      const close = () => {
        upstream.destroy();
        client.destroy();
      };
      upstream.on('error', close);
      client.on('error', close);
    })
    .listen(Number(port), host);
}

if (mode === 'serve' && args.length === 1) serve(args[0]);
else if (mode === 'bridge' && args.length === 2) bridge(args[0], args[1]);
else {
  console.error('usage: registry-proxy.mjs serve SOCKET | bridge HOST:PORT SOCKET');
  process.exit(2);
}
