/**
 * What a Deployment's and a Job's status say, as pure functions: the facts
 * the plan (plan.ts) decides on.
 */
import type * as k8s from '@kubernetes/client-node';
import { ANNOTATION_SPEC_HASH, API_CONTAINER } from './names.js';
import type { MigrationPhase } from './types.js';

export function apiImage(d: k8s.V1Deployment | undefined): string | undefined {
  return d?.spec?.template.spec?.containers.find((c) => c.name === API_CONTAINER)?.image;
}

/** The Deployment was last applied from this rendering (its spec hash), so its status is that spec's. */
export function appliedFrom(d: k8s.V1Deployment | undefined, rendered: k8s.V1Deployment): boolean {
  const hash = rendered.metadata?.annotations?.[ANNOTATION_SPEC_HASH];
  return !!d && !!hash && d.metadata?.annotations?.[ANNOTATION_SPEC_HASH] === hash;
}

function observed(d: k8s.V1Deployment): boolean {
  return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);
}

/** `kubectl rollout status` says "successfully rolled out". */
export function rolledOut(d: k8s.V1Deployment | undefined): boolean {
  if (!d || !observed(d)) return false;
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  if (stalled(d)) return false;
  return (
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
  );
}

/** Pods exist and none of them, old version or new, is ready. */
export function noPodReady(d: k8s.V1Deployment | undefined): boolean {
  return (d?.status?.replicas ?? 0) > 0 && (d?.status?.readyReplicas ?? 0) === 0;
}

/** The Deployment controller gave up on the current rollout (progressDeadlineSeconds passed). */
export function stalled(d: k8s.V1Deployment | undefined): boolean {
  if (!d || !observed(d)) return false;
  const p = d.status?.conditions?.find((c) => c.type === 'Progressing');
  return p?.status === 'False' && p.reason === 'ProgressDeadlineExceeded';
}

export function jobPhase(job: k8s.V1Job): { phase: MigrationPhase; message?: string } {
  const cond = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  if (cond('Complete') ?? cond('SuccessCriteriaMet')) return { phase: 'Succeeded' };
  const failed = cond('Failed') ?? cond('FailureTarget');
  if (failed) return { phase: 'Failed', message: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the migration Job failed'}` };
  return { phase: 'Running' };
}
