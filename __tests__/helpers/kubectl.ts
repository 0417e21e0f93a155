// The real kubectl as the second reader of a kubeconfig: run beside the action against the same
// files, so that what kubectl accepts the action accepts, and what kubectl rejects the action
// rejects. Locally a test may skip when kubectl is absent; under CI=true it fails instead.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary } from './registry.ts';

/** undefined when kubectl is on PATH; else why the tests skip (throws under CI=true). */
export async function kubectlMissing(): Promise<string | undefined> {
  if (await hasBinary('kubectl')) return undefined;
  if (process.env.CI === 'true') throw new Error('CI=true: kubectl is not installed; the kubeconfig tests must not skip in CI');
  return 'kubectl not installed';
}

export interface KubectlRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** still running at the timeout, and killed (with its process group: the plugins it started) */
  timedOut: boolean;
}

let bin: string | undefined;
/** kubectl's own path, found on this process's PATH (a test may run it with another PATH). */
function kubectlPath(): string {
  bin ??= execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
  return bin;
}

/** A HOME of its own, so that kubectl reads no ~/.kube/config and caches discovery nowhere shared. */
const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));

/**
 * Runs kubectl with no stdin (a workflow step has no terminal: kubectl's prompts meet EOF), from
 * `cwd` (default `/`, so that a path relative to the working directory finds nothing), with
 * KUBECONFIG only as given. Never rejects.
 */
export function kubectl(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<KubectlRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, HOME: home, KUBECONFIG: undefined, ...opts.env })) if (v !== undefined) env[k] = v;
  return new Promise((resolve) => {
    const child = spawn(kubectlPath(), ['--request-timeout=10s', ...args], {
      env,
      cwd: opts.cwd ?? '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // kubectl and the plugin it waits on
      } catch {
        // gone
      }
    }, opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** A client certificate and its key (EC P-256, self-signed), as PEM files in `dir`: kubectl and Node both check that they match. */
export function writeClientCert(dir: string, cert = 'client.crt', key = 'client.key'): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=kube-user',
      '-days',
      '2',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
