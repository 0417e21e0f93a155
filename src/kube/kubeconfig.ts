// The kubeconfig: where it comes from, its credentials (masked by main.ts before anything can
// print), and the check before any network call that it reads, parses and has the context to use.
// The Kubernetes client loads it later from the same text.
//
// A kubeconfig is a secret. The `kubeconfig` input is either a path or the kubeconfig itself, as
// YAML or as the JSON `kubectl config view --raw -o json` prints (one line or pretty; kubectl and
// @kubernetes/client-node read both, JSON being YAML). No message here ever holds the input's
// value: a kubeconfig mistaken for a path would print its token. Errors name the input and what
// is wrong; a path is printed only when it came from KUBECONFIG or is the default ~/.kube/config.
// js-yaml's parser is loaded only when there is a YAML kubeconfig to read (the render path never
// loads it).
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.ts';

export interface KubeconfigSource {
  /** the kubeconfig text */
  text: string;
  /** where it came from, for messages (never the input's value) */
  origin: string;
  /** the context to use */
  context: string;
}

const INPUT = 'kubeconfig';
const ACCEPTED = 'a path to a kubeconfig file, or the kubeconfig itself (YAML, or JSON as `kubectl config view --raw -o json` prints it)';

type Env = Record<string, string | undefined>;
export type KubeconfigLocation = { inline: string } | { path: string; from: 'input' | 'KUBECONFIG' | 'default' };

/** A value that is a kubeconfig rather than a path: a path has no line break and does not start with `{` or a kubeconfig key. */
function isInline(value: string): boolean {
  return (
    /[\r\n]/.test(value) || value.startsWith('{') || /^"?(apiVersion|kind|clusters|contexts|users|current-context|preferences)"?\s*:/.test(value)
  );
}

/** Where the kubeconfig comes from: the input (the kubeconfig itself, or a path), else KUBECONFIG's first entry, else ~/.kube/config. */
export function locateKubeconfig(input: string | undefined, env: Env): KubeconfigLocation {
  const value = input?.trim();
  if (value) return isInline(value) ? { inline: value } : { path: value, from: 'input' };
  const fromEnv = env.KUBECONFIG?.split(':').find((p) => p);
  return fromEnv ? { path: fromEnv, from: 'KUBECONFIG' } : { path: join(env.HOME ?? homedir(), '.kube', 'config'), from: 'default' };
}

function describe(loc: KubeconfigLocation): string {
  if ('inline' in loc) return 'the kubeconfig given inline';
  if (loc.from === 'input') return 'the file the kubeconfig input names';
  return `${loc.path} (${loc.from === 'KUBECONFIG' ? 'from KUBECONFIG' : 'the default, as KUBECONFIG is not set'})`;
}

/** The text at a location; an InputError naming `kubeconfig` (and never the input's value) when it cannot be read. */
export function readKubeconfig(loc: KubeconfigLocation): { text: string; origin: string } {
  const origin = describe(loc);
  if ('inline' in loc) return { text: loc.inline, origin };
  const fail = (forInput: string, forDefault: string): never => {
    throw new InputError(
      INPUT,
      loc.from === 'input' ? `${forInput} (the value is not shown: it may be a kubeconfig)` : `is not given, and ${origin} ${forDefault}`,
      ACCEPTED,
    );
  };
  let code: string | undefined;
  try {
    const st = statSync(loc.path);
    if (st.isDirectory()) fail('names a directory, not a kubeconfig file', 'is a directory');
    if (!st.isFile()) fail('names something that is not a regular file', 'is not a regular file');
    return { text: readFileSync(loc.path, 'utf8'), origin };
  } catch (e) {
    if (e instanceof InputError) throw e;
    code = (e as NodeJS.ErrnoException).code;
  }
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return fail('is neither a kubeconfig (YAML or JSON) nor the path of a file that exists', 'does not exist');
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'unknown error');
  return fail(`names a file that cannot be read (${why})`, `cannot be read (${why})`);
}

/** JSON directly; YAML (and JSON that JSON.parse refuses, e.g. with comments) through js-yaml. Throws on invalid text. */
async function parseKubeconfig(text: string): Promise<unknown> {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // a YAML flow mapping, or JSON with what YAML allows
    }
  }
  const { load } = await import('js-yaml');
  return load(text);
}

const SECRET_KEY = /(token|secret|password)$/i;
/** exec env values shorter than this are masked only when their name says they are secret (e.g. not a flag such as "1") */
const MIN_PLAIN_ENV = 6;

/**
 * Every credential a parsed kubeconfig holds, for masking: each user's token, password,
 * client-key-data and client-certificate-data (a certificate alone is not secret, but with the
 * key it is the user's identity, and masking it hides nothing else), auth-provider config tokens
 * and secrets, exec env values and secret-looking exec arguments (`--token=...`, `--client-secret x`),
 * and the password in a cluster's server or proxy URL.
 */
export function kubeconfigCredentials(doc: unknown): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) out.add(v);
    else if (typeof v === 'number') out.add(String(v));
  };
  const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const cfg = obj(doc);
  for (const entry of list(cfg.users)) {
    const user = obj(obj(entry).user);
    for (const k of ['token', 'password', 'client-key-data', 'client-certificate-data']) add(user[k]);
    for (const [k, v] of Object.entries(obj(obj(user['auth-provider']).config))) if (SECRET_KEY.test(k)) add(v);
    const exec = obj(user.exec);
    for (const e of list(exec.env)) {
      const { name, value } = obj(e);
      if (typeof value === 'string' && (value.length >= MIN_PLAIN_ENV || /token|secret|password|key|credential/i.test(String(name)))) add(value);
    }
    const args = list(exec.args).map(String);
    args.forEach((a, i) => {
      const m = /^--?[\w-]*(?:token|secret|password)[\w-]*=(.+)$/i.exec(a);
      if (m) add(m[1]);
      else if (/^--?[\w-]*(?:token|secret|password)$/i.test(a) && i + 1 < args.length) add(args[i + 1]);
    });
  }
  for (const entry of list(cfg.clusters)) {
    const cluster = obj(obj(entry).cluster);
    for (const k of ['server', 'proxy-url']) {
      try {
        const u = new URL(String(cluster[k]));
        if (u.password) {
          add(u.password);
          add(decodeURIComponent(u.password));
        }
      } catch {
        // not a URL: the client reports it
      }
    }
  }
  return [...out];
}

/** For a kubeconfig that does not parse: the values of credential keys, found line by line. */
function credentialsByPattern(text: string): string[] {
  const re = /"?(token|password|client-key-data|client-certificate-data|access-token|refresh-token|id-token|client-secret)"?\s*:\s*"?([^"\s,}]+)/g;
  return [...text.matchAll(re)].map((m) => m[2]);
}

/**
 * Masks what the run's kubeconfig holds before anything can print: the inline input whole, and
 * every credential in it or in the files the input, KUBECONFIG (each entry) or ~/.kube/config
 * name. What cannot be read is left for resolveKubeconfig to report.
 */
export async function maskKubeconfig(input: string, env: Env, setSecret: (value: string) => void): Promise<void> {
  const loc = locateKubeconfig(input, env);
  const texts: string[] = [];
  if ('inline' in loc) {
    setSecret(loc.inline);
    texts.push(loc.inline);
  } else {
    const paths = loc.from === 'KUBECONFIG' ? env.KUBECONFIG!.split(':').filter(Boolean) : [loc.path];
    for (const path of paths) {
      try {
        if (statSync(path).isFile()) texts.push(readFileSync(path, 'utf8'));
      } catch {
        // resolveKubeconfig reports it
      }
    }
  }
  for (const text of texts) {
    let creds: string[];
    try {
      creds = kubeconfigCredentials(await parseKubeconfig(text));
    } catch {
      creds = credentialsByPattern(text);
    }
    for (const c of creds) setSecret(c);
  }
}

export async function resolveKubeconfig(input: string | undefined, contextInput: string | undefined, env: Env): Promise<KubeconfigSource> {
  const { text, origin } = readKubeconfig(locateKubeconfig(input, env));
  let doc: unknown;
  try {
    doc = await parseKubeconfig(text);
  } catch {
    throw new InputError(INPUT, `${origin} is not valid YAML or JSON`, ACCEPTED);
  }
  const cfg = doc as { contexts?: { name?: string }[]; 'current-context'?: string; clusters?: unknown[] } | null;
  if (!cfg || typeof cfg !== 'object' || !Array.isArray(cfg.clusters) || !Array.isArray(cfg.contexts)) {
    throw new InputError(INPUT, `${origin} has no clusters or contexts`, ACCEPTED);
  }
  const names = cfg.contexts.map((c) => c?.name).filter((n): n is string => typeof n === 'string');
  const context = contextInput ?? cfg['current-context'];
  if (!context) {
    throw new InputError('kube-context', `${origin} has no current context`, `one of its contexts: ${names.join(', ') || '(none)'}`);
  }
  if (!names.includes(context)) {
    throw new InputError('kube-context', `context '${context}' is not in ${origin}`, `one of: ${names.join(', ') || '(none)'}`);
  }
  return { text, origin, context };
}
