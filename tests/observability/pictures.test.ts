/**
 * The dashboards' pictures in docs/observability/ are of the dashboards as
 * built: each has its PNG, and pictures.json lists the panels it was drawn
 * from with a hash of each panel's queries, equal to dashboards/build/'s.
 * A dashboard changed without new pictures fails here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PICTURES_DIR, PICTURES_MANIFEST, ROOT, loadDashboards, picturedPanels, type PicturedDashboard } from './support.js';

const REGENERATE = 'run `npm run dashboards:pictures` (with the test services up) and commit docs/observability/';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('dashboard pictures', () => {
  const dashboards = loadDashboards();
  const manifest = JSON.parse(fs.readFileSync(PICTURES_MANIFEST, 'utf8')) as PicturedDashboard[];

  it('pictures.json lists exactly the built dashboards', () => {
    assert.deepEqual(
      manifest.map((m) => m.uid).sort(),
      dashboards.map((d) => d.uid).sort(),
      `docs/observability/pictures.json is not of dashboards/build/: ${REGENERATE}`,
    );
  });

  for (const d of dashboards)
    it(`${d.uid}: its picture was drawn from the dashboard as built`, () => {
      const entry = manifest.find((m) => m.uid === d.uid);
      assert.ok(entry, `no picture of ${d.uid}: ${REGENERATE}`);
      assert.equal(entry.title, d.title, `${d.uid} was renamed since its picture: ${REGENERATE}`);
      assert.deepEqual(entry.panels, picturedPanels(d), `${d.uid}'s panels or queries changed since its picture: ${REGENERATE}`);
      assert.ok(!Number.isNaN(Date.parse(entry.date)), `${d.uid}: the run's date ${entry.date}`);
      const png = fs.readFileSync(path.join(PICTURES_DIR, `${d.uid}.png`));
      assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `docs/observability/${d.uid}.png is not a PNG`);
      assert.ok(png.length < 1024 * 1024, `docs/observability/${d.uid}.png is ${png.length} bytes: keep it under 1 MiB`);
    });

  it('docs/observability.md shows every picture', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8');
    for (const d of dashboards)
      assert.ok(doc.includes(`](observability/${d.uid}.png)`), `docs/observability.md does not embed ${d.uid}.png`);
  });
});
