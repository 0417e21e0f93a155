// The leak scan every end-to-end run goes through (issue #7): every secret the emulator knows (and
// every secret input) must appear in what the step left behind only where the runner would have
// masked it. The scan applies the masks the step registered (`::add-mask::`) the way the runner's
// masker does, then looks for each secret, also inside base64 (the `auth` field, the
// .dockerconfigjson data, the manifest), and a multi-line secret also as one line (its line breaks
// escaped or collapsed, as a log line would show it). The secrets include the kubeconfig's
// (issue #12): the inline input whole, and every credential in it or in the file the run uses.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

export interface LeakReport {
  where: string;
  secret: string;
}

const MIN_LEN = 6;

/** Every secret value in the emulator's state: app secrets, admin and token passwords, refresh tokens, reset secrets. */
export function secretsInState(state: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown, key: string, depth: number) => {
    if (depth > 12 || v === null || v === undefined) return;
    if (typeof v === 'string') {
      if (/secret|password|^value$|refresh|^token$/i.test(key) && v.length >= MIN_LEN && !/^\d{4}-\d\d-\d\dT/.test(v)) found.add(v);
      return;
    }
    if (Array.isArray(v)) return v.forEach((x) => walk(x, key, depth + 1));
    if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (/refreshTokens/i.test(key) && k.length >= MIN_LEN) found.add(k);
        if (k === 'kube') continue; // Kubernetes objects are scanned by what the action prints, not by field names
        if (/^can[A-Z]/.test(k)) continue; // permission lists (canAddPassword: app ids), not secrets
        walk(x, k, depth + 1);
      }
    }
  };
  walk(state, '', 0);
  // Names that the walker picks up but that are not secret.
  for (const benign of ['password1', 'password2', 'Bearer']) found.delete(benign);
  return [...found];
}

/**
 * Every credential in a kubeconfig (read here on its own terms, not through src/): users' token,
 * password, client-key-data and client-certificate-data, auth-provider config values, exec env
 * values and exec arguments. Unparsable text gives none.
 */
export function kubeconfigSecrets(text: string): string[] {
  let doc: unknown;
  try {
    doc = load(text);
  } catch {
    return [];
  }
  const found: string[] = [];
  const users = (doc as { users?: { user?: Record<string, unknown> }[] } | null)?.users;
  for (const { user } of Array.isArray(users) ? users : []) {
    if (!user) continue;
    for (const k of ['token', 'password', 'client-key-data', 'client-certificate-data']) if (typeof user[k] === 'string') found.push(user[k]);
    const provider = user['auth-provider'] as { config?: Record<string, unknown> } | undefined;
    for (const [k, v] of Object.entries(provider?.config ?? {})) if (/token|secret/.test(k) && typeof v === 'string') found.push(v);
    const exec = user.exec as { env?: { value?: unknown }[]; args?: unknown[] } | undefined;
    for (const e of exec?.env ?? []) if (typeof e.value === 'string') found.push(e.value);
  }
  return found;
}

/** The secrets of one run: those the emulator knows, the secret inputs, and the kubeconfig's. */
export function runSecrets(state: unknown, inputs: Record<string, string>, env: Record<string, string | undefined>): string[] {
  const found = state ? secretsInState(state) : [];
  for (const k of ['client-secret', 'password', 'service-principal-secret']) if (inputs[k]) found.push(inputs[k]);
  const credsSecret = /"clientSecret"\s*:\s*"([^"]+)"/.exec(inputs.creds ?? '')?.[1];
  if (credsSecret) found.push(credsSecret);
  const kubeconfig = inputs.kubeconfig?.trim();
  const files: string[] = [];
  if (kubeconfig && /[\n{]|^"?apiVersion/.test(kubeconfig)) {
    found.push(kubeconfig, ...kubeconfigSecrets(kubeconfig));
  } else if (kubeconfig) files.push(kubeconfig);
  else files.push(...(env.KUBECONFIG ?? '').split(':').filter(Boolean));
  for (const f of files) if (existsSync(f) && statSync(f).isFile()) found.push(...kubeconfigSecrets(readFileSync(f, 'utf8')));
  return [...new Set(found)];
}

/** A secret as a log line may show it: a multi-line one also with its line breaks escaped (`\n`) or collapsed to a space. */
function renderings(secret: string): string[] {
  if (!/[\r\n]/.test(secret)) return [secret];
  const escaped = secret.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const collapsed = secret.replace(/\s*\r?\n\s*/g, ' ');
  return [secret, escaped, collapsed];
}

const B64 = /[A-Za-z0-9+/_-]{12,}={0,2}/g;

/** Whether text holds a secret, directly or inside base64 (two levels deep). */
export function findSecret(text: string, secrets: string[], depth = 0): string | undefined {
  for (const s of secrets) if (text.includes(s)) return s;
  if (depth >= 2) return undefined;
  for (const m of text.matchAll(B64)) {
    let decoded: string;
    try {
      decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    } catch {
      continue;
    }
    if (!/^[\t\n\r\x20-\x7e]+$/.test(decoded)) continue;
    const hit = findSecret(decoded, secrets, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}

function applyMasks(line: string, masks: string[]): string {
  let out = line;
  for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) out = out.split(m).join('***');
  return out;
}

export interface ScanInput {
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  runnerTemp: string;
  /** request log lines of non-secret fields (method, host, path, query) */
  requestLog: string[];
  secrets: string[];
}

export function scanRun(run: ScanInput): LeakReport[] {
  const secrets = run.secrets.flatMap(renderings).filter((s) => s && s.length >= MIN_LEN);
  const leaks: LeakReport[] = [];
  const masks: string[] = [];
  run.stdout.split('\n').forEach((line, i) => {
    if (line.startsWith('::add-mask::')) {
      masks.push(line.slice(12).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
      return;
    }
    const hit = findSecret(applyMasks(line, masks), secrets);
    if (hit) leaks.push({ where: `stdout line ${i + 1}`, secret: hit });
  });
  run.stderr.split('\n').forEach((line, i) => {
    const hit = findSecret(line, secrets);
    if (hit) leaks.push({ where: `stderr line ${i + 1}`, secret: hit });
  });
  for (const [name, value] of Object.entries(run.outputs)) {
    const hit = findSecret(applyMasks(value, masks), secrets);
    if (hit) leaks.push({ where: `output ${name} (not masked)`, secret: hit });
  }
  const s = findSecret(run.summary, secrets);
  if (s) leaks.push({ where: 'job summary', secret: s });
  for (const line of run.requestLog) {
    const hit = findSecret(line, secrets);
    if (hit) leaks.push({ where: `request log: ${line.slice(0, 80)}`, secret: hit });
  }
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  for (const file of walk(run.runnerTemp)) {
    const hit = findSecret(readFileSync(file, 'utf8'), secrets);
    if (hit) leaks.push({ where: `file left in RUNNER_TEMP: ${file}`, secret: hit });
  }
  return leaks;
}

/** Figures for the suite's closing summary: one JSON line per run, aggregated by scripts/test.mjs. */
export function recordFigure(kind: string, data: Record<string, unknown>): void {
  const dir = process.env.ACR_FIGURES_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify({ kind, ...data })}\n`);
}
