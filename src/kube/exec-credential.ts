// Exec credential plugins (kubelogin, `aws eks get-token`, gke-gcloud-auth-plugin, ...): the
// client.authentication.k8s.io ExecCredential protocol, run the way client-go runs it
// (k8s.io/client-go plugin/pkg/client/auth/exec/exec.go, v0.32.4, the kubectl 1.32 on this
// machine), with what a workflow step needs on top.
//
// Why not @kubernetes/client-node's own ExecAuth: it spawns the plugin with no timeout (a plugin
// waiting on a device-code prompt hangs the step), keeps its stderr unread until it exits non-zero
// (the prompt is never shown), sets no KUBERNETES_EXEC_INFO (a plugin cannot tell it must not
// prompt, and provideClusterInfo is ignored), checks neither apiVersion nor kind of the answer, and
// reports a missing binary as `spawn kubelogin ENOENT`. Its public surface offers no option for
// any of this, so the plugin is run here and handed to client-node through its public
// `addAuthenticator` (client.ts).
//
// The protocol, as client-go speaks it:
//   - the plugin gets the parent's environment, then the kubeconfig's `env` entries, then
//     KUBERNETES_EXEC_INFO: an ExecCredential of the configured apiVersion whose spec says
//     `interactive` (false here: a workflow step has no terminal; stdin is not passed) and, with
//     `provideClusterInfo: true`, `spec.cluster` (server, tls-server-name,
//     insecure-skip-tls-verify, certificate-authority-data, proxy-url, disable-compression and the
//     cluster's `client.authentication.k8s.io/exec` extension as `config`);
//   - stdout is an ExecCredential of the same apiVersion (client.authentication.k8s.io/v1 or
//     v1beta1) with `status.token`, or `status.clientCertificateData` and `status.clientKeyData`
//     (both or neither), and an optional `status.expirationTimestamp` (RFC 3339);
//   - the credential is kept until that timestamp has passed (none: for the whole run), then the
//     plugin runs again; one run at a time (client-go holds a mutex around it).
// On top of client-go: the plugin gets a bounded time (ACR_KUBE_AUTH_EXEC_TIMEOUT_MS, default
// 60 s; client-go has no limit); its stderr is shown line by line through the log (untrusted text:
// neutralised and masked there) once it has ended, after the credential it printed is masked (a
// plugin that prints its token on stderr, as some do when debugging, cannot leak it; a prompt it
// waits on is shown when the timeout stops it, and is the reason in the error); the step's own
// INPUT_* variables are not passed on (they hold this action's secret inputs; kubectl in a `run:`
// step never sees them); and a failure is kept for the run: ten namespaces do not run a broken
// plugin ten times.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join } from 'node:path';

export const EXEC_V1 = 'client.authentication.k8s.io/v1';
export const EXEC_V1BETA1 = 'client.authentication.k8s.io/v1beta1';
export type ExecApiVersion = typeof EXEC_V1 | typeof EXEC_V1BETA1;

/** A user's `exec` stanza, checked (kubeconfig.ts) and resolved as kubectl resolves it. */
export interface ExecConfig {
  /** a path (resolved against the kubeconfig's folder when relative and holding a separator) or a name looked up on PATH */
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: ExecApiVersion;
  /** `Always` is refused (kubeconfig.ts) where the plugin would run: a step has no terminal */
  interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo: boolean;
  /** the kubeconfig's own install hint, shown when the plugin is missing */
  installHint?: string;
}

/** What the plugin may be told of the cluster (spec.cluster), with provideClusterInfo. */
export interface ExecClusterInfo {
  server: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'certificate-authority-data'?: string;
  'proxy-url'?: string;
  'disable-compression'?: boolean;
  config: unknown;
}

export interface ExecCredential {
  token?: string;
  /** PEM */
  clientCertificateData?: string;
  /** PEM */
  clientKeyData?: string;
  /** ms since the epoch; undefined: valid for the whole run */
  expiresAt?: number;
}

/** An exec plugin that could not give a credential; the message says what to do. */
export class ExecPluginError extends Error {
  override name = 'ExecPluginError';
}

/** How long a plugin may run when ACR_KUBE_AUTH_EXEC_TIMEOUT_MS is not set. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/** ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: whole milliseconds, clamped to 100..600000 (default 60000). */
export function execTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  const v = env.ACR_KUBE_AUTH_EXEC_TIMEOUT_MS?.trim();
  if (!v || !/^\d{1,7}$/.test(v)) return DEFAULT_EXEC_TIMEOUT_MS;
  return Math.min(600_000, Math.max(100, Number(v)));
}

/** How to install the plugins clusters hand out most, by the command's file name. */
const REMEDIES: [RegExp, string][] = [
  [
    /^kubelogin(\.exe)?$/i,
    'Install kubelogin before this step with the azure/use-kubelogin action (`uses: azure/use-kubelogin@v1`), or see https://azure.github.io/kubelogin/install.html',
  ],
  [
    /^gke-gcloud-auth-plugin(\.exe)?$/i,
    'Install it before this step: google-github-actions/setup-gcloud with `install_components: gke-gcloud-auth-plugin`, or `gcloud components install gke-gcloud-auth-plugin`',
  ],
  [
    /^aws(\.exe)?$/i,
    "The AWS CLI is installed on GitHub's hosted runners; on another runner install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), and give it credentials with aws-actions/configure-aws-credentials",
  ],
  [
    /^aws-iam-authenticator(\.exe)?$/i,
    'Install aws-iam-authenticator before this step (https://github.com/kubernetes-sigs/aws-iam-authenticator), or use `aws eks get-token` from the AWS CLI instead',
  ],
];

/** What to do about a missing plugin: how to install the known ones, and the kubeconfig's own installHint. */
export function installRemedy(command: string, installHint?: string): string {
  const name = basename(command);
  const known =
    REMEDIES.find(([re]) => re.test(name))?.[1] ?? `Install ${name} on the runner before this step, or give a kubeconfig whose user needs no plugin`;
  const hint = installHint?.replace(/\s+/g, ' ').trim().slice(0, 500);
  return `${known}.${hint ? ` The kubeconfig says: ${hint}` : ''}`;
}

const isExecutable = (path: string): boolean => {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Where the command runs from, as Go's exec.LookPath finds it (client-go runs exec.Command): a
 * name with a path separator is used as it is; a bare name is looked up in PATH's absolute
 * entries (Go refuses a match relative to the working directory). undefined when there is none.
 */
export function findExecutable(command: string, env: Record<string, string | undefined>): string | undefined {
  const windows = process.platform === 'win32';
  const exts = windows ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : [''];
  if (command.includes('/') || (windows && command.includes('\\'))) return exts.map((e) => command + e).find(isExecutable);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const found = exts.map((e) => join(dir, command + e)).find(isExecutable);
    if (found) return found;
  }
  return undefined;
}

export interface ExecRunOptions {
  /** who the plugin serves, for messages: `user 'u'` */
  who: string;
  /** what the plugin may be told of the cluster (used with provideClusterInfo) */
  cluster: ExecClusterInfo;
  /** the environment the plugin starts from (the step's), INPUT_* left out */
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** one line of the plugin's stderr, once the plugin has ended (printed through the log: neutralised and masked) */
  stderr: (line: string) => void;
  /** registers a credential to mask before it is used */
  secret: (value: string) => void;
  now?: () => number;
}

/** The most of stdout read (an ExecCredential is a few kilobytes; a certificate chain a few more). */
const MAX_STDOUT = 1024 * 1024;
/** The end of stderr kept for the error message. */
const STDERR_TAIL = 1500;
/** The most stderr lines shown in the log (the last ones). */
const STDERR_LINES = 100;
/** After the plugin exits, how long its output may still take to close (a child it left behind may hold it open). */
const CLOSE_GRACE_MS = 500;

/** A device-code or browser sign-in prompt: the plugin waits for a person. */
const PROMPT =
  /devicelogin|device[ _-]?code|enter the code|user[ _-]code|verification[ _-]ur[il]|open the (page|url|following)|web browser|browser to/i;

function tail(stderr: string): string {
  const text = stderr.replace(/\s+/g, ' ').trim();
  return text.length > STDERR_TAIL ? `…${text.slice(-STDERR_TAIL)}` : text;
}

/** Runs the plugin once and reads its ExecCredential. Throws ExecPluginError saying what to do. */
export async function runExecPlugin(exec: ExecConfig, opts: ExecRunOptions): Promise<ExecCredential> {
  const name = basename(exec.command);
  const label = `the exec plugin '${name}' of ${opts.who}`;
  const info = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { ...(exec.provideClusterInfo ? { cluster: opts.cluster } : {}), interactive: false },
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined && !/^INPUT_/i.test(k)) env[k] = v;
  for (const e of exec.env) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify(info);

  const lines: string[] = [];
  const { stdout, stderr, code, signal, timedOut, spawnError, overflow } = await new Promise<{
    stdout: string;
    stderr: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    timedOut: boolean;
    spawnError?: NodeJS.ErrnoException;
    overflow: boolean;
  }>((resolve) => {
    // Its own process group (POSIX), so that a timeout also ends what a wrapper script started.
    const group = process.platform !== 'win32';
    const child = spawn(exec.command, exec.args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: group, windowsHide: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflowed = false;
    let err = '';
    let partial = '';
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const kill = () => {
      try {
        if (group && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    const flushLine = (line: string) => {
      const l = line.replace(/\r$/, '');
      if (!l.trim()) return;
      lines.push(l);
      if (lines.length > STDERR_LINES) lines.shift();
    };
    const finish = (extra: { timedOut?: boolean; spawnError?: NodeJS.ErrnoException } = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (partial) flushLine(partial);
      if (extra.timedOut || overflowed || !exited) kill();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: err,
        code: exited?.code ?? null,
        signal: exited?.signal ?? null,
        timedOut: !!extra.timedOut,
        spawnError: extra.spawnError,
        overflow: overflowed,
      });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), opts.timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > MAX_STDOUT) {
        overflowed = true;
        finish();
        return;
      }
      out.push(d);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      err = (err + d).slice(-64 * 1024);
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) flushLine(l);
    });
    child.on('error', (e) => finish({ spawnError: e }));
    child.on('exit', (c, s) => {
      exited = { code: c, signal: s };
      setTimeout(() => finish(), CLOSE_GRACE_MS).unref();
    });
    child.on('close', () => finish());
  });

  const said = tail(stderr);
  // what it printed ends the sentence (with a full stop unless it has one)
  const printed = said ? `; it printed: ${said.replace(/[.!?:;,]+$/, '')}` : '';
  const show = () => {
    for (const l of lines) opts.stderr(l);
  };
  if (code === 0 && !timedOut && !spawnError && !overflow) {
    return await readCredential(stdout, exec.apiVersion, label, opts.secret).finally(show);
  }
  show();
  if (spawnError) {
    if (spawnError.code === 'ENOENT')
      throw new ExecPluginError(`${label} is not installed (not found: ${exec.command}). ${installRemedy(exec.command, exec.installHint)}`);
    if (spawnError.code === 'EACCES')
      throw new ExecPluginError(`${label} (${exec.command}) cannot be run: permission denied. Make it executable (chmod +x).`);
    throw new ExecPluginError(`${label} (${exec.command}) could not be started: ${spawnError.code ?? spawnError.message}.`);
  }
  if (timedOut) {
    const waiting = PROMPT.test(stderr)
      ? ' It is waiting for someone to sign in interactively, which a workflow cannot do; give the plugin a non-interactive login (kubelogin: `kubelogin convert-kubeconfig -l workloadidentity`, or `-l azurecli` after azure/login; a service principal or workload identity elsewhere).'
      : ' Check that it can reach its identity provider, or raise ACR_KUBE_AUTH_EXEC_TIMEOUT_MS.';
    throw new ExecPluginError(`${label} did not finish within ${Math.round(opts.timeoutMs / 100) / 10} s and was stopped${printed}.${waiting}`);
  }
  if (overflow) throw new ExecPluginError(`${label} wrote more than 1 MiB to stdout; an ExecCredential is a few kilobytes.`);
  const how = code === null ? `was ended by ${signal ?? 'a signal'}` : `exited with code ${code}`;
  throw new ExecPluginError(`${label} ${how}${printed}. Run the same command in a step before this one to see why.`);
}

/** The plugin's stdout as a credential, masked; what client-go refuses is refused with its reason. */
async function readCredential(stdout: string, apiVersion: ExecApiVersion, label: string, secret: (v: string) => void): Promise<ExecCredential> {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    try {
      // client-go's decoder also reads YAML
      doc = (await import('js-yaml')).load(stdout);
    } catch {
      doc = undefined;
    }
  }
  const bad = (why: string): never => {
    throw new ExecPluginError(`${label} printed ${why}, not the ExecCredential client-go expects (${apiVersion}).`);
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return bad('no JSON object');
  const o = doc as { apiVersion?: unknown; kind?: unknown; status?: unknown };
  const status = o.status && typeof o.status === 'object' && !Array.isArray(o.status) ? (o.status as Record<string, unknown>) : undefined;
  // Mask first: whatever follows may quote the answer.
  for (const k of ['token', 'clientKeyData', 'clientCertificateData']) if (typeof status?.[k] === 'string') secret(status[k] as string);
  if (o.kind !== 'ExecCredential') return bad(`kind ${JSON.stringify(String(o.kind ?? '')).slice(0, 60)}`);
  if (o.apiVersion !== apiVersion) {
    return bad(`apiVersion ${JSON.stringify(String(o.apiVersion ?? '')).slice(0, 80)} (the kubeconfig's exec.apiVersion is ${apiVersion})`);
  }
  if (!status) return bad('no status');
  const str = (k: string) => {
    const v = status[k];
    if (v !== undefined && typeof v !== 'string') bad(`a status.${k} that is not a string`);
    return v ? (v as string) : undefined;
  };
  const token = str('token');
  const clientCertificateData = str('clientCertificateData');
  const clientKeyData = str('clientKeyData');
  if (!token && !clientCertificateData && !clientKeyData) return bad('no token and no certificate and key');
  if (!clientCertificateData !== !clientKeyData) return bad('only one of clientCertificateData and clientKeyData');
  const ts = str('expirationTimestamp');
  let expiresAt: number | undefined;
  if (ts !== undefined) {
    expiresAt = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(ts) ? Date.parse(ts) : NaN;
    if (!Number.isFinite(expiresAt)) return bad('an expirationTimestamp that is not an RFC 3339 time');
  }
  return { token, clientCertificateData, clientKeyData, expiresAt };
}

/**
 * One user's plugin for the run: the credential kept until its expirationTimestamp has passed (as
 * client-go: `now.After(exp)`), one run at a time, and a failure kept (every later request gets
 * the same error without running the plugin again).
 */
export function execCredentialSource(exec: ExecConfig, opts: ExecRunOptions): () => Promise<ExecCredential> {
  const now = opts.now ?? Date.now;
  let current: Promise<ExecCredential> | undefined;
  return async () => {
    const held = current;
    if (held) {
      const cred = await held; // a failure is rethrown: it stays for the run
      if (cred.expiresAt === undefined || now() <= cred.expiresAt) return cred;
      if (current === held) current = undefined; // expired: the first caller to see it runs the plugin again
    }
    current ??= runExecPlugin(exec, opts);
    return current;
  };
}
