import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './index.js';

const api = fileURLToPath(new URL('../../main/api.ts', import.meta.url));
const production = {
  DATABASE_URL: 'mysql://u:p@db:3306/mate',
  REDIS_URL: 'redis://cache:6379',
  S3_BUCKET: 'mate-images',
  SMTP_URL: 'smtp://mail:587',
  JWT_KEYS: 'k1:0123456789abcdef0123456789abcdef',
};

describe('configuration', () => {
  it('accepts a complete production environment and applies defaults', () => {
    const c = loadConfig(production);
    assert.equal(c.mode, 'production');
    assert.equal(c.PORT, 8080);
    assert.equal(c.DRAIN_DELAY_MS, 5000);
  });

  it('names the missing production setting', () => {
    const { REDIS_URL: _omit, ...rest } = production;
    assert.throws(() => loadConfig(rest), /missing setting REDIS_URL/);
  });

  it('names the malformed setting', () => {
    assert.throws(() => loadConfig({ ...production, PORT: 'eighty' }), /invalid setting PORT/);
    assert.throws(() => loadConfig({ ...production, DATABASE_URL: 'postgres://x' }), /invalid setting DATABASE_URL/);
  });

  it('needs nothing in the embedded mode', () => {
    const c = loadConfig({}, { embedded: true });
    assert.equal(c.mode, 'embedded');
    assert.match(c.databaseUrl, /^sqlite:/);
  });

  it('stops the process with one clear line and no stack trace', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', api], {
      env: { PATH: process.env.PATH, ...production, CORS_ORIGINS: '', PORT: '99999' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('mate:'));
    assert.deepEqual(ours, ['mate: invalid setting PORT: Too big: expected number to be <=65535']);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  });
});
