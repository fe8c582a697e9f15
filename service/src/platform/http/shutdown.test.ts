import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../../testing/fixtures/slow-api.ts', import.meta.url));

async function start(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-shutdown-'));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, MATE_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`fixture exited before listening:\n${out}`)));
  });
  return { child, url, exited };
}

function portOpen(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

describe('graceful shutdown', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('finishes the request in flight, keeps serving during the drain, then closes the port and exits 0', async () => {
    const { child, url, exited } = await start({ DRAIN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '10000' });
    children.push(child);
    const inFlight = fetch(`${url}/api/v1/test/slow?ms=2500`);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));

    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503, 'readiness turns false at once');
    const during = await fetch(`${url}/api/v1/test/slow?ms=10`);
    assert.equal(during.status, 200, 'new requests are still served during the drain');
    assert.equal(during.headers.get('connection'), 'close', 'keep-alive clients are told to go elsewhere');

    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { slept: 2500 });

    assert.equal(await exited, 0);
    assert.ok(Date.now() - t0 >= 1500, 'exit waits for the drain delay');
    assert.equal(await portOpen(url), false, 'the port is closed after the drain');
  });

  it('exits at once on a second SIGTERM', async () => {
    const { child, exited } = await start({ DRAIN_DELAY_MS: '30000' });
    children.push(child);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    assert.notEqual(code, 0);
    assert.ok(Date.now() - t0 < 2_000);
  });
});
