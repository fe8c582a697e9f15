// The production image, without a Docker engine: service/Dockerfile's build is
// replayed on the host into a clean directory (its COPY steps, filtered by
// .dockerignore, and its RUN steps, which call service/build-artifact.sh), and
// the result is started the way the image starts: read-only root, the image's
// numeric USER, only its VOLUMEs writable, its ENTRYPOINT + CMD as PID 1 (see
// dockerfile.ts for how each part is mirrored). The migrate command runs
// against a fresh MariaDB database, then the API in production mode against
// MariaDB, Redis and MinIO answers /readyz and exits 0 on SIGTERM; the embedded
// mode runs from the same files, writing only to /data.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestBucket } from '../../service/src/testing/buckets.js';
import { createTestDatabase } from '../../service/src/testing/databases.js';
import { testServices } from '../../service/src/testing/env.js';
import { prepareRootfs, privilege, replayDockerfile, runImage, runSync, hostPath, type Container, type Replay } from './dockerfile.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = path.join(repoRoot, 'service', 'Dockerfile');
/** The container args of the migrate command, as documented in service/Dockerfile (and used by the chart/operator). */
const MIGRATE = ['dist/main/migrate.js'];

const priv = privilege();
const skip = 'reason' in priv ? `cannot start the image like a container runtime: ${priv.reason}` : false;
const privileged = 'prefix' in priv ? priv.prefix : [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForHttp(url: string, container: Container, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void container.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`the process exited before ${url} answered:\n${container.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return res;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${container.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs a command of the image to its end (like a Job) and returns its exit code and output. */
async function runToEnd(container: Container, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const timer = setTimeout(() => void container.signal('SIGKILL').catch(() => undefined), timeoutMs);
  try {
    const code = await container.exited;
    return { code, output: container.output() };
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM to PID 1, as the kubelet does, and the exit code after the drain. */
async function stop(container: Container, timeoutMs = 30_000): Promise<number | null> {
  await container.signal('SIGTERM');
  return runToEnd(container, timeoutMs).then((r) => r.code);
}

describe('the production image (service/Dockerfile), built and started without Docker', { skip }, () => {
  let work: string;
  let replay: Replay;
  const running: Container[] = [];
  const start = (opts: Parameters<typeof runImage>[1]) => {
    const c = runImage(replay.final, opts);
    running.push(c);
    return c;
  };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-image-'));
    // The runtime user must be able to reach the image's files (mkdtemp makes 0700).
    fs.chmodSync(work, 0o755);
    const t0 = Date.now();
    replay = await replayDockerfile({
      dockerfile,
      context: repoRoot,
      workDir: work,
      privileged,
      log: (line) => console.log(`[image] ${line}`),
    });
    prepareRootfs(replay.final);
    for (const t of replay.timings)
      console.log(`[image] ${(t.ms / 1000).toFixed(1).padStart(6)} s ${t.cached ? '(cached) ' : ''}${t.step}`);
    console.log(`[image] build replayed in ${((Date.now() - t0) / 1000).toFixed(1)} s (${work})`);
  });

  after(async () => {
    for (const c of running) if (c.child.exitCode === null) await c.signal('SIGKILL').catch(() => undefined);
    if (work) runSync([...privileged, 'rm', '-rf', work]);
  });

  it('the host provides what the toolchain stage installs (the npm version, the native-module compilers)', () => {
    const toolchain = replay.hostStages.find((s) => s.name === 'toolchain');
    assert.ok(toolchain, 'service/Dockerfile has no toolchain stage');
    const npmPin = /npm@\$\{NPM_VERSION\}/.test(toolchain.instructions.map((i) => i.text).join('\n'));
    const pinned = /^ARG NPM_VERSION=(\S+)$/m.exec(toolchain.instructions.map((i) => i.text).join('\n'))?.[1];
    assert.ok(npmPin && pinned, 'the toolchain stage installs npm@${NPM_VERSION}');
    const hostNpm = runSync(['npm', '--version']).trim();
    assert.equal(hostNpm.split('.')[0], pinned.split('.')[0], `the host's npm ${hostNpm} is not the image's major version (${pinned})`);
    // Its OS packages are named after the commands they provide (python3, make, g++).
    const apt = toolchain.instructions.map((i) => /apt-get install ([^&]*)/.exec(i.args)?.[1]).find(Boolean) ?? '';
    const packages = apt.split(/\s+/).filter((w) => w && !w.startsWith('-'));
    assert.ok(packages.length > 0, 'no apt-get install in the toolchain stage');
    for (const cmd of packages) assert.ok(runSync(['sh', '-c', `command -v ${cmd} || true`]).trim(), `${cmd} is missing on the host`);
  });

  it('holds the compiled service and production dependencies only: no devDependencies, sources or test code', () => {
    const app = hostPath(replay.final, '/app');
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([p, meta]) => meta.dev && p.includes('node_modules/'))
      .map(([p]) => p);
    assert.ok(devOnly.length > 0, 'the lockfile lists no dev-only packages');
    const installed = devOnly.filter((p) => fs.existsSync(path.join(app, p)));
    assert.deepEqual(installed, [], 'devDependencies in the image');
    for (const p of ['typescript', 'tsx', 'smtp-server', 'eslint', 'prettier']) {
      assert.ok(!fs.existsSync(path.join(app, 'node_modules', p)), `${p} is in the image`);
      assert.ok(!fs.existsSync(path.join(app, 'service', 'node_modules', p)), `${p} is in the image`);
    }
    for (const p of ['koa', 'knex', 'mysql2', 'ioredis', 'argon2', 'better-sqlite3', 'swagger-ui-dist', '@aws-sdk/client-s3']) {
      assert.ok(fs.existsSync(path.join(app, 'node_modules', p, 'package.json')), `${p} is missing from the image`);
    }
    assert.deepEqual(fs.readdirSync(app).sort(), ['monitoring', 'node_modules', 'service']);
    assert.deepEqual(
      fs.readdirSync(path.join(app, 'service')).filter((f) => !['dist', 'package.json', 'node_modules'].includes(f)),
      [],
      'only the compiled service and its manifest',
    );
    for (const main of ['api', 'migrate', 'operator']) assert.ok(fs.existsSync(path.join(app, 'service', 'dist', 'main', `${main}.js`)));
    // The operator's monitoring bundle (service/src/operator/monitoring.ts looks for /app/monitoring).
    assert.ok(fs.existsSync(path.join(app, 'monitoring', 'prometheusrule.yaml')), 'no /app/monitoring/prometheusrule.yaml');
    const dist = fs.readdirSync(path.join(app, 'service', 'dist'), { recursive: true, encoding: 'utf8' });
    assert.deepEqual(
      dist.filter((f) => /(^|\/)testing(\/|$)|\.test\.js$|(^|\/)fixtures(\.js|\/)/.test(f)),
      [],
      'test code in the image',
    );
  });

  it('the root filesystem is read-only for the image user; only its volumes are writable', async () => {
    const probe = (p: string) => `if touch ${p}/.probe 2>/dev/null; then echo "${p} writable"; else echo "${p} read-only"; fi`;
    // Not the image's command: a shell as the image's user, in the same sandbox, probing it.
    const script = ['id -u', 'id -g', ...['/', '/app', '/app/service', '/data', '/tmp'].map(probe)].join('; ');
    const sh = runImage({ ...replay.final, entrypoint: ['sh', '-c', script], cmd: [] }, { privileged });
    running.push(sh);
    const { code, output } = await runToEnd(sh);
    assert.equal(code, 0, output);
    assert.deepEqual(output.trim().split('\n'), [
      '10001',
      '10001',
      '/ read-only',
      '/app read-only',
      '/app/service read-only',
      '/data writable',
      '/tmp writable',
    ]);
  });

  it('migrates a fresh MariaDB database, then serves /readyz in production mode and exits 0 on SIGTERM', async (t) => {
    const svc = testServices();
    const db = await createTestDatabase();
    t.after(() => db.drop());
    const { bucket, drop: dropBucket } = await createTestBucket('mate-image');
    t.after(dropBucket);

    // The migration Job: the migrator account (owns the schema), the image's migrate command.
    let t0 = Date.now();
    const migrate = await runToEnd(start({ privileged, args: MIGRATE, env: { DATABASE_URL: db.migratorUrl } }));
    assert.equal(migrate.code, 0, migrate.output);
    assert.match(migrate.output, /applied: 001_members/);
    const again = await runToEnd(start({ privileged, args: MIGRATE, env: { DATABASE_URL: db.migratorUrl } }));
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /schema is up to date/);
    console.log(`[image] migrate ran twice in ${Date.now() - t0} ms`);

    // The API: the least-privileged app account, Redis, MinIO, and an SMTP server that is not there.
    const port = await freePort();
    const closedPort = await freePort();
    t0 = Date.now();
    const api = start({
      privileged,
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: db.appUrl,
        REDIS_URL: svc.redisUrl,
        REDIS_KEY_PREFIX: `mate:image-${bucket}:`,
        S3_BUCKET: bucket,
        S3_ENDPOINT: svc.s3.endpoint,
        S3_REGION: svc.s3.region,
        S3_ACCESS_KEY_ID: svc.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: svc.s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        SMTP_URL: `smtp://127.0.0.1:${closedPort}`,
        JWT_KEYS: `image:${randomBytes(32).toString('base64url')}`,
        // The admin is created at start: argon2's native binding really hashes.
        ADMIN_LOGIN_ID: 'imageadmin',
        ADMIN_EMAIL: 'image-admin@mate.example',
        ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        DRAIN_DELAY_MS: '500',
      },
    });
    const ready = await waitForHttp(`http://127.0.0.1:${port}/readyz`, api, 60_000);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    console.log(`[image] API ready in ${Date.now() - t0} ms`);
    // /docs is served from swagger-ui-dist, a production dependency.
    const css = await fetch(`http://127.0.0.1:${port}/docs/assets/swagger-ui.css`);
    assert.equal(css.status, 200);
    await css.arrayBuffer();

    assert.equal(await stop(api), 0, api.output());
    assert.match(api.output(), /shutdown-complete/);
    assert.doesNotMatch(api.output(), /EROFS|EACCES/, 'the API tried to write outside its volumes');
  });

  it('runs the embedded mode from the same image, writing its SQLite file, files and outbox under /data only', async () => {
    const port = await freePort();
    const api = start({
      privileged,
      args: ['dist/main/api.js', '--embedded'],
      env: { PORT: String(port), HOST: '127.0.0.1', DRAIN_DELAY_MS: '0' },
    });
    const ready = await waitForHttp(`http://127.0.0.1:${port}/readyz`, api, 60_000);
    assert.equal(ready.status, 200);
    assert.equal(await stop(api), 0, api.output());
    const data = hostPath(replay.final, '/data');
    assert.ok(fs.existsSync(path.join(data, 'mate.sqlite')), `no mate.sqlite in /data:\n${api.output()}`);
    assert.ok(fs.existsSync(path.join(data, 'demo-credentials.txt')), 'the demo members were not seeded');
    assert.equal(fs.statSync(path.join(data, 'mate.sqlite')).uid, 10001);
  });
});
