import net from 'node:net';
import type Koa from 'koa';

/**
 * The client's address. X-Forwarded-For is believed only when the peer is a
 * configured trusted proxy (the Ingress), and then only up to the first
 * untrusted hop, so a client cannot forge its own address.
 */
export function clientIpResolver(trusted: string[]): (ctx: Koa.Context) => string {
  const list = new net.BlockList();
  for (const entry of trusted) {
    const [addr, bits] = entry.split('/');
    const family = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits) list.addSubnet(addr!, Number(bits), family);
    else list.addAddress(addr!, family);
  }
  const normalise = (ip: string) => ip.replace(/^::ffff:/, '');
  const isTrusted = (ip: string) => net.isIP(ip) !== 0 && list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');

  return (ctx) => {
    let ip = normalise(ctx.req.socket.remoteAddress ?? '');
    if (!trusted.length || !isTrusted(ip)) return ip;
    const hops = (ctx.get('X-Forwarded-For') || '')
      .split(',')
      .map((h) => normalise(h.trim()))
      .filter(Boolean);
    while (hops.length && isTrusted(ip)) ip = hops.pop()!;
    return ip;
  };
}
