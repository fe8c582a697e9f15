// The tier table (scripts/test-tiers.sh) through `npm test -- --list`: every
// test file has one tier, and no unit-tier file reaches for a service.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function list(...args: string[]) {
  const r = spawnSync('bash', ['scripts/test.sh', '--list', ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [tier = '', file = '', ...needs] = line.trim().split(/\s+/);
      return { tier, file, needs };
    });
}

test('every test file is listed once with a known tier, and a tier selects exactly its files', () => {
  const all = list();
  assert.ok(all.length > 50, `only ${all.length} test files listed`);
  assert.equal(new Set(all.map((f) => f.file)).size, all.length);
  for (const f of all) assert.ok(['unit', 'services', 'cluster'].includes(f.tier), `${f.file}: tier ${f.tier}`);
  for (const tier of ['unit', 'services', 'cluster']) {
    assert.deepEqual(
      list('--tier', tier).map((f) => f.file),
      all.filter((f) => f.tier === tier).map((f) => f.file),
    );
  }
  for (const f of list('--tier', 'cluster')) assert.ok(f.needs.includes('k8s'), `${f.file} is in the cluster tier without k8s`);
});

test('no unit-tier file imports the test services, the cluster helpers or the observability tools', () => {
  const needsService = /testing\/(harness|env|databases|buckets)\.js|cluster\/support\.js|observability\/support\.js|faults\/support\.js/;
  for (const { file } of list('--tier', 'unit')) {
    assert.doesNotMatch(
      readFileSync(path.join(root, file), 'utf8'),
      needsService,
      `${file} is in the unit tier but imports a service helper`,
    );
  }
});

test('an unknown tier is refused with a message', () => {
  const r = spawnSync('bash', ['scripts/test.sh', '--tier', 'fast'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown tier 'fast'/);
});
