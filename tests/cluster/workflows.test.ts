// actionlint is clean on .github/workflows. While the folder holds no workflow
// yet, the test still checks that the folder exists and that the pinned
// actionlint really lints (it flags a broken workflow).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, run, tool } from './support.js';

const pinnedActionlint =
  /^ACTIONLINT_VERSION="\$\{ACTIONLINT_VERSION:-(v[\d.]+)\}"$/m.exec(
    readFileSync(path.join(repoRoot, 'scripts', 'k8s', 'lib.sh'), 'utf8'),
  )?.[1] ?? 'unpinned';
const workflowsDir = path.join(repoRoot, '.github', 'workflows');

test('actionlint is clean on .github/workflows', async () => {
  assert.ok(existsSync(workflowsDir), '.github/workflows is missing');
  const workflows = readdirSync(workflowsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(workflowsDir, f));
  const actionlint = tool('actionlint');
  if (workflows.length === 0) {
    // Nothing to lint yet: the folder is there and the pinned actionlint runs
    // (the next test shows it finds errors).
    const r = await run(actionlint, ['-version']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^v?${pinnedActionlint.replace(/^v/, '').replaceAll('.', '\\.')}$`, 'm'));
    return;
  }
  const r = await run(actionlint, ['-no-color', ...workflows]);
  assert.equal(r.code, 0, `actionlint findings:\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim(), '');
});

test('the pinned actionlint flags a broken workflow', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mate-actionlint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - run: echo "${{ github.event.no_such_context.value }}"',
      '        if: ${{ matrix.missing }}',
      '',
    ].join('\n'),
  );
  const r = await run(tool('actionlint'), ['-no-color', bad]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /bad\.yaml:\d+:\d+:/);
});
