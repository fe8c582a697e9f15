// Shared helpers for tests/cluster: where the local control plane's kubeconfig
// and tools are, kubectl, API clients, and throw-away namespaces.
// The control plane is started by scripts/k8s/up.sh (see scripts/k8s/README.md).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import * as k8s from '@kubernetes/client-node';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const goMod = readFileSync(path.join(repoRoot, 'tools/kube/go.mod'), 'utf8');
/** k8s.io/kubernetes version pinned by tools/kube/go.mod, e.g. "v1.37.2". */
export const k8sVersion = /^require k8s\.io\/kubernetes (v\d+\.\d+\.\d+)\b/m.exec(goMod)?.[1] ?? '';
if (!k8sVersion) throw new Error('tools/kube/go.mod does not pin k8s.io/kubernetes');

const cache = process.env.MATE_CACHE ?? path.join(homedir(), '.cache', 'mate');
/** Where scripts/k8s/tools.sh installs kubectl, kube-score, actionlint, helm, kwok. */
export const toolsBin = process.env.MATE_K8S_BIN ?? path.join(cache, 'tools', `k8s-${k8sVersion.slice(1)}`, 'bin');
/** Admin kubeconfig of the control plane: $MATE_KUBECONFIG, else the one up.sh writes. */
export const kubeconfigPath = process.env.MATE_KUBECONFIG ?? path.join(cache, 'run', 'k8s', 'kubeconfig');

export function tool(name: string): string {
  const file = path.join(toolsBin, name);
  if (!existsSync(file)) {
    throw new Error(`${name} not found at ${file}: run scripts/k8s/tools.sh (or set MATE_K8S_BIN)`);
  }
  return file;
}

export function kubeConfig(): k8s.KubeConfig {
  if (!existsSync(kubeconfigPath)) {
    throw new Error(`no kubeconfig at ${kubeconfigPath}: start the control plane with scripts/k8s/up.sh ` + 'or set MATE_KUBECONFIG');
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; never throws on a non-zero exit (the caller asserts on `code`). */
export function run(file: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Without input, stdin is /dev/null: nothing to write, so nothing to fail.
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (child.stdin) {
      // A child may exit before it reads its input (it failed on its arguments, or needed none of it):
      // the write then fails with EPIPE, and its exit code and output are the result.
      child.stdin.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') reject(err);
      });
      child.stdin.end(input);
    }
  });
}

export function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run(tool('kubectl'), [`--kubeconfig=${kubeconfigPath}`, ...args], input);
}

/** Like kubectl() but throws with stderr when it fails. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export function execText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

export function apiStatus(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? (err.code as number) : undefined;
}

/** Body of an ApiException as text (the Status message), for assertions. */
export function apiMessage(err: unknown): string {
  if (err instanceof k8s.ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        return String((JSON.parse(body) as { message?: unknown }).message ?? body);
      } catch {
        return body;
      }
    }
    return JSON.stringify(body);
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates a namespace with a unique name for one test, waits for its default
 * ServiceAccount (pods are refused before it exists), and deletes it, waiting
 * until it is gone, when the test ends.
 */
export async function testNamespace(t: TestContext, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await createNamespace(t, name, labels);
  return name;
}

export async function createNamespace(t: TestContext, name: string, labels: Record<string, string> = {}): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'mate.test/owner': 'tests-cluster', ...labels } } },
  });
  t.after(() => deleteNamespace(name));
  await waitFor(`default ServiceAccount in ${name}`, () => core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
}

export async function deleteNamespace(name: string): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (apiStatus(err) === 404) return;
    throw err;
  }
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => {
      try {
        await core.readNamespace({ name });
        return undefined;
      } catch (err) {
        if (apiStatus(err) === 404) return true;
        throw err;
      }
    },
    120_000,
    500,
  );
}

/** A container securityContext that satisfies the "restricted" Pod Security Standard. */
export const restrictedContainerSecurity: k8s.V1SecurityContext = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  runAsUser: 65532,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
  readOnlyRootFilesystem: true,
};
