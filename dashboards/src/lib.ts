/**
 * Small helpers over the Grafana Foundation SDK builders, so every MATE
 * dashboard has the same variables, links, data source and panel defaults.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { NAMESPACE } from './selectors.js';

/** Every query goes to the Prometheus data source picked in the `datasource` variable. */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  expr: string;
  legend?: string;
}

export interface PanelOptions {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  /** Grid width (of 24) and height. */
  w?: number;
  h?: number;
  min?: number;
  max?: number;
  decimals?: number;
}

export interface TimeseriesOptions extends PanelOptions {
  stack?: boolean;
  /** Draw one bar per step (with `interval`, e.g. one per hour). */
  bars?: boolean;
  /** Minimum step of the queries, e.g. '1h' for hourly bars. */
  interval?: string;
  /** Red line at this value (an SLO threshold). */
  threshold?: number;
}

export interface StatOptions extends PanelOptions {
  /** Green below the first step, then amber, then red (ascending values). */
  steps?: [number, number];
  /** Higher is better: red below the first step, amber, green above the second. */
  higherIsBetter?: boolean;
  mappings?: dashboard.ValueMapping[];
}

function targets(queries: Query[]) {
  return queries.map((q, i) => {
    const b = new DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE)
      .expr(q.expr)
      .range();
    if (q.legend) b.legendFormat(q.legend);
    return b;
  });
}

function thresholds(steps: [number, number] | undefined, higherIsBetter = false, single?: number) {
  const t = new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute);
  if (single !== undefined)
    return t.steps([
      { value: null, color: 'green' },
      { value: single, color: 'red' },
    ]);
  if (!steps) return t.steps([{ value: null, color: 'green' }]);
  const [a, b] = steps;
  return t.steps(
    higherIsBetter
      ? [
          { value: null, color: 'red' },
          { value: a, color: 'orange' },
          { value: b, color: 'green' },
        ]
      : [
          { value: null, color: 'green' },
          { value: a, color: 'orange' },
          { value: b, color: 'red' },
        ],
  );
}

export function timeseriesPanel(o: TimeseriesOptions): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .targets(targets(o.queries))
    .span(o.w ?? 12)
    .height(o.h ?? 8)
    .unit(o.unit ?? 'short')
    .lineWidth(1)
    .fillOpacity(o.bars ? 80 : 10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.stack || o.bars)
    p.stacking(new common.StackingConfigBuilder().mode(o.stack ? common.StackingMode.Normal : common.StackingMode.None));
  if (o.bars) p.drawStyle(common.GraphDrawStyle.Bars).barAlignment(common.BarAlignment.After);
  if (o.interval) p.interval(o.interval);
  if (o.threshold !== undefined)
    p.thresholds(thresholds(undefined, false, o.threshold)).thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Line),
    );
  return p;
}

export function statPanel(o: StatOptions): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .targets(targets(o.queries))
    .span(o.w ?? 4)
    .height(o.h ?? 4)
    .unit(o.unit ?? 'short')
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(o.steps, o.higherIsBetter));
  if (o.min !== undefined) p.min(o.min);
  if (o.max !== undefined) p.max(o.max);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  if (o.mappings) p.mappings(o.mappings);
  return p;
}

/** A table of the latest value of each series (instant-like: the last point of a range query). */
export function tablePanel(o: PanelOptions): table.PanelBuilder {
  const p = new table.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .targets(targets(o.queries).map((t) => t.instant().format(PromQueryFormat.Table)))
    .span(o.w ?? 12)
    .height(o.h ?? 8)
    .unit(o.unit ?? 'short')
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true } } });
  return p;
}

/** Up (1) and down (0) as words, for gauges of that kind. */
export const UP_DOWN: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: {
      '0': { text: 'down', color: 'red', index: 0 },
      '1': { text: 'up', color: 'green', index: 1 },
    },
  },
];

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  time?: { from: string; to: string };
  timezone?: string;
  /** Rows of panels, in order. */
  rows: Array<{ title: string; panels: Array<cog.Builder<dashboard.Panel>> }>;
}

/** The template variables every dashboard has: data source, namespace and instance. */
function variables(): Array<cog.Builder<dashboard.VariableModel>> {
  return [
    new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    new dashboard.QueryVariableBuilder('namespace')
      .label('Namespace')
      .datasource(DATASOURCE)
      .query('label_values(mate_build_info, namespace)')
      .definition('label_values(mate_build_info, namespace)')
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .includeAll(true)
      .allValue('.*'),
    new dashboard.QueryVariableBuilder('instance')
      .label('Instance')
      .datasource(DATASOURCE)
      .query(`label_values(mate_build_info{${NAMESPACE}}, instance)`)
      .definition(`label_values(mate_build_info{${NAMESPACE}}, instance)`)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*'),
  ];
}

/** Marks each moment a version starts running in the namespace (a deploy or a rollback). */
const DEPLOYS = new dashboard.AnnotationQueryBuilder()
  .name('Deploys')
  .datasource(DATASOURCE)
  .enable(true)
  .iconColor('purple')
  .expr(`count by (version) (mate_build_info{${NAMESPACE}}) unless count by (version) (mate_build_info{${NAMESPACE}} offset 5m)`)
  .titleFormat('version {{version}}')
  .step('1m');

export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['mate', ...spec.tags])
    .editable()
    .refresh('30s')
    .time(spec.time ?? { from: 'now-6h', to: 'now' })
    .timezone(spec.timezone ?? 'browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .variables(variables())
    .annotation(DEPLOYS)
    .link(
      new dashboard.DashboardLinkBuilder('MATE')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['mate'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  for (const row of spec.rows) {
    b.withRow(new dashboard.RowBuilder(row.title));
    for (const panel of row.panels) b.withPanel(panel);
  }
  const built = b.build();
  // Stable panel ids (Grafana would number them on load, differently after each edit).
  (built.panels ?? []).forEach((p, i) => {
    (p as { id?: number }).id = i + 1;
  });
  return built;
}
