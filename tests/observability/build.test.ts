/**
 * dashboards/build/ is produced only by the build step: a fresh build into a
 * temporary directory must match the checked-in files byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BUILD_DIR, ROOT, annotationQueries, loadDashboards, panelQueries, renderGrafana, run, selectors, tmpDir } from './support.js';

describe('dashboards build', () => {
  it('the checked-in dashboards/build/ is exactly what `npm run build -w dashboards` writes', () => {
    const out = tmpDir('mate-dashboards-build-');
    try {
      const r = run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboards', 'src', 'build.ts'), '--out', out], { cwd: ROOT });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const fresh = fs.readdirSync(out).sort();
      const checkedIn = fs.readdirSync(BUILD_DIR).sort();
      assert.deepEqual(checkedIn, fresh, 'the same files (run `npm run build -w dashboards` and commit dashboards/build/)');
      for (const f of fresh)
        assert.ok(
          fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(BUILD_DIR, f))),
          `dashboards/build/${f} differs from a fresh build: run \`npm run build -w dashboards\` and commit the result`,
        );
      // The build is deterministic: a second one is identical to the first.
      const again = tmpDir('mate-dashboards-build-');
      run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dashboards', 'src', 'build.ts'), '--out', again], { cwd: ROOT });
      for (const f of fresh)
        assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(again, f))), `${f} is not reproducible`);
      fs.rmSync(again, { recursive: true, force: true });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
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
