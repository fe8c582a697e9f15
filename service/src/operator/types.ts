/**
 * The MateApp custom resource as the operator reads it. The CRD
 * (k8s/crd/mateapp.yaml) is the source of truth for the schema and its
 * defaults; these types describe the object after the API server applied
 * them, so defaulted fields are not optional here.
 */
import type * as k8s from '@kubernetes/client-node';

export const GROUP = 'mate.example.com';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'MateApp';
export const PLURAL = 'mateapps';
export const FIELD_MANAGER = 'mate-operator';
export const FINALIZER = `${GROUP}/cleanup`;

export interface SecretKeyRef {
  name: string;
  key: string;
}

export type Quantities = { cpu: string | number; memory: string | number; 'ephemeral-storage'?: string | number };
export interface Resources {
  requests: Quantities;
  limits: Quantities;
}

export type Weekday = 'Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun';

export interface MateAppSpec {
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets?: { name: string }[];
  replicas: { min: number; max: number; targetCPUUtilizationPercentage: number };
  resources: Resources;
  api: {
    publicBaseUrl?: string;
    logLevel: string;
    corsOrigins?: string[];
    trustedProxies?: string[];
    drainDelaySeconds: number;
    shutdownTimeoutSeconds: number;
    env?: { name: string; value: string }[];
  };
  serviceDay: { startHour: number; timeZone: string };
  commuteScaling: { enabled: boolean; timeZone: string; start: string; end: string; days: Weekday[]; minReplicas: number };
  database: { urlSecretRef: SecretKeyRef; migrationUrlSecretRef?: SecretKeyRef; poolMax: number; port: number };
  redis: { urlSecretRef: SecretKeyRef; keyPrefix: string; port: number };
  s3: {
    bucket: string;
    region: string;
    endpoint?: string;
    forcePathStyle: boolean;
    port: number;
    credentialsSecretRef?: { name: string; accessKeyIdKey: string; secretAccessKeyKey: string };
  };
  smtp: { urlSecretRef: SecretKeyRef; from?: string; port: number };
  jwt: { keysSecretRef: SecretKeyRef; issuer: string; audience: string };
  admin?: { secretRef?: { name: string; loginIdKey: string; emailKey: string; passwordKey: string } };
  ingress: { enabled: boolean; className: string; host?: string; tlsSecretName?: string; annotations?: Record<string, string> };
  podDisruptionBudget: { maxUnavailable: number };
  rollout: { progressDeadlineSeconds: number; autoRollback: boolean; revisionHistoryLimit: number };
  migration: { enabled: boolean; args: string[]; backoffLimit: number; activeDeadlineSeconds: number };
  networkPolicy: {
    enabled: boolean;
    ingressControllerNamespace: string;
    prometheusNamespace: string;
    prometheusPodLabels: Record<string, string>;
    clientPodLabels: Record<string, string>;
    egressCIDRs?: string[];
    dependencyEgressCIDRs?: Partial<Record<'database' | 'redis' | 's3' | 'smtp' | 'logging' | 'sts', string[]>>;
    dnsNamespace: string;
  };
  monitoring: {
    serviceMonitor: { enabled: boolean; interval: string; labels?: Record<string, string> };
    prometheusRule: { enabled: boolean; labels?: Record<string, string> };
    dashboards: { enabled: boolean; namespace?: string; folder: string };
  };
  logging: {
    enabled: boolean;
    logstashHosts?: string[];
    filebeatImage: string;
    resources: Resources;
  };
  serviceAccount: { annotations?: Record<string, string> };
  podAnnotations?: Record<string, string>;
  podLabels?: Record<string, string>;
  securityContext: { runAsUser: number; runAsGroup: number };
  scheduling: { nodeSelector?: Record<string, string>; priorityClassName?: string; tolerations?: k8s.V1Toleration[] };
}

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'MigrationComplete';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type MigrationPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Disabled';
export type RolloutPhase = 'Waiting' | 'RollingOut' | 'Complete' | 'Stalled' | 'RolledBack';

export interface MateAppStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  image?: string;
  version?: string;
  lastGoodImage?: string;
  lastGoodVersion?: string;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  selector?: string;
  migration?: { image?: string; hash?: string; jobName?: string; phase?: MigrationPhase; message?: string };
  rollout?: { image?: string; phase?: RolloutPhase; message?: string };
  rollback?: { fromImage: string; toImage: string; reason: string; time: string };
  scaling?: { rushHour: boolean; minReplicas: number; maxReplicas: number; window?: string; nextTransition?: string };
  monitoring?: { dashboards: number; prometheusRule: boolean; namespace?: string; message?: string };
}

export interface MateApp {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: k8s.V1ObjectMeta & { name: string; namespace: string };
  spec: MateAppSpec;
  status?: MateAppStatus;
}

/** Any Kubernetes object the operator renders and applies. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: k8s.V1ObjectMeta & { name: string };
  [field: string]: unknown;
}
