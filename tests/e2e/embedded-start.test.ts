import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return res;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("the README's run command in a fresh clone", () => {
  let child: ChildProcess | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-clone-'));
  after(() => {
    if (child?.pid) process.kill(-child.pid, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts the API on embedded defaults with no MySQL, Redis, S3 or SMTP, answering /readyz and /docs', async () => {
    execFileSync('git', ['clone', '-q', repo, dir]);
    // `npm ci` in a fresh clone is what CI itself runs first; here the installed
    // packages are linked in so that this test measures the start, not the install.
    for (const nm of ['node_modules', 'service/node_modules']) {
      if (fs.existsSync(path.join(repo, nm))) fs.symlinkSync(path.join(repo, nm), path.join(dir, nm));
    }
    const port = await freePort();
    // None of the production settings: the embedded mode must not need them.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MATE_|DATABASE_|REDIS_|S3_|SMTP_)/.test(k)));
    let out = '';
    child = spawn('npm', ['start'], { cwd: dir, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));

    const ready = await waitFor(`http://127.0.0.1:${port}/readyz`, 90_000);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    const docs = await waitFor(`http://127.0.0.1:${port}/docs`, 5_000);
    assert.match(await docs.text(), /swagger-ui/);
    assert.match(out, new RegExp(`API docs\\s+http://127\\.0\\.0\\.1:${port}/docs`), 'it prints where the docs are');
    assert.ok(fs.existsSync(path.join(dir, 'service/.data/mate.sqlite')), 'the SQLite file was migrated in the clone');
  });
});
