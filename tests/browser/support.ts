/**
 * What the browser journey needs around the browser: the client's build, the
 * API (embedded, with a clock the test moves), the client's `next start`, a
 * recorder of every call the client makes to the API, screenshots, images to
 * upload and the embedded outbox.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import type { BrowserContext, Page, Request, Response } from 'playwright-core';

export const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A child process in its own process group, its output in a log file; stop() ends the group. */
export class Child {
  readonly exited: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  tail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (!this.running || !this.proc.pid) return;
    try {
      process.kill(-this.proc.pid, 'SIGTERM');
    } catch {
      return;
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

function spawnLogged(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; ipc?: boolean },
): Child {
  const fd = fs.openSync(opts.logFile, 'a');
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: opts.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  return new Child(name, proc, opts.logFile);
}

export async function waitForHttp(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited before ${url} answered; its log (${child.logFile}) ends:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      if (res.status < 500) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms; ${child.name}'s log ends:\n${child.tail()}`);
    await sleep(300);
  }
}

/** Runs scripts/legacy-client/build.sh (idempotent) and answers the directory of the build. */
export async function buildClient(apiUrl: string, logFile: string): Promise<{ dir: string; seconds: number }> {
  const started = Date.now();
  const child = spawnLogged('legacy-client build', 'bash', [path.join(repo, 'scripts/legacy-client/build.sh')], {
    cwd: repo,
    env: { ...process.env, LEGACY_CLIENT_API_URL: apiUrl },
    logFile,
  });
  const code = await child.exited;
  const out = fs.readFileSync(logFile, 'utf8');
  if (code !== 0) throw new Error(`scripts/legacy-client/build.sh failed (exit ${code}); its output (${logFile}) ends:\n${child.tail(40)}`);
  const dir = /^LEGACY_CLIENT_BUILD=(.+)$/m.exec(out)?.[1];
  if (!dir) throw new Error(`scripts/legacy-client/build.sh printed no LEGACY_CLIENT_BUILD= line; see ${logFile}`);
  return { dir, seconds: (Date.now() - started) / 1000 };
}

export interface Backend {
  url: string;
  child: Child;
  dataDir: string;
  outboxDir: string;
  /** Moves the API's clock to this instant (it runs on at the real pace from there). */
  setClock(at: Date): Promise<Date>;
  stop(): Promise<void>;
}

export async function startBackend(opts: {
  port: number;
  clientOrigin: string;
  dataDir: string;
  accessTokenTtlSeconds: number;
  clock: Date;
  logFile: string;
}): Promise<Backend> {
  const url = `http://127.0.0.1:${opts.port}`;
  const outboxDir = path.join(opts.dataDir, 'outbox');
  // None of the production settings of the calling shell: the embedded mode on its own.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(MATE_|DATABASE_|REDIS_|S3_|SMTP_|JWT_|FILES_|MAIL_)/.test(k)),
  );
  const child = spawnLogged('the API', process.execPath, ['--import', 'tsx', path.join(repo, 'tests/browser/backend.ts')], {
    cwd: path.join(repo, 'service'),
    env: {
      ...env,
      MATE_MODE: 'embedded',
      MATE_DATA_DIR: opts.dataDir,
      MAIL_OUTBOX_DIR: outboxDir,
      HOST: '127.0.0.1',
      PORT: String(opts.port),
      PUBLIC_BASE_URL: url,
      CORS_ORIGINS: opts.clientOrigin,
      ACCESS_TOKEN_TTL_SECONDS: String(opts.accessTokenTtlSeconds),
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '0',
      MATE_JOURNEY_CLOCK: opts.clock.toISOString(),
    },
    logFile: opts.logFile,
    ipc: true,
  });
  await waitForHttp(`${url}/readyz`, child, 120_000);
  const setClock = (at: Date) =>
    new Promise<Date>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the API did not confirm the clock within 5 s')), 5_000);
      const onMessage = (msg: { type?: string; now?: string }) => {
        if (msg?.type !== 'clock' || !msg.now) return;
        clearTimeout(timer);
        child.proc.off('message', onMessage);
        resolve(new Date(msg.now));
      };
      child.proc.on('message', onMessage);
      child.proc.send({ type: 'clock', at: at.toISOString() });
    });
  return { url, child, dataDir: opts.dataDir, outboxDir, setClock, stop: () => child.stop() };
}

export async function startClient(opts: { dir: string; port: number; logFile: string }): Promise<{ url: string; child: Child }> {
  const url = `http://127.0.0.1:${opts.port}`;
  const next = path.join(opts.dir, 'node_modules/next/dist/bin/next');
  const child = spawnLogged('next start', process.execPath, [next, 'start', '-H', '127.0.0.1', '-p', String(opts.port)], {
    cwd: opts.dir,
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    logFile: opts.logFile,
  });
  await waitForHttp(`${url}/sign-in`, child, 60_000);
  return { url, child };
}

// ---------------------------------------------------------------------------
// What the client asked the API and what it got

export interface Exchange {
  step: string;
  actor: string;
  at: string;
  method: string;
  url: string;
  /** The credentials sent, abbreviated: which token (its last characters), not the token. */
  sent: { authorization?: string; refreshtoken?: string };
  requestBody?: string;
  status?: number;
  /** New tokens the API handed back (abbreviated). */
  received?: { authorization?: string; refreshtoken?: string };
  responseBody?: string;
  failure?: string;
}

export interface OutsideRequest {
  step: string;
  actor: string;
  url: string;
  handledBy: 'kakao stand-in' | 'blocked';
}

const abbreviate = (v: string | undefined) => (v ? `${v.slice(0, 7)}…${v.slice(-6)}` : undefined);
const clip = (s: string, n = 1500) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export class Recorder {
  step = 'setup';
  readonly exchanges: Exchange[] = [];
  readonly outside: OutsideRequest[] = [];
  readonly consoleErrors: Array<{ step: string; actor: string; text: string }> = [];
  /** Requests to the client's own server (next start) that failed: images its optimizer refused, say. */
  readonly clientFailures: Array<{ step: string; actor: string; url: string; status: number; body: string }> = [];
  private pending = new Set<Promise<unknown>>();
  private fetchBodies: Array<{ actor: string; method: string; url: string; status: number; body: string; used: boolean }> = [];

  constructor(
    readonly apiOrigin: string,
    readonly clientOrigin: string,
  ) {}

  /** Records the context's calls to the API; answers requests to the outside world with the stand-in or blocks them. */
  async attach(context: BrowserContext, actor: string, standIns: Record<string, { contentType: string; body: string }>): Promise<void> {
    const byRequest = new Map<Request, Exchange>();
    context.on('request', (req) => {
      if (!req.url().startsWith(this.apiOrigin)) return;
      const h = req.headers();
      const post = req.postData();
      const type = h['content-type'] ?? '';
      const x: Exchange = {
        step: this.step,
        actor,
        at: new Date().toISOString(),
        method: req.method(),
        url: req.url().slice(this.apiOrigin.length),
        sent: { authorization: abbreviate(h.authorization), refreshtoken: abbreviate(h.refreshtoken) },
        requestBody:
          post == null
            ? undefined
            : type.startsWith('multipart/')
              ? `<multipart form, ${req.postDataBuffer()?.length ?? 0} bytes>`
              : clip(post, 600),
      };
      byRequest.set(req, x);
      this.exchanges.push(x);
    });
    context.on('response', (res: Response) => {
      if (res.url().startsWith(this.clientOrigin) && res.status() >= 400) {
        const failure = {
          step: this.step,
          actor,
          url: clip(res.url().slice(this.clientOrigin.length), 300),
          status: res.status(),
          body: '',
        };
        this.clientFailures.push(failure);
        const p = res
          .text()
          .then((t) => (failure.body = clip(t, 200)))
          .catch(() => {});
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      }
      const x = byRequest.get(res.request());
      if (!x) return;
      x.status = res.status();
      const p = (async () => {
        const h = await res.allHeaders().catch(() => ({}) as Record<string, string>);
        x.received = { authorization: abbreviate(h.authorization), refreshtoken: abbreviate(h.refreshtoken) };
        if (!x.received.authorization && !x.received.refreshtoken) delete x.received;
        const type = h['content-type'] ?? '';
        x.responseBody = /json|text\/plain/.test(type)
          ? clip(await res.text().catch((e: Error) => `<body unreadable: ${e.message.split('\n')[0]}>`))
          : `<${type || 'no content-type'}, ${h['content-length'] ?? '?'} bytes>`;
      })();
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    });
    context.on('requestfailed', (req) => {
      const x = byRequest.get(req);
      if (x) x.failure = req.failure()?.errorText ?? 'failed';
    });
    context.on('page', (page) => this.watchConsole(page, actor));
    // The client's own view of each answer from the API: a page that navigates away (a sign-out) takes
    // the bodies out of the browser's cache before Playwright can read them, but not out of this copy.
    // Observation only: the client gets the very response it would have got.
    await context.exposeBinding('__mateJourneyBody', (_source, x: { method: string; url: string; status: number; body: string }) => {
      this.fetchBodies.push({ actor, ...x, used: false });
    });
    await context.addInitScript((api: string) => {
      const original = window.fetch;
      window.fetch = async function (...args: Parameters<typeof fetch>) {
        const res = await original.apply(this, args);
        try {
          const [input, init] = args;
          const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
          if (url.startsWith(api)) {
            const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
            void res
              .clone()
              .text()
              .then((body) =>
                (window as unknown as { __mateJourneyBody: (x: unknown) => void }).__mateJourneyBody({
                  method,
                  url,
                  status: res.status,
                  body,
                }),
              )
              .catch(() => {});
          }
        } catch {
          /* observation must never break the client */
        }
        return res;
      };
    }, this.apiOrigin);
    await context.route(
      (url) => (url.protocol === 'http:' || url.protocol === 'https:') && url.origin !== this.apiOrigin && url.origin !== this.clientOrigin,
      async (route) => {
        const url = route.request().url();
        const standIn = Object.entries(standIns).find(([prefix]) => url.startsWith(prefix))?.[1];
        this.outside.push({ step: this.step, actor, url: clip(url, 300), handledBy: standIn ? 'kakao stand-in' : 'blocked' });
        if (standIn) await route.fulfill({ status: 200, contentType: standIn.contentType, body: standIn.body });
        else await route.abort('blockedbyclient');
      },
    );
  }

  watchConsole(page: Page, actor: string): void {
    page.on('console', (m) => {
      // Blocked outside requests are listed on their own (outside).
      if (m.type() === 'error' && !m.text().includes('ERR_BLOCKED_BY_CLIENT'))
        this.consoleErrors.push({ step: this.step, actor, text: clip(m.text(), 500) });
    });
    page.on('pageerror', (e) => this.consoleErrors.push({ step: this.step, actor, text: `uncaught: ${clip(e.message, 500)}` }));
  }

  /** Waits until every response body seen so far has been read. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await new Promise((r) => setTimeout(r, 200));
    // Bodies Playwright could not read: the copy the client's fetch saw, for the same call and status.
    for (const x of this.exchanges) {
      if (x.responseBody && !x.responseBody.startsWith('<body unreadable')) continue;
      const copy = this.fetchBodies.find(
        (b) => !b.used && b.actor === x.actor && b.method === x.method && b.url === this.apiOrigin + x.url && b.status === x.status,
      );
      if (copy) {
        copy.used = true;
        x.responseBody = clip(copy.body);
      }
    }
  }

  ofStep(step: string): Exchange[] {
    return this.exchanges.filter((x) => x.step === step);
  }
}

export function describeExchange(x: Exchange): string {
  const creds = [x.sent.authorization && 'Authorization', x.sent.refreshtoken && 'Refreshtoken'].filter(Boolean).join('+') || 'no token';
  const back = x.received ? ` [new tokens: ${Object.keys(x.received).join('+')}]` : '';
  const outcome = x.failure ? `FAILED ${x.failure}` : `${x.status ?? '(no answer)'}${back} ${x.responseBody ?? ''}`;
  return `[${x.actor}] ${x.method} ${x.url} (${creds})${x.requestBody ? ` body=${x.requestBody}` : ''}\n      -> ${outcome}`;
}

// ---------------------------------------------------------------------------
// Images and mail

/** A real PNG of the given size: a colour field with a lighter band (something for the cropper to crop). */
export function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const row = 1 + width * 3;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0;
    for (let x = 0; x < width; x++) {
      const band = y > height / 3 && y < (2 * height) / 3;
      const o = y * row + 1 + x * 3;
      raw[o] = band ? 240 : rgb[0];
      raw[o + 1] = band ? 240 : rgb[1];
      raw[o + 2] = band ? 240 : rgb[2];
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Mail {
  file: string;
  to: string;
  subject: string;
  text: string;
}

function decodeWords(s: string): string {
  return s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, data: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function decodeBody(body: string, encoding: string): string {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** The mails in the embedded outbox (.eml files), oldest first, with their text part decoded. */
export function readOutbox(dir: string): Mail[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const raw = fs.readFileSync(file, 'utf8');
      const headerEnd = raw.indexOf('\n\n');
      const headers = raw.slice(0, headerEnd).replace(/\n[ \t]+/g, ' ');
      const header = (name: string) => decodeWords(new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(headers)?.[1] ?? '');
      // The text/plain part (a multipart/alternative message) or the whole body.
      const part =
        /Content-Type:\s*text\/plain[^\n]*\n(?:[^\n]+\n)*?(?:Content-Transfer-Encoding:\s*([\w-]+)\n)?(?:[^\n]+\n)*\n([\s\S]*?)(?:\n--|$)/i.exec(
          raw,
        );
      const text = part ? decodeBody(part[2]!, part[1] ?? '') : decodeBody(raw.slice(headerEnd + 2), header('Content-Transfer-Encoding'));
      return { file, to: header('To'), subject: header('Subject'), text };
    });
}

/** Waits for a mail to this address whose subject matches. */
export async function waitForMail(dir: string, to: string, subject: RegExp, after: Set<string>, timeoutMs = 15_000): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = readOutbox(dir).find((m) => !after.has(m.file) && m.to.includes(to) && subject.test(m.subject));
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject} in ${dir} within ${timeoutMs} ms`);
    await sleep(250);
  }
}
