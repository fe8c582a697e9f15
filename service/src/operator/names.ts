/** Names, labels and hashes of what the operator owns. */
import { createHash } from 'node:crypto';
import type { MateApp, MateAppSpec } from './types.js';
import { GROUP } from './types.js';

export const MANAGED_BY = 'mate-operator';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_VERSION = 'app.kubernetes.io/version';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
/** On objects outside the MateApp's namespace (no owner reference possible): whose they are. */
export const LABEL_OWNER_NAMESPACE = `${GROUP}/owner-namespace`;
export const LABEL_OWNER_NAME = `${GROUP}/owner-name`;
export const LABEL_MIGRATION_HASH = `${GROUP}/migration-hash`;
export const LABEL_DASHBOARD = `${GROUP}/dashboard`;
export const ANNOTATION_CONFIG_HASH = `${GROUP}/config-hash`;
/** On the API pods: a hash of the values of the Secret keys they read, so that a rotation rolls them. */
export const ANNOTATION_SECRETS_HASH = `${GROUP}/secrets-hash`;
/** On the API Deployment: a hash of the spec the operator rendered for it. */
export const ANNOTATION_SPEC_HASH = `${GROUP}/spec-hash`;

/** Selects everything the operator made, in every namespace (the informers' selector). */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export { API_CONTAINER } from '../platform/observability/contract.js';
export const API_PORT = 8080;
export const LOG_DIR = '/var/log/mate';
export const LOG_FILE = `${LOG_DIR}/api.log`;

export function shortHash(value: unknown, length = 10): string {
  return createHash('sha256')
    .update(typeof value === 'string' ? value : JSON.stringify(value))
    .digest('hex')
    .slice(0, length);
}

/** The version an image reference names: its tag, else the start of its digest. */
export function versionOf(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return withoutDigest.slice(colon + 1);
  return at >= 0 ? image.slice(at + 1, at + 1 + 19) : 'latest';
}

/** A label value (63 characters of [A-Za-z0-9._-], alphanumeric at both ends). */
export function labelValue(value: string): string {
  const v = value
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v;
}

/** Migration settings that make a new migration Job: the image, what it runs, and which database. */
export function migrationHash(spec: MateAppSpec, image: string): string {
  return shortHash({ image, args: spec.migration.args, database: spec.database.migrationUrlSecretRef ?? spec.database.urlSecretRef });
}

export const names = (app: MateApp) => {
  const n = app.metadata.name;
  return {
    deployment: n,
    service: n,
    ingress: n,
    pdb: n,
    hpa: n,
    networkPolicy: n,
    serviceAccount: `${n}-api`,
    serviceMonitor: n,
    prometheusRule: `${n}-alerts`,
    filebeatConfig: `${n}-filebeat`,
    migrationJob: (hash: string) => `${n}-migrate-${hash}`,
    dashboard: (uid: string) => `${n}-dashboard-${uid}`.slice(0, 253),
  };
};

/** Labels every owned object carries. */
export function commonLabels(app: MateApp, component: string): Record<string, string> {
  return {
    [LABEL_NAME]: 'mate',
    [LABEL_INSTANCE]: app.metadata.name,
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: 'mate',
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
}

/** The API pods' selector (stable across versions). */
export function apiSelector(app: MateApp): Record<string, string> {
  return { [LABEL_NAME]: 'mate', [LABEL_INSTANCE]: app.metadata.name, [LABEL_COMPONENT]: 'api' };
}

/** Every pod of the instance (API and migration Jobs): the NetworkPolicy's selector. */
export function instanceSelector(app: MateApp): Record<string, string> {
  return { [LABEL_NAME]: 'mate', [LABEL_INSTANCE]: app.metadata.name };
}

export const selectorString = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export const appKey = (namespace: string, name: string) => `${namespace}/${name}`;
