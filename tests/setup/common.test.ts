// The shared shell library of the set-up scripts (scripts/lib/common.sh):
// no script may end silently. Each case runs a small script that sources it,
// as every set-up script does, and reads what a person would see.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const common = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/lib/common.sh');

function script(body: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mate-common-'));
  try {
    const file = path.join(dir, 'step.sh');
    writeFileSync(file, `source ${JSON.stringify(common)}\nMATE_STEP=demo\n${body}\n`);
    const r = spawnSync('bash', [file], { encoding: 'utf8', env: { ...process.env, MATE_CACHE: dir }, cwd: dir });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a failing command ends the script with the step, the command, where it stood and the tail of the step log', () => {
  const r = script(
    [
      'mate_log_to "$MATE_CACHE/demo.log"',
      'printf "line %s\\n" 1 2 3 >"$MATE_STEP_LOG"',
      'install_it() { false; }',
      'install_it',
      'echo not reached',
    ].join('\n'),
  );
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /not reached/);
  assert.match(r.stderr, /\[demo\] FAILED \(exit 1\): false/);
  assert.match(r.stderr, /at .*step\.sh:\d+ \(install_it\)/);
  assert.match(r.stderr, /last 30 lines of .*demo\.log[\s\S]*line 3/);
});

test('a failing command substitution in an assignment is reported, not silent (the first-install probe bug)', () => {
  const r = script('version=$(dpkg-query -W -f=\'${Version}\' mate-no-such-package 2>/dev/null)\necho "not reached $version"');
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /not reached/);
  assert.match(r.stderr, /\[demo\] FAILED/);
});

test('mate_deb_version of a package dpkg never heard of is empty and succeeds', () => {
  const r = script('v=$(mate_deb_version mate-no-such-package)\necho "version=[$v]"');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'version=[]');
});

test('mate_die names the step and exits non-zero', () => {
  const r = script('mate_die "no Go toolchain found"');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[demo\] ERROR: no Go toolchain found/);
});

test('conditions are not failures: a false test inside if, || and && goes on', () => {
  const r = script('if false; then :; fi\nfalse || true\nfalse && true\necho done');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
});
