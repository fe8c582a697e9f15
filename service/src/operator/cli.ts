/**
 * Release helpers, run as Helm hook Jobs with the same image
 * (`node dist/main/operator.js <command>`):
 *
 *   wait-ready      post-install/post-upgrade: wait until the MateApp runs the
 *                   release's image (Ready, and that condition's own
 *                   observedGeneration is the current one); fail at once when
 *                   Degraded says for the current generation that it cannot
 *                   get there (MigrationFailed, RolledBack, SpecRejected, …) or
 *                   a ReconcileError persists for WAIT_ERROR_GRACE_SECONDS, so
 *                   that `helm upgrade --wait --atomic` rolls the release back.
 *   delete-mateapp  pre-delete: delete the MateApp and wait until it is gone,
 *                   while the operator still runs to finalize it.
 *
 * Settings: MATEAPP_NAMESPACE, MATEAPP_NAME, MATEAPP_IMAGE (wait-ready),
 * WAIT_TIMEOUT_SECONDS (default 900), WAIT_ERROR_GRACE_SECONDS (default 120).
 */
import type * as k8s from '@kubernetes/client-node';
import { Kube } from './kube.js';
import type { MateApp } from './types.js';
import { API_VERSION, KIND } from './types.js';

export interface WaitOptions {
  namespace: string;
  name: string;
  image?: string;
  timeoutMs: number;
  /** How long a ReconcileError (retried by the operator) may last before the wait gives up. */
  errorGraceMs?: number;
  intervalMs?: number;
  /** Progress lines for the Job's log. */
  report?: (line: string) => void;
}

export type WaitResult = { ok: true; message: string } | { ok: false; message: string };

/** Degraded reasons that stay until the spec (or a Secret) changes: waiting longer cannot help. */
const TERMINAL = new Set(['MigrationFailed', 'RolledBack', 'RolloutStalled', 'InvalidSpec', 'SecretNotFound', 'SpecRejected']);
const RETRIED = 'ReconcileError';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitReady(kube: Kube, opts: WaitOptions): Promise<WaitResult> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  let erringSince: number | undefined;
  for (;;) {
    const app = await kube.get<MateApp>(API_VERSION, KIND, opts.namespace, opts.name);
    if (app) {
      const s = app.status;
      // A condition speaks for the generation it names, not for the one the status was last written for.
      const current = (type: string) => s?.conditions?.find((c) => c.type === type && c.observedGeneration === app.metadata.generation);
      const ready = current('Ready');
      const degraded = current('Degraded');
      const line = ready ? `Ready=${ready.status} (${ready.reason}): ${ready.message}` : 'waiting for the operator to see this generation';
      if (line !== last) opts.report?.(line);
      last = line;
      const rightImage = !opts.image || s?.image === opts.image;
      if (ready?.status === 'True' && rightImage) return { ok: true, message: `${opts.name} runs ${s?.version}` };
      const failing = degraded?.status === 'True' ? degraded : undefined;
      erringSince = failing?.reason === RETRIED ? (erringSince ?? Date.now()) : undefined;
      if (failing && (TERMINAL.has(failing.reason) || Date.now() - (erringSince ?? Infinity) >= (opts.errorGraceMs ?? 120_000))) {
        return { ok: false, message: `${opts.name} is Degraded (${failing.reason}): ${failing.message}` };
      }
    } else if (last !== 'missing') {
      opts.report?.(`MateApp ${opts.namespace}/${opts.name} does not exist yet`);
      last = 'missing';
    }
    if (Date.now() > deadline) return { ok: false, message: `timed out; last: ${last}` };
    await sleep(opts.intervalMs ?? 2000);
  }
}

export async function deleteMateApp(kube: Kube, opts: WaitOptions): Promise<WaitResult> {
  const existed = await kube.delete(API_VERSION, KIND, opts.namespace, opts.name, 'Foreground');
  if (!existed) return { ok: true, message: 'no MateApp to delete' };
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (!(await kube.get(API_VERSION, KIND, opts.namespace, opts.name))) return { ok: true, message: `${opts.name} deleted` };
    await sleep(opts.intervalMs ?? 1000);
  }
  return { ok: false, message: `${opts.name} still exists: is the operator running?` };
}

export const COMMANDS = ['wait-ready', 'delete-mateapp'] as const;

/** Runs a hook command; resolves to the process exit code. */
export async function runCommand(command: string, kubeConfig: k8s.KubeConfig, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!(COMMANDS as readonly string[]).includes(command)) {
    console.error(`mate-operator: unknown command ${command} (${COMMANDS.join(', ')}, or none to run the operator)`);
    return 2;
  }
  const { MATEAPP_NAMESPACE: namespace, MATEAPP_NAME: name, MATEAPP_IMAGE: image, WAIT_TIMEOUT_SECONDS, WAIT_ERROR_GRACE_SECONDS } = env;
  if (!namespace || !name) {
    console.error('mate-operator: MATEAPP_NAMESPACE and MATEAPP_NAME are required');
    return 2;
  }
  const opts = {
    namespace,
    name,
    image,
    timeoutMs: Number(WAIT_TIMEOUT_SECONDS ?? 900) * 1000,
    errorGraceMs: Number(WAIT_ERROR_GRACE_SECONDS ?? 120) * 1000,
    report: (l: string) => process.stdout.write(`${l}\n`),
  };
  const kube = new Kube(kubeConfig);
  const result = command === 'wait-ready' ? await waitReady(kube, opts) : await deleteMateApp(kube, opts);
  if (result.ok) process.stdout.write(`mate-operator ${command}: ${result.message}\n`);
  else console.error(`mate-operator ${command}: ${result.message}`);
  return result.ok ? 0 : 1;
}
