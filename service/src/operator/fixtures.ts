// A fully-defaulted MateApp (what the API server would hand the operator), for unit tests.
import type { MateApp } from './types.js';

export function exampleApp(): MateApp {
  const q = (cpu: string, memory: string, storage: string) => ({ cpu, memory, 'ephemeral-storage': storage });
  return {
    apiVersion: 'mate.example.com/v1alpha1',
    kind: 'MateApp',
    metadata: { name: 'mate', namespace: 'mate', uid: '00000000-0000-0000-0000-000000000001', generation: 1 },
    spec: {
      image: 'registry.example.com/mate/service:1.2.3',
      imagePullPolicy: 'Always',
      replicas: { min: 2, max: 10, targetCPUUtilizationPercentage: 70 },
      resources: { requests: q('100m', '256Mi', '64Mi'), limits: q('1', '512Mi', '256Mi') },
      api: {
        logLevel: 'info',
        drainDelaySeconds: 5,
        shutdownTimeoutSeconds: 25,
        env: [
          { name: 'KAKAO_CLIENT_ID', value: 'kakao-id' },
          { name: 'LOG_LEVEL', value: 'trace' },
        ],
      },
      serviceDay: { startHour: 10, timeZone: 'Asia/Seoul' },
      commuteScaling: {
        enabled: true,
        timeZone: 'Asia/Seoul',
        start: '06:30',
        end: '09:30',
        days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
        minReplicas: 4,
      },
      database: { urlSecretRef: { name: 'mate-database', key: 'url' }, poolMax: 10, port: 3306 },
      redis: { urlSecretRef: { name: 'mate-redis', key: 'url' }, keyPrefix: 'mate:', port: 6379 },
      s3: { bucket: 'mate-images', region: 'ap-northeast-2', forcePathStyle: false, port: 443 },
      smtp: { urlSecretRef: { name: 'mate-smtp', key: 'url' }, port: 587 },
      jwt: { keysSecretRef: { name: 'mate-jwt', key: 'keys' }, issuer: 'mate', audience: 'mate-api' },
      admin: { secretRef: { name: 'mate-admin', loginIdKey: 'loginId', emailKey: 'email', passwordKey: 'password' } },
      ingress: { enabled: true, className: 'nginx', host: 'mate.example.com', tlsSecretName: 'mate-tls' },
      podDisruptionBudget: { maxUnavailable: 1 },
      rollout: { progressDeadlineSeconds: 600, autoRollback: true, revisionHistoryLimit: 5 },
      migration: { enabled: true, args: ['dist/main/migrate.js'], backoffLimit: 1, activeDeadlineSeconds: 900 },
      networkPolicy: {
        enabled: true,
        ingressControllerNamespace: 'ingress-nginx',
        prometheusNamespace: 'monitoring',
        prometheusPodLabels: { 'app.kubernetes.io/name': 'prometheus' },
        clientPodLabels: { 'mate.example.com/api-client': 'true' },
        egressCIDRs: ['10.0.0.0/16'],
        dnsNamespace: 'kube-system',
      },
      monitoring: {
        serviceMonitor: { enabled: true, interval: '30s' },
        prometheusRule: { enabled: true },
        dashboards: { enabled: true, folder: 'MATE' },
      },
      logging: {
        enabled: true,
        logstashHosts: ['logstash.mate-dev:5044'],
        filebeatImage: 'docker.elastic.co/beats/filebeat:7.17.29',
        resources: { requests: q('20m', '64Mi', '32Mi'), limits: q('200m', '160Mi', '128Mi') },
      },
      serviceAccount: {},
      securityContext: { runAsUser: 10001, runAsGroup: 10001 },
      scheduling: {},
    },
  };
}
