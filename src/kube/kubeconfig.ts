// The kubeconfig as kubectl reads it: where it comes from, its credentials (masked by main.ts
// before anything can print), and the check before any network call that it reads, parses, merges
// and has a usable context. client.ts builds the Kubernetes client from what this returns.
//
// kubectl's rules (k8s.io/client-go tools/clientcmd, v0.32.4 = the kubectl 1.32 on this machine):
//   - loader.go NewDefaultClientConfigLoadingRules: KUBECONFIG, when set, is a list
//     (filepath.SplitList: `:` here, `;` on Windows; duplicates dropped); else ~/.kube/config. An
//     explicit file (kubectl --kubeconfig; here the `kubeconfig` input) is read alone.
//   - loader.go Load: a missing explicit file is an error; missing KUBECONFIG files are skipped;
//     any other file that cannot be read or decoded is an error. Merging: "The first file to set a
//     particular map key wins and map key's value is never changed" (a cluster, user or context
//     named in two files is taken whole from the first), and the first file to set
//     current-context sets it.
//   - loader.go ResolveLocalPaths / GetClusterFileReferences / GetAuthInfoFileReferences:
//     certificate-authority, client-certificate, client-key and tokenFile, and an exec command that
//     holds a path separator, resolve against the folder of the file that defined the stanza.
//     Text that is no file (here: the inline input) has no folder: its paths stay relative to the
//     working directory (clientcmd.Load of bytes sets no LocationOfOrigin).
//   - api/v1/conversion.go: a name twice in one file's list is an error; latest.go's codec takes
//     apiVersion v1 (or none) and kind Config (or none).
//   - validation.go ConfirmUsable: the chosen context must name a user and a cluster that exist;
//     the cluster needs a server, not both certificate-authority and -data, and a readable file;
//     the user at most one of token and username/password, a key with a certificate, readable
//     files, and an exec stanza with a command, an apiVersion, named env entries and an
//     interactiveMode (api/v1/defaults.go: IfAvailable when v1beta1 leaves it out), never together
//     with an auth-provider.
//   - client_config.go getUserIdentificationPartialConfig + transport/round_trippers.go: tokenFile
//     is read (and re-read each minute, trimmed: transport/token_source.go), winning over a token;
//     exec/exec.go UpdateTransportConfig: an exec plugin runs only when the user has no token,
//     tokenFile, username/password or client certificate.
//   - a user with no credential at all makes kubectl prompt for a username and password on stdin,
//     which fails in a workflow step; the azure and gcp auth-providers are removed
//     (plugin/pkg/client/auth/{azure,gcp}/*_stub.go).
//
// A kubeconfig is a secret. The `kubeconfig` input is either a path or the kubeconfig itself, as
// YAML or as the JSON `kubectl config view --raw -o json` prints (one line or pretty; JSON is
// YAML). No message here ever holds the input's value, nor a credential: a kubeconfig mistaken for
// a path would print its token. Errors name the input and what is wrong; a path is printed only
// when it came from KUBECONFIG, is the default ~/.kube/config, or is a file the kubeconfig names.
// js-yaml's parser is loaded only when there is a YAML kubeconfig to read (the render path never
// loads it).
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { InputError } from '../errors.ts';
import { EXEC_V1, EXEC_V1BETA1, findExecutable, installRemedy, type ExecConfig } from './exec-credential.ts';

/** The chosen context's cluster, paths resolved. */
export interface KubeCluster {
  name: string;
  server: string;
  /** base64, as the kubeconfig holds it */
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  disableCompression: boolean;
  /** extensions[client.authentication.k8s.io/exec].extension: spec.cluster.config for an exec plugin */
  execConfig?: unknown;
}

/** The chosen context's user: the credentials kubectl would use, paths resolved. */
export interface KubeUser {
  name: string;
  token?: string;
  /** read (and re-read) by client.ts; wins over `token` */
  tokenFile?: string;
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** `as`: sent as Impersonate-User */
  impersonate?: string;
  /** `oidc` (the only auth-provider kubectl still has) */
  authProvider?: { name: string; config: Record<string, string> };
  /** only when the plugin is what authenticates (no token, tokenFile, basic auth or certificate) */
  exec?: ExecConfig;
}

export interface KubeconfigSource {
  /** where it came from, for messages (never the input's value) */
  origin: string;
  /** the context to use */
  context: string;
  namespace?: string;
  cluster: KubeCluster;
  user: KubeUser;
}

const INPUT = 'kubeconfig';
const ACCEPTED = 'a path to a kubeconfig file, or the kubeconfig itself (YAML, or JSON as `kubectl config view --raw -o json` prints it)';

type Env = Record<string, string | undefined>;
export type KubeconfigLocation =
  { inline: string } | { path: string; from: 'input' } | { path: string; from: 'default' } | { paths: string[]; from: 'KUBECONFIG' };

/** One kubeconfig text and where it came from. */
export interface KubeconfigText {
  text: string;
  /** for messages */
  label: string;
  /** the file it was read from (relative paths inside resolve against its folder); none for the inline input */
  file?: string;
}

/** A value that is a kubeconfig rather than a path: a path has no line break and does not start with `{` or a kubeconfig key. */
function isInline(value: string): boolean {
  return (
    /[\r\n]/.test(value) || value.startsWith('{') || /^"?(apiVersion|kind|clusters|contexts|users|current-context|preferences)"?\s*:/.test(value)
  );
}

/** Where the kubeconfig comes from: the input (the kubeconfig itself, or a path), else KUBECONFIG's list, else ~/.kube/config. */
export function locateKubeconfig(input: string | undefined, env: Env): KubeconfigLocation {
  const value = input?.trim();
  if (value) return isInline(value) ? { inline: value } : { path: value, from: 'input' };
  if (env.KUBECONFIG) return { paths: [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))], from: 'KUBECONFIG' };
  return { path: join(env.HOME ?? homedir(), '.kube', 'config'), from: 'default' };
}

function originOf(loc: KubeconfigLocation): string {
  if ('inline' in loc) return 'the kubeconfig given inline';
  if (loc.from === 'input') return 'the file the kubeconfig input names';
  if (loc.from === 'default') return `${loc.path} (the default, as KUBECONFIG is not set)`;
  return loc.paths.length === 1 ? `${loc.paths[0]} (from KUBECONFIG)` : `the kubeconfig merged from KUBECONFIG (${loc.paths.join(delimiter)})`;
}

/** A file's text; its error code when it cannot be read (ENOENT ...), or the kind of thing it is instead. */
function readFile(path: string): { text: string } | { code: string } {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { code: 'EISDIR' };
    if (!st.isFile()) return { code: 'ENOTFILE' };
    return { text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { code: (e as NodeJS.ErrnoException).code ?? 'unknown error' };
  }
}

const why = (code: string) => (code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code);

/**
 * The texts at a location; an InputError naming `kubeconfig` (and never the input's value) when
 * one cannot be read. KUBECONFIG's missing files are skipped, as kubectl skips them.
 */
export function readKubeconfig(loc: KubeconfigLocation): { files: KubeconfigText[]; origin: string } {
  const origin = originOf(loc);
  if ('inline' in loc) return { files: [{ text: loc.inline, label: origin }], origin };
  if (loc.from === 'input') {
    const r = readFile(loc.path);
    if ('text' in r) return { files: [{ text: r.text, label: origin, file: loc.path }], origin };
    const hidden = ' (the value is not shown: it may be a kubeconfig)';
    const problem =
      r.code === 'EISDIR'
        ? 'names a directory, not a kubeconfig file'
        : r.code === 'ENOTFILE'
          ? 'names something that is not a regular file'
          : r.code === 'ENOENT' || r.code === 'ENOTDIR'
            ? 'is neither a kubeconfig (YAML or JSON) nor the path of a file that exists'
            : `names a file that cannot be read (${why(r.code)})`;
    throw new InputError(INPUT, problem + hidden, ACCEPTED);
  }
  const fail = (label: string, code: string): never => {
    const problem =
      code === 'EISDIR'
        ? 'is a directory'
        : code === 'ENOTFILE'
          ? 'is not a regular file'
          : code === 'ENOENT'
            ? 'does not exist'
            : `cannot be read (${why(code)})`;
    throw new InputError(INPUT, `is not given, and ${label} ${problem}`, ACCEPTED);
  };
  if (loc.from === 'default') {
    const r = readFile(loc.path);
    return 'text' in r ? { files: [{ text: r.text, label: origin, file: loc.path }], origin } : fail(origin, r.code);
  }
  const files: KubeconfigText[] = [];
  for (const path of loc.paths) {
    const label = `${path} (from KUBECONFIG)`;
    const r = readFile(path);
    if ('text' in r) files.push({ text: r.text, label, file: path });
    else if (r.code !== 'ENOENT') fail(label, r.code);
  }
  if (!files.length) {
    throw new InputError(
      INPUT,
      loc.paths.length
        ? `is not given, and ${loc.paths.length === 1 ? `${loc.paths[0]} (from KUBECONFIG) does not exist` : `none of the files KUBECONFIG names exists (${loc.paths.join(', ')})`}`
        : 'is not given, and KUBECONFIG names no file',
      ACCEPTED,
    );
  }
  return { files, origin };
}

/** JSON directly; YAML (and JSON that JSON.parse refuses, e.g. with comments) through js-yaml. Throws on invalid text. */
async function parseKubeconfig(text: string): Promise<unknown> {
  if (!text.trim()) return null; // an empty file is an empty config (clientcmd.Load); js-yaml 5 refuses it
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

const asObj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

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
  const cfg = asObj(doc);
  for (const entry of asList(cfg.users)) {
    const user = asObj(asObj(entry).user);
    for (const k of ['token', 'password', 'client-key-data', 'client-certificate-data']) add(user[k]);
    for (const [k, v] of Object.entries(asObj(asObj(user['auth-provider']).config))) if (SECRET_KEY.test(k)) add(v);
    const exec = asObj(user.exec);
    for (const e of asList(exec.env)) {
      const { name, value } = asObj(e);
      if (typeof value === 'string' && (value.length >= MIN_PLAIN_ENV || /token|secret|password|key|credential/i.test(String(name)))) add(value);
    }
    const args = asList(exec.args).map(String);
    args.forEach((a, i) => {
      const m = /^--?[\w-]*(?:token|secret|password)[\w-]*=(.+)$/i.exec(a);
      if (m) add(m[1]);
      else if (/^--?[\w-]*(?:token|secret|password)$/i.test(a) && i + 1 < args.length) add(args[i + 1]);
    });
  }
  for (const entry of asList(cfg.clusters)) {
    const cluster = asObj(asObj(entry).cluster);
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

/** A path inside a kubeconfig, as kubectl resolves it: against the folder of the file that holds it (none inline: the working directory). */
function resolveIn(file: string | undefined, path: string): string {
  return file && !isAbsolute(path) ? join(resolve(dirname(file)), path) : path;
}

/** The most of a tokenFile read: a token is a few kilobytes. */
const MAX_TOKEN_FILE = 64 * 1024;

/** The token in a tokenFile, trimmed as client-go trims it; undefined when it cannot be read or is empty. */
export function readTokenFile(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_TOKEN_FILE) return undefined;
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Masks what the run's kubeconfig holds before anything can print: the inline input whole, every
 * credential in it or in the files the input, KUBECONFIG (each entry) or ~/.kube/config name, and
 * the tokens in the files their users' tokenFile names. What cannot be read is left for
 * resolveKubeconfig to report.
 */
export async function maskKubeconfig(input: string, env: Env, setSecret: (value: string) => void): Promise<void> {
  const loc = locateKubeconfig(input, env);
  const texts: { text: string; file?: string }[] = [];
  if ('inline' in loc) {
    setSecret(loc.inline);
    texts.push({ text: loc.inline });
  } else {
    for (const path of 'paths' in loc ? loc.paths : [loc.path]) {
      const r = readFile(path);
      if ('text' in r) texts.push({ text: r.text, file: path });
    }
  }
  for (const { text, file } of texts) {
    let doc: unknown;
    try {
      doc = await parseKubeconfig(text);
    } catch {
      for (const c of credentialsByPattern(text)) setSecret(c);
      continue;
    }
    for (const c of kubeconfigCredentials(doc)) setSecret(c);
    for (const entry of asList(asObj(doc).users)) {
      const tokenFile = asObj(asObj(entry).user).tokenFile;
      const token = typeof tokenFile === 'string' && tokenFile ? readTokenFile(resolveIn(file, tokenFile)) : undefined;
      if (token) setSecret(token);
    }
  }
}

// ------------------------------------------------------------------------------ reading and merging

/** A named stanza (a cluster, user or context) and the file it came from. */
interface Stanza {
  name: string;
  body: Record<string, unknown>;
  label: string;
  file?: string;
}

interface Merged {
  clusters: Map<string, Stanza>;
  users: Map<string, Stanza>;
  contexts: Map<string, Stanza>;
  currentContext?: string;
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

/** The fields kubectl decodes with a type, by stanza: what is not of that type is an error there too (json: cannot unmarshal ...). */
const FIELD_TYPES: Record<'cluster' | 'user' | 'context', Record<string, 'string' | 'boolean' | 'object' | 'list'>> = {
  cluster: {
    server: 'string',
    'certificate-authority': 'string',
    'certificate-authority-data': 'string',
    'tls-server-name': 'string',
    'proxy-url': 'string',
    'insecure-skip-tls-verify': 'boolean',
    'disable-compression': 'boolean',
    extensions: 'list',
  },
  user: {
    token: 'string',
    tokenFile: 'string',
    'client-certificate': 'string',
    'client-certificate-data': 'string',
    'client-key': 'string',
    'client-key-data': 'string',
    username: 'string',
    password: 'string',
    as: 'string',
    'as-uid': 'string',
    'as-groups': 'list',
    'as-user-extra': 'object',
    'auth-provider': 'object',
    exec: 'object',
  },
  context: { cluster: 'string', user: 'string', namespace: 'string' },
};

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v;
}

/** One file's stanzas, checked as kubectl decodes them; an InputError naming what is wrong (never a value). */
function readStanzas(doc: unknown, src: KubeconfigText): { lists: Record<'clusters' | 'users' | 'contexts', Stanza[]>; currentContext?: string } {
  const bad = (what: string): never => {
    throw new InputError(INPUT, `${src.label} is not a kubeconfig kubectl reads: ${what}`, ACCEPTED);
  };
  if (doc === null || doc === undefined) doc = {}; // an empty file is an empty config
  if (typeOf(doc) !== 'object') bad(`it is ${typeOf(doc) === 'list' ? 'a list' : 'not a mapping'}`);
  const cfg = doc as Record<string, unknown>;
  if (cfg.apiVersion !== undefined && cfg.apiVersion !== '' && cfg.apiVersion !== 'v1') bad("its apiVersion is not 'v1'");
  if (cfg.kind !== undefined && cfg.kind !== '' && cfg.kind !== 'Config') bad("its kind is not 'Config'");
  if (cfg['current-context'] != null && typeof cfg['current-context'] !== 'string') bad('current-context is not a string');
  const lists = { clusters: [] as Stanza[], users: [] as Stanza[], contexts: [] as Stanza[] };
  for (const [list, key] of LISTS) {
    const items = cfg[list];
    if (items == null) continue;
    if (!Array.isArray(items)) bad(`${list} is not a list`);
    const seen = new Set<string>();
    (items as unknown[]).forEach((item, i) => {
      if (typeOf(item) !== 'object') bad(`${list}[${i}] is not a mapping`);
      const { name, [key]: body } = item as Record<string, unknown>;
      if (name != null && typeof name !== 'string') bad(`${list}[${i}].name is not a string`);
      if (body != null && typeOf(body) !== 'object') bad(`${list}[${i}].${key} is not a mapping`);
      const fields = (body ?? {}) as Record<string, unknown>;
      for (const [field, type] of Object.entries(FIELD_TYPES[key])) {
        const v = fields[field];
        if (v != null && typeOf(v) !== type) bad(`${list}[${i}].${key}.${field} is not a ${type === 'object' ? 'mapping' : type}`);
      }
      const n = (name as string | undefined) ?? '';
      if (seen.has(n)) bad(`the ${key} name '${n}' is in ${list} twice`);
      seen.add(n);
      lists[list].push({ name: n, body: fields, label: src.label, file: src.file });
    });
  }
  return { lists, currentContext: (cfg['current-context'] as string | undefined) || undefined };
}

/** clientcmd's merge: the first file to name a cluster, user or context gives it whole; the first to set current-context sets it. */
function merge(files: ReturnType<typeof readStanzas>[]): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const f of files) {
    for (const [list] of LISTS) for (const s of f.lists[list]) if (!merged[list].has(s.name)) merged[list].set(s.name, s);
    merged.currentContext ??= f.currentContext;
  }
  return merged;
}

// ------------------------------------------------------------------------------ the chosen context

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** client-go's parseProxyURL: http, https and socks5 */
const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks5:']);

/** A file the kubeconfig names: it must be readable (kubectl opens it); the path is printed, its content never. */
function readable(path: string, what: string): void {
  const r = readFile(path);
  if (!('text' in r)) {
    const problem = r.code === 'ENOENT' ? 'does not exist' : r.code === 'EISDIR' ? 'is a directory' : `cannot be read (${why(r.code)})`;
    throw new InputError(INPUT, `${what} ${path} ${problem}`, "paths that exist (a relative path is taken from the kubeconfig file's folder)");
  }
}

/** The origin of a server URL (never its path, query or userinfo), for messages. */
export function serverOrigin(server: string): string {
  try {
    return new URL(server).origin;
  } catch {
    return 'not a URL';
  }
}

/** The bearer token, the client key and every Secret body travel on this connection: never in cleartext. */
export function requireHttps(server: string, context: string): void {
  if (!/^https:\/\//i.test(server)) {
    throw new InputError(
      INPUT,
      `the server of context '${context}' is ${serverOrigin(server)}, not HTTPS; the action sends the cluster's credentials and Secrets only over HTTPS, so nothing was sent`,
      'a cluster whose server is an https:// URL',
    );
  }
}

function readCluster(s: Stanza, context: string): KubeCluster {
  const c = s.body;
  const what = `cluster '${s.name}' (of ${s.label})`;
  const server = str(c.server);
  if (!server) throw new InputError(INPUT, `${what} has no server`, 'a cluster with its API server URL');
  requireHttps(server, context);
  const proxyUrl = str(c['proxy-url']);
  if (proxyUrl) {
    let scheme = '';
    try {
      scheme = new URL(proxyUrl).protocol;
    } catch {
      // reported below
    }
    if (!PROXY_SCHEMES.has(scheme))
      throw new InputError(INPUT, `${what} has a proxy-url that is not an http, https or socks5 URL`, 'a proxy-url kubectl accepts');
  }
  const caData = str(c['certificate-authority-data']);
  let caFile = str(c['certificate-authority']);
  if (caData && caFile) {
    throw new InputError(INPUT, `${what} has both certificate-authority-data and certificate-authority (kubectl refuses that too)`, 'one of them');
  }
  if (caFile) {
    caFile = resolveIn(s.file, caFile);
    readable(caFile, `the certificate-authority of ${what},`);
  }
  const ext = asList(c.extensions)
    .map(asObj)
    .find((e) => e.name === 'client.authentication.k8s.io/exec');
  return {
    name: s.name,
    server,
    caData,
    caFile,
    skipTLSVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: str(c['tls-server-name']),
    proxyUrl,
    disableCompression: c['disable-compression'] === true,
    execConfig: ext?.extension,
  };
}

/** A user's exec stanza, checked as kubectl checks it; `used`: the plugin is what authenticates (kubectl then also refuses `Always`). */
function readExec(raw: Record<string, unknown>, s: Stanza, what: string, used: boolean): ExecConfig {
  const fail = (problem: string, accepted?: string): never => {
    throw new InputError(INPUT, `the exec plugin of ${what} ${problem}`, accepted);
  };
  const apiVersion = raw.apiVersion;
  if (!str(apiVersion)) fail('has no apiVersion', `${EXEC_V1} or ${EXEC_V1BETA1}`);
  if (apiVersion !== EXEC_V1 && apiVersion !== EXEC_V1BETA1) {
    fail(`has apiVersion ${JSON.stringify(String(apiVersion)).slice(0, 80)}, which kubectl does not run`, `${EXEC_V1} or ${EXEC_V1BETA1}`);
  }
  const command = str(raw.command) ?? fail('has no command', 'the plugin to run, e.g. kubelogin');
  const args = raw.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) fail('has args that are not a list of strings');
  const envList = raw.env ?? [];
  if (!Array.isArray(envList)) fail('has an env that is not a list');
  const pairs = (envList as unknown[]).map((e) => asObj(e));
  if (pairs.some((e) => typeof e.name !== 'string' || !e.name || (e.value != null && typeof e.value !== 'string'))) {
    fail('has an env entry without a name, or with a value that is not a string', 'env entries of name and value');
  }
  // api/v1/defaults.go: v1beta1 defaults to IfAvailable; v1 must say.
  const mode = raw.interactiveMode ?? (apiVersion === EXEC_V1BETA1 ? 'IfAvailable' : undefined);
  if (mode === undefined || mode === '') fail(`has no interactiveMode (${EXEC_V1} requires it; kubectl refuses it too)`, 'interactiveMode: Never');
  // exec.go isInteractive: Always fails when the plugin runs ("standard input is not a terminal")
  if (mode === 'Always' && used) {
    fail(
      'has interactiveMode: Always: it needs a terminal, and a workflow step has none (kubectl fails it too: "standard input is not a terminal")',
      'interactiveMode: Never (or IfAvailable), with a plugin that signs in without a person, e.g. kubelogin -l workloadidentity or azurecli',
    );
  }
  if (mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always')
    fail(`has interactiveMode ${JSON.stringify(String(mode)).slice(0, 40)}`, 'Never, IfAvailable or Always');
  if (raw.provideClusterInfo != null && typeof raw.provideClusterInfo !== 'boolean') fail('has a provideClusterInfo that is not true or false');
  if (raw.installHint != null && typeof raw.installHint !== 'string') fail('has an installHint that is not a string');
  // GetAuthInfoFileReferences: only a command with a path separator is a path (else PATH finds it)
  const resolved = command.includes(sep) || command.includes('/') ? resolveIn(s.file, command) : command;
  return {
    command: resolved,
    args: args as string[],
    env: pairs.map((e) => ({ name: e.name as string, value: (e.value as string | undefined) ?? '' })),
    apiVersion: apiVersion as ExecConfig['apiVersion'],
    interactiveMode: mode as ExecConfig['interactiveMode'],
    provideClusterInfo: raw.provideClusterInfo === true,
    installHint: str(raw.installHint),
  };
}

/** The plugin's executable, found as exec.Command finds it; a missing one is an InputError saying how to install it. */
function locateExec(exec: ExecConfig, what: string, env: Env): ExecConfig {
  const found = findExecutable(exec.command, env);
  if (found) return { ...exec, command: found };
  const bare = !exec.command.includes('/') && !exec.command.includes(sep);
  throw new InputError(
    INPUT,
    `${what} gets its credential from the exec plugin '${basename(exec.command)}', which is not installed here (${bare ? 'not found on PATH' : `${exec.command} is not an executable file`}). ${installRemedy(exec.command, exec.installHint)}`,
  );
}

function readUser(s: Stanza, env: Env): KubeUser {
  const u = s.body;
  const what = `user '${s.name}' (of ${s.label})`;
  const token = str(u.token);
  const tokenFile = str(u.tokenFile) && resolveIn(s.file, u.tokenFile as string);
  const username = str(u.username);
  const password = str(u.password);
  const basic = !!(username || password);
  if (token && basic) {
    throw new InputError(
      INPUT,
      `more than one authentication method found for ${what}; found [token basicAuth], only one is allowed (kubectl's own words)`,
      'one of token and username/password',
    );
  }
  if (tokenFile && basic) throw new InputError(INPUT, `${what} has both tokenFile and username/password (kubectl refuses that too)`, 'one of them');
  const certData = str(u['client-certificate-data']);
  let certFile = str(u['client-certificate']);
  const keyData = str(u['client-key-data']);
  let keyFile = str(u['client-key']);
  const cert = !!(certData || certFile);
  if (cert) {
    if (certData && certFile)
      throw new InputError(INPUT, `${what} has both client-certificate-data and client-certificate (kubectl refuses that too)`, 'one of them');
    if (keyData && keyFile) throw new InputError(INPUT, `${what} has both client-key-data and client-key (kubectl refuses that too)`, 'one of them');
    if (!keyData && !keyFile)
      throw new InputError(INPUT, `${what} has a client certificate but no client-key or client-key-data`, 'the key with the certificate');
    if (certFile) readable((certFile = resolveIn(s.file, certFile)), `the client-certificate of ${what},`);
    if (keyFile) readable((keyFile = resolveIn(s.file, keyFile)), `the client-key of ${what},`);
  }
  if (tokenFile && !token) {
    readable(tokenFile, `the tokenFile of ${what},`);
    if (!readTokenFile(tokenFile))
      throw new InputError(INPUT, `the tokenFile of ${what}, ${tokenFile}, holds no token`, 'a file holding the bearer token');
  }
  for (const k of ['as-uid', 'as-groups', 'as-user-extra']) {
    if (u[k] != null) {
      throw new InputError(
        INPUT,
        `${what} impersonates with ${k}, which the action does not send`,
        "a user that holds the permissions itself (or impersonation by 'as' alone)",
      );
    }
  }
  const provider = u['auth-provider'] ? asObj(u['auth-provider']) : undefined;
  const rawExec = u.exec ? asObj(u.exec) : undefined;
  if (provider && rawExec)
    throw new InputError(INPUT, `${what} has both an auth-provider and an exec plugin (kubectl refuses that too)`, 'one of them');
  let authProvider: KubeUser['authProvider'];
  if (provider) {
    const name = str(provider.name);
    if (name === 'azure') {
      throw new InputError(
        INPUT,
        `${what} uses the azure auth-provider, which kubectl and the action no longer have`,
        'an exec plugin: convert the kubeconfig with `kubelogin convert-kubeconfig -l workloadidentity` (or `-l azurecli`), after installing kubelogin with azure/use-kubelogin',
      );
    }
    if (name === 'gcp') {
      throw new InputError(
        INPUT,
        `${what} uses the gcp auth-provider, which kubectl and the action no longer have`,
        'the gke-gcloud-auth-plugin exec plugin (`gcloud container clusters get-credentials` writes it, after google-github-actions/setup-gcloud with install_components: gke-gcloud-auth-plugin)',
      );
    }
    if (name !== 'oidc')
      throw new InputError(
        INPUT,
        `${what} uses the auth-provider ${JSON.stringify(String(name ?? '')).slice(0, 40)}, which kubectl does not have`,
        'oidc, or an exec plugin',
      );
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(asObj(provider.config))) if (typeof v === 'string') config[k] = v;
    authProvider = { name, config };
  }
  // exec.go UpdateTransportConfig: a token, tokenFile, basic auth or certificate makes kubectl skip the plugin
  const used = !!rawExec && !token && !tokenFile && !basic && !cert;
  const exec = rawExec ? readExec(rawExec, s, what, used) : undefined;
  const execUsed = exec && used ? locateExec(exec, what, env) : undefined;
  if (!token && !tokenFile && !basic && !cert && !authProvider && !execUsed) {
    throw new InputError(
      INPUT,
      `${what} has no credential (kubectl would prompt for a username and password, which a workflow step cannot answer)`,
      'a user with a token, tokenFile, client certificate and key, username and password, or an exec plugin',
    );
  }
  return {
    name: s.name,
    token,
    tokenFile,
    certData,
    certFile,
    keyData: cert ? keyData : undefined,
    keyFile: cert ? keyFile : undefined,
    username,
    password,
    impersonate: str(u.as),
    authProvider,
    exec: execUsed,
  };
}

/**
 * Reads, merges and checks the kubeconfig the run uses (before any network call): the context
 * (the input, else current-context), its cluster and user as kubectl would use them, paths
 * resolved. Every problem is an InputError naming `kubeconfig` or `kube-context`.
 */
export async function resolveKubeconfig(input: string | undefined, contextInput: string | undefined, env: Env): Promise<KubeconfigSource> {
  const { files, origin } = readKubeconfig(locateKubeconfig(input, env));
  const read: ReturnType<typeof readStanzas>[] = [];
  for (const f of files) {
    let doc: unknown;
    try {
      doc = await parseKubeconfig(f.text);
    } catch {
      throw new InputError(INPUT, `${f.label} is not valid YAML or JSON`, ACCEPTED);
    }
    read.push(readStanzas(doc, f));
  }
  const cfg = merge(read);
  if (!cfg.contexts.size && !cfg.clusters.size) throw new InputError(INPUT, `${origin} has no clusters or contexts`, ACCEPTED);
  const names = [...cfg.contexts.keys()].filter(Boolean);
  const context = contextInput ?? cfg.currentContext;
  if (!context) {
    throw new InputError('kube-context', `${origin} has no current context`, `one of its contexts: ${names.join(', ') || '(none)'}`);
  }
  const ctx = cfg.contexts.get(context);
  if (!ctx) throw new InputError('kube-context', `context '${context}' is not in ${origin}`, `one of: ${names.join(', ') || '(none)'}`);
  const what = `context '${context}' (of ${ctx.label})`;
  const clusterName = str(ctx.body.cluster);
  const userName = str(ctx.body.user);
  const namespace = str(ctx.body.namespace);
  if (!clusterName) throw new InputError(INPUT, `${what} names no cluster`, 'a context with a cluster and a user');
  if (!userName) {
    throw new InputError(
      INPUT,
      `${what} names no user (kubectl would prompt for a username and password, which a workflow step cannot answer)`,
      'a context with a cluster and a user',
    );
  }
  const named = (kind: 'cluster' | 'user', name: string, map: Map<string, Stanza>): Stanza => {
    const found = map.get(name);
    if (found) return found;
    throw new InputError(
      INPUT,
      `the ${kind} '${name}' of ${what} is not in ${origin}`,
      `one of its ${kind}s: ${[...map.keys()].join(', ') || '(none)'}`,
    );
  };
  const cluster = named('cluster', clusterName, cfg.clusters);
  const user = named('user', userName, cfg.users);
  if (namespace && !DNS_LABEL.test(namespace))
    throw new InputError(INPUT, `the namespace of ${what} is not a DNS label (kubectl refuses it too)`, 'a lowercase DNS label');
  return { origin, context, namespace, cluster: readCluster(cluster, context), user: readUser(user, env) };
}
