/**
 * The monitoring bundle the dashboards build writes: `<uid>.json` Grafana
 * dashboards and `prometheusrule.yaml` (a PrometheusRule). The operator
 * ships them as ConfigMaps (label grafana_dashboard=1) and a PrometheusRule.
 *
 * Where: $MONITORING_DIR; else /app/monitoring in the image; else
 * dashboards/build of the repository (development).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';

export interface Dashboard {
  /** The dashboard's uid, from the file name (and its "uid" field when present). */
  uid: string;
  file: string;
  json: string;
}

export interface MonitoringBundle {
  dir: string;
  dashboards: Dashboard[];
  /** The PrometheusRule's spec (groups), when the bundle has one. */
  ruleSpec?: Record<string, unknown>;
  /** What is missing or unreadable, for the MateApp's status. */
  problems: string[];
}

export function defaultMonitoringDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MONITORING_DIR) return path.resolve(env.MONITORING_DIR);
  if (existsSync('/app/monitoring')) return '/app/monitoring';
  // The dashboards workspace, found by its name from the sources, the compiled files and the bundle alike.
  return path.join(path.dirname(createRequire(import.meta.url).resolve('@mate/dashboards/package.json')), 'build');
}

const UID = /^[A-Za-z0-9._-]{1,40}$/;

export function loadMonitoringBundle(dir: string): MonitoringBundle {
  const bundle: MonitoringBundle = { dir, dashboards: [], problems: [] };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    bundle.problems.push(`monitoring bundle ${dir} not found (build the dashboards or set MONITORING_DIR)`);
    return bundle;
  }
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const full = path.join(dir, file);
    try {
      const text = readFileSync(full, 'utf8');
      const parsed = JSON.parse(text) as { uid?: unknown; dashboard?: { uid?: unknown } };
      const uid = String(parsed.uid ?? parsed.dashboard?.uid ?? file.slice(0, -'.json'.length)).toLowerCase();
      if (!UID.test(uid)) {
        bundle.problems.push(`${file}: dashboard uid ${JSON.stringify(uid)} is not usable in a ConfigMap name`);
        continue;
      }
      bundle.dashboards.push({ uid: uid.replace(/[._]/g, '-'), file, json: text });
    } catch (err) {
      bundle.problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  const ruleFile = path.join(dir, 'prometheusrule.yaml');
  if (existsSync(ruleFile)) {
    try {
      const docs = loadAllYaml(readFileSync(ruleFile, 'utf8')) as { kind?: string; spec?: Record<string, unknown> }[];
      const rule = docs.find((d) => d?.kind === 'PrometheusRule');
      if (rule?.spec) bundle.ruleSpec = rule.spec;
      else bundle.problems.push('prometheusrule.yaml holds no PrometheusRule');
    } catch (err) {
      bundle.problems.push(`prometheusrule.yaml: ${(err as Error).message}`);
    }
  } else {
    bundle.problems.push('prometheusrule.yaml not found in the monitoring bundle');
  }
  return bundle;
}
