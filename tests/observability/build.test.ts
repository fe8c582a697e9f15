/**
 * dashboards/build/ and the promtool tests in dashboards/tests/ are produced
 * only by the build step: a fresh build into temporary directories must match
 * the checked-in files byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BUILD_DIR,
  ROOT,
  TESTS_DIR,
  annotationQueries,
  loadDashboards,
  panelQueries,
  renderGrafana,
  run,
  selectors,
  tmpDir,
} from './support.js';

describe('dashboards build', () => {
  it('the checked-in dashboards/build/ and dashboards/tests/ are exactly what `npm run build -w dashboards` writes', () => {
    const build = (out: string, testsOut: string) =>
      run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboards', 'src', 'build.ts'), '--out', out, '--tests-out', testsOut], {
        cwd: ROOT,
      });
    const [out, testsOut, again, testsAgain] = [1, 2, 3, 4].map(() => tmpDir('mate-dashboards-build-'));
    try {
      const r = build(out!, testsOut!);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      build(again!, testsAgain!);
      for (const [fresh, checkedIn, second] of [
        [out!, BUILD_DIR, again!],
        [testsOut!, TESTS_DIR, testsAgain!],
      ] as const) {
        const files = fs.readdirSync(fresh).sort();
        const where = path.relative(ROOT, checkedIn);
        assert.deepEqual(
          fs.readdirSync(checkedIn).sort(),
          files,
          `the same files in ${where} (run \`npm run build -w dashboards\` and commit it)`,
        );
        for (const f of files) {
          assert.ok(
            fs.readFileSync(path.join(fresh, f)).equals(fs.readFileSync(path.join(checkedIn, f))),
            `${where}/${f} differs from a fresh build: run \`npm run build -w dashboards\` and commit the result`,
          );
          // The build is deterministic: a second one is identical to the first.
          assert.ok(fs.readFileSync(path.join(fresh, f)).equals(fs.readFileSync(path.join(second, f))), `${f} is not reproducible`);
        }
      }
    } finally {
      for (const d of [out, testsOut, again, testsAgain]) fs.rmSync(d!, { recursive: true, force: true });
    }
  });

  it('has the four dashboards, each with the namespace and instance variables and unique panel ids', () => {
    const ds = loadDashboards();
    assert.deepEqual(ds.map((d) => d.uid).sort(), ['mate-dependencies', 'mate-overview', 'mate-product', 'mate-rollout']);
    for (const d of ds) {
      const vars = (d.templating?.list ?? []).map((v) => v.name);
      assert.deepEqual(vars, ['datasource', 'namespace', 'instance'], `${d.uid} variables`);
      const ids = (d.panels ?? []).map((p) => (p as { id?: number }).id);
      assert.equal(new Set(ids).size, ids.length, `${d.uid} panel ids are unique`);
      // Every series selector of every panel and annotation follows the namespace picked.
      for (const q of [...panelQueries(d), ...annotationQueries(d)])
        for (const s of selectors(renderGrafana(q.expr, { keepVariables: true })))
          assert.match(s, /namespace=~"\$namespace"/, `${d.uid} / ${q.panel}: ${s} ignores $namespace`);
    }
  });
});
