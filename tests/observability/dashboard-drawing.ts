/**
 * Draws a dashboard the way Grafana lays it out, from data already queried:
 * each panel at its gridPos, a time series as vega-lite lines, stacked areas
 * or bars (rendered to SVG by vega, headless), a stat as its latest value
 * over a sparkline, a table as text, and a panel without local data as a
 * note saying why. resvg turns the page into a PNG with the DejaVu Sans of
 * the dejavu-fonts-ttf package, so the picture does not depend on the
 * machine's fonts; fontkit measures text in that font.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { openSync, type Font } from 'fontkit';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { GrafanaDashboard, GrafanaPanel } from './support.js';

export interface Series {
  name: string;
  /** [ms since the epoch, value]; null where the query had no value (a gap). */
  points: Array<[number, number | null]>;
}

export interface PanelData {
  panel: GrafanaPanel;
  series: Series[];
  /** An instant table query's rows, label name → value. */
  rows?: Array<Record<string, string>>;
  /** Why the panel cannot show data here (tests/observability/allow-list.ts). */
  noLocalData?: string;
}

export interface Run {
  start: number;
  end: number;
  stepSeconds: number;
  prometheusVersion: string;
}

const FONT = 'DejaVu Sans';
const fontDir = path.join(path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf'].map((f) => path.join(fontDir, f));
const [regular, bold] = FONT_FILES.map((f) => openSync(f) as Font);

/** The width of `s` in pixels as resvg will draw it. */
function textWidth(s: string, size: number, weight?: string | number): number {
  const font = weight === 'bold' || Number(weight) >= 600 ? bold! : regular!;
  return (font.layout(s).advanceWidth * size) / font.unitsPerEm;
}

// Without a canvas vega guesses 0.8 em a character, far wider than DejaVu Sans: legends would be cut short and spaced out.
// Its textMetrics.width is the hook for that (vl-convert sets it too); vega's typings do not list it.
(vega as unknown as { textMetrics: { width: (item: VegaText, text?: unknown) => number } }).textMetrics.width = (item, s) =>
  textWidth(String(s ?? item.text ?? ''), item.fontSize ?? 11, item.fontWeight);

interface VegaText {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
}

const PAGE_WIDTH = 1400;
const MARGIN = 12;
const COLUMN = (PAGE_WIDTH - 2 * MARGIN) / 24;
/** Pixels per gridPos height unit (Grafana's is 30; a little more leaves room for the legends). */
const ROW = 34;
const GAP = 8;
const HEADER = 62;
const TEXT = '#1f2328';
const MUTED = '#57606a';

/** One dashboard as a PNG. */
export async function drawDashboard(d: GrafanaDashboard, panels: PanelData[], run: Run): Promise<Buffer> {
  const bottom = Math.max(...panels.map(({ panel: p }) => (p.gridPos ? p.gridPos.y + p.gridPos.h : 0)));
  const height = HEADER + bottom * ROW + MARGIN;
  const parts: string[] = [
    `<rect width="${PAGE_WIDTH}" height="${height}" fill="#f6f8fa"/>`,
    text(MARGIN, 26, d.title, { size: 20, weight: 'bold' }),
    text(MARGIN, 48, subtitle(run), { size: 12, color: MUTED }),
  ];
  for (const data of panels) parts.push(await drawPanel(data, run));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${PAGE_WIDTH}" height="${height}" viewBox="0 0 ${PAGE_WIDTH} ${height}" font-family="${FONT}">${parts.join('')}</svg>`;
  return new Resvg(svg, { font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT } }).render().asPng();
}

function subtitle(run: Run): string {
  const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const date = new Date(run.start).toISOString().slice(0, 10);
  const seconds = Math.round((run.end - run.start) / 1000);
  return (
    `Real Prometheus ${run.prometheusVersion} scraping a local API under scripted traffic (npm run dashboards:pictures): ` +
    `${date} ${hms(run.start)}–${hms(run.end)} UTC, ${seconds} s, a point every ${run.stepSeconds} s; Namespace and Instance: All`
  );
}

/** A table row, or a value anywhere in a series. */
export function hasData(data: PanelData): boolean {
  return Boolean(data.rows?.length) || data.series.some((s) => s.points.some(([, v]) => v !== null));
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

async function drawPanel(data: PanelData, run: Run): Promise<string> {
  const { panel } = data;
  const g = panel.gridPos!;
  const box: Box = { x: MARGIN + g.x * COLUMN + GAP / 2, y: HEADER + g.y * ROW + GAP / 2, w: g.w * COLUMN - GAP, h: g.h * ROW - GAP };
  if (panel.type === 'row')
    return (
      text(box.x, box.y + 19, panel.title, { size: 15, weight: 'bold' }) +
      `<line x1="${box.x}" y1="${box.y + box.h}" x2="${box.x + box.w}" y2="${box.y + box.h}" stroke="#d0d7de"/>`
    );
  const frame = `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="4" fill="white" stroke="#d0d7de"/>`;
  // A long title in a narrow panel gets a smaller font before it is cut short.
  const titleSize = textWidth(panel.title, 13, 'bold') <= box.w - 20 ? 13 : 11;
  const title = text(box.x + 10, box.y + 19, fit(panel.title, box.w - 20, titleSize, 'bold'), { size: titleSize, weight: 'bold' });
  // A coarser interval than the run's step would leave one bar for the whole run.
  const interval = panel.interval
    ? text(box.x + box.w - 10, box.y + 18, `a bar per ${panel.interval} in Grafana, every ${run.stepSeconds} s here`, {
        size: 10,
        color: MUTED,
        anchor: 'end',
      })
    : '';
  const inner: Box = { x: box.x + 8, y: box.y + 28, w: box.w - 16, h: box.h - 34 };
  let body: string;
  if (data.noLocalData) body = note(inner, ['no data here:', data.noLocalData], MUTED);
  else if (!hasData(data)) body = note(inner, ['no data in this run'], ORANGE);
  else if (data.rows) body = drawTable(inner, data.rows);
  else if (panel.type === 'stat') body = await drawStat(inner, data, run);
  else body = await drawTimeSeries(inner, data, run);
  return frame + title + interval + body;
}

// --- Units --------------------------------------------------------------------

interface Unit {
  factor: number;
  /** The y axis title, and what follows a stat's number. */
  suffix: string;
  /** A d3 format for the y axis labels, when the default does not say it. */
  axisFormat?: string;
}

/** Grafana's units as the dashboards use them, scaled to the largest value drawn. */
function unitFor(unit: string | undefined, peak: number): Unit {
  switch (unit) {
    case 'percentunit':
      return { factor: 1, suffix: '%', axisFormat: '~%' };
    case 's':
      if (peak > 0 && peak < 1e-3) return { factor: 1e6, suffix: 'µs' };
      if (peak < 1) return { factor: 1e3, suffix: 'ms' };
      return { factor: 1, suffix: 's' };
    case 'bytes': {
      const steps: Array<[number, string]> = [
        [2 ** 30, 'GiB'],
        [2 ** 20, 'MiB'],
        [2 ** 10, 'KiB'],
      ];
      const [size, name] = steps.find(([s]) => peak >= s) ?? [1, 'B'];
      return { factor: 1 / size, suffix: name };
    }
    case 'reqps':
      return { factor: 1, suffix: 'req/s' };
    case 'ops':
      return { factor: 1, suffix: 'ops/s' };
    case 'x':
      return { factor: 1, suffix: '×' };
    default:
      return { factor: 1, suffix: '' };
  }
}

/** A stat's value in its unit, with the panel's decimals or else three significant digits. */
function formatValue(unit: string | undefined, v: number, decimals?: number): string {
  const u = unitFor(unit, Math.abs(v));
  const round = (x: number) => (decimals === undefined ? String(Number(x.toPrecision(3))) : x.toFixed(decimals));
  if (unit === 'percentunit') return `${round(v * 100)}%`;
  return `${round(v * u.factor)}${u.suffix && u.suffix !== '×' ? ' ' : ''}${u.suffix}`;
}

// --- Panels -------------------------------------------------------------------

async function drawTimeSeries(box: Box, data: PanelData, run: Run): Promise<string> {
  const defaults = data.panel.fieldConfig?.defaults;
  const bars = defaults?.custom?.drawStyle === 'bars';
  const stacked = bars || defaults?.custom?.stacking?.mode === 'normal';
  const peak = Math.max(0, ...data.series.flatMap((s) => s.points.map(([, v]) => Math.abs(v ?? 0))));
  const unit = unitFor(defaults?.unit, peak);
  // A stack has no gaps (a missing value adds nothing); a line breaks where its series has no value.
  const values = data.series.flatMap((s) =>
    s.points.map(([t, v]) => ({ t, s: s.name, v: v === null ? (stacked ? 0 : null) : v * unit.factor })),
  );
  const names = data.series.map((s) => s.name);
  // The legend names what fits under the plot, largest first; every series is drawn all the same.
  const columns = Math.max(1, Math.floor(box.w / 230));
  const legendRows = Math.max(1, Math.floor((box.h - 130) / 15));
  const listed = names.length <= columns * legendRows ? names : bySize(data.series).slice(0, columns * legendRows - 1);
  const hidden = names.length - listed.length;
  const mark = bars
    ? { type: 'bar' as const, opacity: 0.85 }
    : stacked
      ? { type: 'area' as const, opacity: 0.25, line: { strokeWidth: 1.2 } }
      : { type: 'line' as const, strokeWidth: 1.5 };
  // thresholdsStyle "line": a dashed line at each threshold, the SLO's bound.
  const thresholds =
    defaults?.custom?.thresholdsStyle?.mode === 'line'
      ? (defaults.thresholds?.steps ?? []).flatMap((step) => (step.value === null ? [] : [step.value * unit.factor]))
      : [];
  const drawn = [...values.flatMap((p) => (p.v === null ? [] : [p.v])), ...thresholds];
  const flat = Math.min(...drawn) === Math.max(...drawn);
  const spec: TopLevelSpec = {
    width: box.w,
    height: box.h - (hidden ? 14 : 0),
    autosize: { type: 'fit', contains: 'padding' },
    padding: 2,
    background: 'white',
    encoding: {
      y: {
        type: 'quantitative',
        // Grafana's axis follows the data unless the panel sets a min or max; a stack, or a flat line, stands on zero.
        scale: {
          zero: stacked || flat,
          ...(defaults?.min !== undefined ? { domainMin: defaults.min * unit.factor } : {}),
          ...(defaults?.max !== undefined ? { domainMax: defaults.max * unit.factor } : {}),
        },
        axis: { title: unit.suffix || null, format: unit.axisFormat, tickCount: 4 },
      },
    },
    layer: [
      {
        data: { values },
        mark,
        encoding: {
          x: {
            field: 't',
            type: 'temporal',
            // A bar spans its step.
            ...(bars ? { timeUnit: { unit: 'utcyearmonthdatehoursminutesseconds', step: run.stepSeconds } } : {}),
            scale: { type: 'utc', domain: [run.start, run.end] },
            axis: { title: null, format: '%H:%M:%S', tickCount: box.w > 500 ? 8 : 4, labelFlush: true },
          },
          y: { field: 'v', stack: stacked ? 'zero' : null },
          color: {
            field: 's',
            type: 'nominal',
            scale: { domain: names, scheme: names.length > 10 ? 'tableau20' : 'tableau10' },
            legend: {
              title: null,
              orient: 'bottom',
              direction: 'horizontal',
              columns,
              values: listed,
              labelLimit: Math.floor(box.w / columns) - 40,
              symbolType: bars || stacked ? 'square' : 'stroke',
            },
          },
        },
      },
      ...thresholds.map((value) => ({
        data: { values: [{}] },
        mark: { type: 'rule' as const, color: RED, strokeDash: [5, 4] },
        encoding: { y: { datum: value } },
      })),
    ],
    config: chartConfig(),
  };
  const chart = nest(await toSvg(spec), box.x, box.y);
  if (!hidden) return chart;
  return chart + text(box.x + 4, box.y + box.h - 2, `and ${hidden} more series drawn above, not named here`, { size: 10, color: MUTED });
}

async function drawStat(box: Box, data: PanelData, run: Run): Promise<string> {
  const defaults = data.panel.fieldConfig?.defaults;
  // Grafana's reduceOptions.calcs: lastNotNull; the value coloured by its threshold, or named by a value mapping.
  const latest = data.series.flatMap((s) => {
    const v = [...s.points].reverse().find(([, value]) => value !== null)?.[1];
    return v === undefined || v === null ? [] : [v];
  });
  const shown = latest.map((v) => {
    const mapped = defaults?.mappings?.find((m) => m.type === 'value')?.options[String(v)]?.text;
    return mapped ?? formatValue(defaults?.unit, v, defaults?.decimals);
  });
  const steps = defaults?.thresholds?.steps ?? [];
  const color = colorOf(steps.filter((step) => step.value === null || step.value <= latest[0]!).pop()?.color);
  const first = data.series[0]!;
  const spark: TopLevelSpec = {
    width: box.w,
    height: box.h,
    autosize: { type: 'fit', contains: 'padding' },
    padding: 0,
    background: 'white',
    data: { values: first.points.filter(([, v]) => v !== null).map(([t, v]) => ({ t, v })) },
    mark: { type: 'area', color, opacity: 0.15, line: { color, strokeWidth: 1 } },
    encoding: {
      x: { field: 't', type: 'temporal', scale: { type: 'utc', domain: [run.start, run.end] }, axis: null },
      y: { field: 'v', type: 'quantitative', axis: null, scale: { zero: true } },
    },
    config: chartConfig(),
  };
  const value = shown.join('  ');
  const size = Math.min(30, Math.floor((30 * (box.w - 16)) / textWidth(value, 30, 'bold')));
  return (
    nest(await toSvg(spark), box.x, box.y) +
    text(box.x + box.w / 2, box.y + box.h / 2 + size / 3, value, { size, weight: 'bold', color, anchor: 'middle', halo: true })
  );
}

const RED = '#cf222e';
const ORANGE = '#bc4c00';
/** Grafana's named colours, dark enough for text on white. */
const NAMED_COLORS: Record<string, string> = { green: '#1a7f37', orange: ORANGE, red: RED };
const colorOf = (name = 'green') => NAMED_COLORS[name] ?? name;

function drawTable(box: Box, rows: Array<Record<string, string>>): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const width = box.w / Math.max(1, columns.length);
  const line = (y: number, cells: string[], opts: { weight?: 'bold'; color?: string }) =>
    cells.map((c, i) => text(box.x + 4 + i * width, y, fit(c, width - 8, 11, opts.weight), { size: 11, ...opts })).join('');
  const out = [line(box.y + 14, columns, { weight: 'bold', color: MUTED })];
  rows.forEach((r, i) => {
    const y = box.y + 34 + i * 18;
    if (y < box.y + box.h)
      out.push(
        line(
          y,
          columns.map((c) => r[c] ?? ''),
          {},
        ),
      );
  });
  return out.join('');
}

function note(box: Box, lines: string[], color: string): string {
  const wrapped = lines.flatMap((l) => wrap(l, box.w - 20, 12));
  const top = box.y + box.h / 2 - ((wrapped.length - 1) * 16) / 2;
  return wrapped.map((l, i) => text(box.x + box.w / 2, top + i * 16, l, { size: 12, color, anchor: 'middle', italic: true })).join('');
}

// --- Vega and SVG -------------------------------------------------------------

function chartConfig() {
  return {
    font: FONT,
    view: { stroke: null },
    axis: { labelFontSize: 10, titleFontSize: 10, labelColor: MUTED, titleColor: MUTED, gridColor: '#eaeef2', domainColor: '#d0d7de' },
    legend: { labelFontSize: 10, labelColor: TEXT, symbolSize: 60, rowPadding: 2, columnPadding: 10 },
  };
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A chart's own <svg> placed at (x, y) on the page. */
function nest(svg: string, x: number, y: number): string {
  return svg.replace(/^<svg /, `<svg x="${x}" y="${y}" `);
}

function text(
  x: number,
  y: number,
  content: string,
  // halo: a white outline under the letters, so a value stays readable over its sparkline.
  opts: { size: number; weight?: 'bold'; color?: string; anchor?: 'middle' | 'end'; italic?: boolean; halo?: boolean },
): string {
  const attrs = [
    `x="${x}"`,
    `y="${y}"`,
    `font-size="${opts.size}"`,
    `fill="${opts.color ?? TEXT}"`,
    opts.weight ? `font-weight="${opts.weight}"` : '',
    opts.anchor ? `text-anchor="${opts.anchor}"` : '',
    opts.italic ? 'font-style="italic"' : '',
    opts.halo ? 'stroke="white" stroke-width="4" stroke-linejoin="round" paint-order="stroke"' : '',
  ];
  return `<text ${attrs.filter(Boolean).join(' ')}>${escapeXml(content)}</text>`;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Shortens text to what fits in `width` pixels at `size`. */
function fit(s: string, width: number, size: number, weight?: 'bold'): string {
  if (textWidth(s, size, weight) <= width) return s;
  let n = s.length - 1;
  while (n > 1 && textWidth(`${s.slice(0, n)}…`, size, weight) > width) n--;
  return `${s.slice(0, n)}…`;
}

/** Breaks text into lines of at most `width` pixels at `size`. */
function wrap(s: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.split(/\s+/)) {
    if (line && textWidth(`${line} ${word}`, size) > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** Series names, the largest peak first. */
function bySize(series: Series[]): string[] {
  const peak = (s: Series) => Math.max(0, ...s.points.map(([, v]) => v ?? 0));
  return [...series].sort((a, b) => peak(b) - peak(a)).map((s) => s.name);
}
