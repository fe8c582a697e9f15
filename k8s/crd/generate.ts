/**
 * Keeps the chart in step with the one source of the MateApp CRD
 * (k8s/crd/mateapp.yaml):
 *   charts/mate/crds/mateapp.yaml   a byte-for-byte copy (Helm installs CRDs from crds/)
 *   charts/mate/values.schema.json  `app` is the CRD's spec schema (less image, which comes
 *                                   from `image`), the rest is written below
 *   charts/mate/README.md           the values table, from the `# --` comments in values.yaml
 *
 *   node --import tsx k8s/crd/generate.ts          # write them
 *   node --import tsx k8s/crd/generate.ts --check  # exit 1 if any is out of date
 * tests/operator/chart.test.ts runs the check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { isMap, isScalar, isSeq, parse, parseDocument } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const crdSource = path.join(repoRoot, 'k8s', 'crd', 'mateapp.yaml');
export const chartDir = path.join(repoRoot, 'charts', 'mate');
export const chartCrd = path.join(chartDir, 'crds', 'mateapp.yaml');
export const valuesSchemaFile = path.join(chartDir, 'values.schema.json');
export const readmeFile = path.join(chartDir, 'README.md');
export const valuesFile = path.join(chartDir, 'values.yaml');

type Schema = Record<string, unknown>;

/** A structural schema as plain JSON Schema: no x-kubernetes-*, no defaults (values.yaml has them), closed objects. */
export function toJsonSchema(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-') || k === 'default') continue;
    if (k === 'format' && (v === 'int32' || v === 'int64')) continue;
    if (k === 'properties')
      out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) out[k] = toJsonSchema(v as Schema);
    else if (k === 'anyOf') out.anyOf = (v as Schema[]).map(toJsonSchema);
    else out[k] = v;
  }
  if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const obj = (description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...extra,
});
const stringMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const quantities = (what: string, quantity: Schema) =>
  obj(what, { cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }, { required: ['cpu', 'memory', 'ephemeral-storage'] });
const seconds = (description: string): Schema => ({ type: 'integer', minimum: 1, description });

export function valuesSchema(): Schema {
  const crd = parse(readFileSync(crdSource, 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: { spec: Schema } } } }[] };
  };
  const spec = toJsonSchema(crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec);
  const props = { ...(spec.properties as Record<string, Schema>) };
  delete props.image;
  delete props.imagePullPolicy;
  delete props.imagePullSecrets;
  // Optional strings the chart leaves out when empty (templates/mateapp.yaml): "" is allowed too.
  for (const [section, key] of [
    ['api', 'publicBaseUrl'],
    ['ingress', 'tlsSecretName'],
    ['s3', 'endpoint'],
    ['smtp', 'from'],
    ['scheduling', 'priorityClassName'],
  ] as const) {
    const parent = props[section]!.properties as Record<string, Schema>;
    parent[key] = { anyOf: [{ const: '' }, parent[key]!] };
  }
  // Likewise the optional Secret references: {} is allowed too.
  for (const [section, key] of [
    ['s3', 'credentialsSecretRef'],
    ['database', 'migrationUrlSecretRef'],
  ] as const) {
    const parent = props[section]!.properties as Record<string, Schema>;
    parent[key] = { anyOf: [{ type: 'object', maxProperties: 0 }, parent[key]!] };
  }
  // The operator's quantities are checked like the API's (non-negative, the CRD's pattern).
  const quantity = ((props.resources!.properties as Record<string, Schema>).requests!.properties as Record<string, Schema>).cpu!;
  const dashboards = (props.monitoring!.properties as Record<string, Schema>).dashboards!.properties as Record<string, Schema>;
  dashboards.namespace = { anyOf: [{ const: '' }, dashboards.namespace!] };
  const app: Schema = {
    ...spec,
    description: 'The spec of the MateApp the chart installs (generated from k8s/crd/mateapp.yaml).',
    required: (spec.required as string[]).filter((r) => r !== 'image'),
    properties: {
      name: str('Name of the MateApp; empty means the release name.', { maxLength: 40, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$' }),
      ...props,
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Values of the MATE chart',
    type: 'object',
    additionalProperties: false,
    required: ['image', 'operator', 'app'],
    properties: {
      image: obj(
        'The MATE image.',
        {
          repository: str('Registry and repository.', { minLength: 1 }),
          tag: str('Tag; empty means the chart appVersion.', {
            pattern: '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$',
            not: { const: 'latest' },
          }),
          digest: str('Digest; when set, the image is pulled by it (repository:tag@digest).', {
            pattern: '^(sha256:[a-f0-9]{64})?$',
          }),
          pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
        },
        { required: ['repository', 'pullPolicy'] },
      ),
      imagePullSecrets: {
        type: 'array',
        items: obj('A pull secret.', { name: str('Secret name.', { minLength: 1 }) }, { required: ['name'] }),
      },
      operator: obj(
        'The operator.',
        {
          replicas: { type: 'integer', minimum: 0, maximum: 5 },
          extraWatchNamespaces: { type: 'array', items: str('A namespace.', { pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }) },
          clusterWide: { type: 'boolean' },
          logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
          leaderElection: obj(
            'Lease timings.',
            {
              leaseDurationSeconds: seconds('Lease validity.'),
              renewDeadlineSeconds: seconds('Renew deadline.'),
              retryPeriodSeconds: seconds('Retry period.'),
            },
            { required: ['leaseDurationSeconds', 'renewDeadlineSeconds', 'retryPeriodSeconds'] },
          ),
          metricsPort: { type: 'integer', minimum: 1024, maximum: 65535 },
          resources: obj(
            'Operator resources.',
            { requests: quantities('Requests.', quantity), limits: quantities('Limits.', quantity) },
            { required: ['requests', 'limits'] },
          ),
          serviceMonitor: obj('Operator ServiceMonitor.', {
            enabled: { type: 'boolean' },
            interval: str('Scrape interval.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
            labels: stringMap('Extra labels.'),
          }),
          admissionPolicy: obj('The ValidatingAdmissionPolicy for the owned objects.', { enabled: { type: 'boolean' } }),
          prometheusNamespace: str('Prometheus namespace.', { minLength: 1 }),
          nodeSelector: stringMap('Node selector.'),
          tolerations: { type: 'array', items: { type: 'object' } },
          podAnnotations: stringMap('Pod annotations.'),
        },
        { required: ['replicas', 'leaderElection', 'metricsPort', 'resources'] },
      ),
      app,
      devSecrets: obj('Development Secrets.', {
        create: { type: 'boolean' },
        databaseUrl: str('DATABASE_URL.'),
        redisUrl: str('REDIS_URL.'),
        smtpUrl: str('SMTP_URL.'),
        jwtKeys: str('JWT_KEYS.'),
        s3AccessKeyId: str('S3_ACCESS_KEY_ID.'),
        s3SecretAccessKey: str('S3_SECRET_ACCESS_KEY.'),
      }),
      hooks: obj(
        'Release hooks.',
        {
          waitReady: obj('The post-install/post-upgrade wait.', { enabled: { type: 'boolean' } }),
          deleteMateApp: obj('The pre-delete MateApp deletion.', { enabled: { type: 'boolean' } }),
          timeoutSeconds: { type: 'integer', minimum: 30, maximum: 7200 },
          errorGraceSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
        },
        { required: ['waitReady', 'deleteMateApp', 'timeoutSeconds', 'errorGraceSeconds'] },
      ),
      test: obj('The helm test pod.', {
        enabled: { type: 'boolean' },
        nodeSelector: stringMap('Node selector.'),
        tolerations: { type: 'array', items: { type: 'object' } },
      }),
    },
  };
}

export interface ValueRow {
  key: string;
  type: string;
  default: string;
  description: string | undefined;
  leaf: boolean;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v;
}

/** Every key of values.yaml with its `# -- ` comment. */
export function valueRows(text = readFileSync(valuesFile, 'utf8')): ValueRow[] {
  const doc = parseDocument(text);
  const rows: ValueRow[] = [];
  const describe = (comment: string | null | undefined) => {
    const lines = (comment ?? '').split('\n');
    const i = lines.findIndex((l) => l.trim().startsWith('-- '));
    return i < 0
      ? undefined
      : lines
          .slice(i)
          .map((l, j) => (j === 0 ? l.trim().slice(3) : l.trim()))
          .join(' ');
  };
  const walk = (map: YAMLMap, prefix: string, mapComment?: string | null) => {
    map.items.forEach((pair: Pair, i) => {
      const key = `${prefix}${String(isScalar(pair.key) ? pair.key.value : pair.key)}`;
      const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (i === 0 ? mapComment : undefined);
      const value = pair.value;
      const js: unknown = isMap(value) || isSeq(value) || isScalar(value) ? value.toJSON() : value;
      const nested = isMap(value) && value.items.length > 0;
      rows.push({ key, type: typeOf(js), default: nested ? '' : JSON.stringify(js), description: describe(comment), leaf: !nested });
      if (nested) walk(value, `${key}.`, value.commentBefore);
    });
  };
  if (isMap(doc.contents)) walk(doc.contents, '', doc.contents.commentBefore ?? doc.commentBefore);
  return rows;
}

const START = '<!-- values:start (generated by k8s/crd/generate.ts from values.yaml) -->';
const END = '<!-- values:end -->';

export function valuesTable(rows = valueRows()): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const lines = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const r of rows)
    lines.push(`| \`${r.key}\` | ${r.type} | ${r.default ? `\`${esc(r.default)}\`` : ''} | ${esc(r.description ?? '')} |`);
  return lines.join('\n');
}

export function readmeWithTable(readme = readFileSync(readmeFile, 'utf8')): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${readmeFile} has no ${START} … ${END} section`);
  return `${readme.slice(0, a + START.length)}\n\n${valuesTable()}\n\n${readme.slice(b)}`;
}

/** The generated files' content, formatted the way `prettier --check` expects. */
export async function generated(): Promise<{ file: string; content: string }[]> {
  const json = JSON.stringify(valuesSchema(), null, 2);
  const options = (await prettier.resolveConfig(valuesSchemaFile)) ?? {};
  return [
    { file: chartCrd, content: readFileSync(crdSource, 'utf8') },
    { file: valuesSchemaFile, content: await prettier.format(json, { ...options, filepath: valuesSchemaFile }) },
    { file: readmeFile, content: readmeWithTable() },
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { file, content } of await generated()) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: stale
    }
    if (current === content) continue;
    stale++;
    if (check) process.stderr.write(`out of date: ${path.relative(repoRoot, file)}\n`);
    else {
      writeFileSync(file, content);
      process.stdout.write(`wrote ${path.relative(repoRoot, file)}\n`);
    }
  }
  if (check && stale) process.exit(1);
}
