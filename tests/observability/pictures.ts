/**
 * `npm run dashboards:pictures`: a picture of each dashboard with real data,
 * for docs/observability.md, since Grafana itself is not run here. A real API
 * and a real Prometheus scraping it every second (session.ts) take about two
 * and a half minutes of scripted traffic in waves: a quiet start, a rush, a
 * burst of errors, a Redis outage and a calm end. Then every panel's queries
 * run as range queries over the run, and dashboard-drawing.ts draws each
 * dashboard as its grid of panels. Writes docs/observability/<uid>.png and
 * pictures.json (what each picture was drawn from, checked by
 * pictures.test.ts). Needs the test services' environment (the one
 * scripts/test-env/up.sh writes) and the observability tools.
 */
import fs from 'node:fs';
import path from 'node:path';
import { newMember, type TestMember } from '../../service/src/features/auth/fixtures.js';
import { NO_LOCAL_DATA } from './allow-list.js';
import { drawDashboard, hasData, type PanelData, type Run, type Series } from './dashboard-drawing.js';
import { clientErrors, productActivity, redisOutage, serverErrors, startObservedApi, type Note, type ObservedApi } from './session.js';
import {
  PICTURES_DIR,
  PICTURES_MANIFEST,
  loadDashboards,
  picturedPanels,
  renderGrafana,
  type GrafanaDashboard,
  type GrafanaPanel,
  type PicturedDashboard,
} from './support.js';

const STEP_SECONDS = 5;
/** Four steps: smooths the per-second scrapes, and the waves still show (Grafana's $__rate_interval at a 5 s scrape interval). */
const RATE_INTERVAL = '20s';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Wave {
  name: string;
  seconds: number;
  /** Reads of the carpool list and of the reader's profile, per second, all through the wave. */
  reads: number;
  /** What else happens in the wave; it ends when this is done and `seconds` have passed. */
  action?: (until: number) => Promise<unknown>;
}

/** Runs `fn` again and again until `until` (ms since the epoch), at most `max` times. */
async function repeat(until: number, max: number, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < max && Date.now() < until; i++) await fn();
}

/** `perSecond` reads by `member`, spread over a few readers at once, for as long as `more()` says. */
async function read(member: TestMember, perSecond: number, more: () => boolean, note: Note): Promise<void> {
  const readers = Math.ceil(perSecond / 2);
  const interval = (1000 * readers) / perSecond;
  await Promise.all(
    Array.from({ length: readers }, async () => {
      for (let i = 0; i < 5_000 && more(); i++) {
        const started = Date.now();
        note('read', await member.call('GET', i % 2 ? '/me' : '/carpools'));
        await sleep(Math.max(0, interval - (Date.now() - started)));
      }
    }),
  );
}

/** productActivity, and in two carpools of three a rider takes the seat it left free: seats stay taken, not all of them. */
async function commute(api: ObservedApi, note: Note): Promise<void> {
  const { riders, carpoolId } = await productActivity(api.t, note);
  if (carpoolId % 3) note('reserve', await riders[1]!.call('POST', `/carpools/${carpoolId}/reservations`));
}

async function drive(api: ObservedApi): Promise<{ start: number; end: number }> {
  const statuses = new Map<number, number>();
  const note: Note = (_what, res) => statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const reader = await newMember(api.t, { prefix: 'obsp' });
  const commuter = await newMember(api.t, { prefix: 'obsp' });
  const waves: Wave[] = [
    { name: 'quiet start', seconds: 25, reads: 1 },
    {
      name: 'rush',
      seconds: 50,
      reads: 10,
      action: (until) => Promise.all([1, 2, 3].map(() => repeat(until, 60, () => commute(api, note)))),
    },
    {
      name: 'errors',
      seconds: 25,
      reads: 3,
      action: (until) =>
        Promise.all([
          repeat(until, 20, async () => {
            await clientErrors(api.t, reader, note);
            await sleep(2_000);
          }),
          repeat(until, 30, async () => {
            await serverErrors(api, note, 2);
            await sleep(1_000);
          }),
        ]),
    },
    { name: 'Redis outage', seconds: 0, reads: 2, action: () => redisOutage(api, commuter, note, 15_000) },
    { name: 'calm', seconds: 25, reads: 2, action: () => commute(api, note) },
  ];
  const start = Date.now();
  for (const wave of waves) {
    const began = Date.now();
    const until = began + wave.seconds * 1000;
    let acting = true;
    const action = (wave.action?.(until) ?? Promise.resolve()).finally(() => (acting = false));
    await read(reader, wave.reads, () => acting || Date.now() < until, note);
    await action;
    const answered = [...statuses].sort(([a], [b]) => a - b);
    console.log(
      `${wave.name}: ${Math.round((Date.now() - began) / 1000)} s, ${answered.reduce((n, [, c]) => n + c, 0)} requests ` +
        `(${answered.map(([s, c]) => `${s} ×${c}`).join(', ')})`,
    );
    statuses.clear();
  }
  // A few more scrapes and rule evaluations, so the run's last requests are in.
  await sleep(3_000);
  return { start, end: Date.now() };
}

interface Matrix {
  resultType: 'matrix';
  result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
}

interface Vector {
  resultType: 'vector';
  result: Array<{ metric: Record<string, string>; value: [number, string] }>;
}

/** Grafana's legend: the legendFormat with {{label}} filled in, else the series' labels, else the query's refId. */
function legend(format: string | undefined, metric: Record<string, string>, refId: string): string {
  if (format) return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, label: string) => metric[label] ?? '').trim();
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
  return labels.length ? `{${labels.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : refId;
}

async function queryPanel(api: ObservedApi, d: GrafanaDashboard, panel: GrafanaPanel, run: Run): Promise<PanelData> {
  const reason = NO_LOCAL_DATA[`${d.uid} / ${panel.title}`];
  if (reason) return { panel, series: [], noLocalData: reason };
  const start = run.start / 1000;
  const end = run.end / 1000;
  const grid = Array.from({ length: Math.floor((end - start) / run.stepSeconds) + 1 }, (_, i) => start + i * run.stepSeconds);
  const series: Series[] = [];
  let rows: PanelData['rows'];
  for (const target of panel.targets ?? []) {
    if (!target.expr) continue;
    const query = renderGrafana(target.expr, {
      rateInterval: RATE_INTERVAL,
      interval: `${run.stepSeconds}s`,
      range: `${Math.round(end - start)}s`,
    });
    const failed = (error?: string) => new Error(`${d.uid} / ${panel.title} / ${target.refId}: ${error}\n${query}`);
    if (target.instant) {
      const r = await api.prom.api<Vector>('/api/v1/query', { query, time: String(end) });
      if (r.status !== 'success') throw failed(r.error);
      rows = r.data!.result.map(({ metric, value }) => {
        const { __name__: _name, ...labels } = metric;
        return { ...labels, Value: value[1] };
      });
      continue;
    }
    const r = await api.prom.api<Matrix>('/api/v1/query_range', {
      query,
      start: String(start),
      end: String(end),
      step: String(run.stepSeconds),
    });
    if (r.status !== 'success') throw failed(r.error);
    for (const { metric, values } of r.data!.result) {
      const at = new Map(values.map(([t, v]) => [Math.round(t * 1000), Number(v)]));
      series.push({
        name: legend(target.legendFormat, metric, target.refId),
        points: grid.map((t) => {
          const v = at.get(Math.round(t * 1000));
          return [t * 1000, v === undefined || Number.isNaN(v) ? null : v];
        }),
      });
    }
  }
  return { panel, series, rows };
}

async function main() {
  const began = Date.now();
  // All the traffic comes from one address: the per-client limits are raised, or the errors wave's wrong passwords
  // would lock every sign-in out of the calm wave, and the rush would send five recovery mails in all.
  const api = await startObservedApi({ env: { SIGNIN_MAX_FAILURES_PER_CLIENT: '10000', MAIL_MAX_PER_HOUR: '1000' } });
  try {
    const { start, end } = await drive(api);
    const build = await api.prom.api<{ version: string }>('/api/v1/status/buildinfo');
    const run: Run = { start, end, stepSeconds: STEP_SECONDS, prometheusVersion: build.data?.version ?? 'unknown' };
    fs.mkdirSync(PICTURES_DIR, { recursive: true });
    const dashboards = loadDashboards();
    const manifest: PicturedDashboard[] = [];
    const lines: string[] = [];
    let panels = 0;
    let withoutLocalData = 0;
    let seriesDrawn = 0;
    const empty: string[] = [];
    for (const d of dashboards) {
      const data: PanelData[] = [];
      for (const panel of d.panels ?? []) data.push(panel.type === 'row' ? { panel, series: [] } : await queryPanel(api, d, panel, run));
      const drawn = data.filter((p) => p.panel.type !== 'row');
      panels += drawn.length;
      withoutLocalData += drawn.filter((p) => p.noLocalData).length;
      seriesDrawn += drawn.reduce((n, p) => n + p.series.length + (p.rows?.length ?? 0), 0);
      for (const p of drawn) if (!p.noLocalData && !hasData(p)) empty.push(`${d.uid} / ${p.panel.title}`);
      const png = await drawDashboard(d, data, run);
      const file = path.join(PICTURES_DIR, `${d.uid}.png`);
      fs.writeFileSync(file, png);
      manifest.push({ uid: d.uid, title: d.title, date: new Date(end).toISOString(), panels: picturedPanels(d) });
      lines.push(`  ${path.relative(process.cwd(), file)}: ${drawn.length} panels, ${Math.round(png.length / 1024)} KiB`);
    }
    // A dashboard that is gone takes its picture with it.
    const current = new Set(dashboards.map((d) => `${d.uid}.png`));
    for (const f of fs.readdirSync(PICTURES_DIR)) if (f.endsWith('.png') && !current.has(f)) fs.rmSync(path.join(PICTURES_DIR, f));
    fs.writeFileSync(PICTURES_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(
      `dashboards: ${dashboards.length}, panels: ${panels} (${withoutLocalData} without local data), series drawn: ${seriesDrawn}; ` +
        `traffic ${Math.round((end - start) / 1000)} s, ${Math.round((Date.now() - began) / 1000)} s in all`,
    );
    console.log(lines.join('\n'));
    if (empty.length) {
      // prometheus.test.ts proves each of these can show data: a run that left one empty is not worth committing.
      console.error(`panels that showed no data in this run (the pictures say so):\n  ${empty.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await api.close();
  }
}

await main();
