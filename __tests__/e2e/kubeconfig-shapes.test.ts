// Kubeconfigs as kubectl reads them (issue #15 item 5), end to end through dist/index.js against
// the emulator, each shape also read by the real kubectl from the same files: what kubectl accepts
// the action accepts (and writes the Secret with), what kubectl rejects the action rejects with one
// InputError naming `kubeconfig` (or `kube-context`) and no request sent. The rules are
// client-go's (tools/clientcmd loader.go, validation.go; cited in src/kube/kubeconfig.ts):
// relative paths against the folder of the file that holds them, tokenFile, JSON and YAML, and
// KUBECONFIG lists merged (first file to name a cluster, user or context wins; first
// current-context wins), missing files skipped.
//
// Both run from another working directory than the kubeconfig's folder (kubectl from `/`, the
// action from the harness's temporary directory), so a path resolved against the working
// directory finds nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dump } from 'js-yaml';
import { basicInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { kubectl, kubectlMissing, writeClientCert } from '../helpers/kubectl.ts';
import { recordFigure } from '../helpers/leaks.ts';

const emu = useEmulator();
let skip: string | undefined;
before(async () => {
  skip = await kubectlMissing();
});
const root = mkdtempSync(join(tmpdir(), 'acr-kc-shapes-'));

type Doc = Record<string, unknown>;
/** A kubeconfig: one cluster `c` at the emulator, context `x` of `c` and user `u`, current-context `x`. */
function kubeconfig(over: { cluster?: Doc; user?: Doc; context?: Doc; extra?: Doc } = {}): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: emu.url, 'certificate-authority': 'ca.crt', ...over.cluster } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', ...over.context } }],
    users: [{ name: 'u', user: over.user ?? { tokenFile: 'token' } }],
    'current-context': 'x',
    ...over.extra,
  };
}

interface Shape {
  name: string;
  /** files to write into a fresh folder: text, or a kubeconfig as YAML (`.yaml`) or pretty JSON (`.json`) (made once the emulator runs) */
  files: () => Record<string, string | Doc>;
  /** kubectl's working directory is the folder (else `/`) */
  kubectlInFolder?: boolean;
  /** the kubeconfig input: a file of the folder, or (inline) that file's text */
  input?: string;
  inline?: boolean;
  /** KUBECONFIG: files of the folder (or absolute paths), in order */
  list?: string[];
  context?: string;
  /** true: both use it; else the action's one error, matched */
  accept: true | RegExp;
}

/** the emulator's CA, its token (with the newline a file usually ends in), a client certificate and key */
function common(dir: string): Record<string, string> {
  return { [join(dir, 'ca.crt')]: emu.caCertPem, [join(dir, 'token')]: `${emu.state.kube.token}\n` };
}

const SHAPES: Shape[] = [
  {
    name: 'relative certificate-authority, client-certificate, client-key and tokenFile resolve against the file’s folder',
    files: () => ({
      'sub/config.yaml': kubeconfig({ user: { tokenFile: 'token', 'client-certificate': 'client.crt', 'client-key': 'keys/../client.key' } }),
    }),
    input: 'sub/config.yaml',
    accept: true,
  },
  {
    name: 'tokenFile wins over token, as in kubectl (the token is wrong; the file’s, trimmed, is right)',
    files: () => ({ 'sub/config.yaml': kubeconfig({ user: { token: 'not-the-token', tokenFile: 'token' } }) }),
    input: 'sub/config.yaml',
    accept: true,
  },
  {
    name: 'pretty-printed JSON in a file, with relative paths',
    files: () => ({ 'sub/config.json': kubeconfig() }),
    input: 'sub/config.json',
    accept: true,
  },
  {
    name: 'pretty-printed JSON inline, with absolute paths',
    files: () => ({ 'sub/config.json': kubeconfig({ cluster: { 'certificate-authority': '@sub/ca.crt' }, user: { tokenFile: '@sub/token' } }) }),
    input: 'sub/config.json',
    inline: true,
    accept: true,
  },
  {
    name: 'YAML inline, with absolute paths',
    files: () => ({ 'sub/config.yaml': kubeconfig({ cluster: { 'certificate-authority': '@sub/ca.crt' }, user: { tokenFile: '@sub/token' } }) }),
    input: 'sub/config.yaml',
    inline: true,
    accept: true,
  },
  ...(['second', 'x'] as const).map((context): Shape => ({
    name: `KUBECONFIG: a missing first file, then three merged (${context === 'x' ? "kube-context x: a.yaml's, not b.yaml's" : "b.yaml's current-context"}); first to name a user wins, paths against each file's folder`,
    files: () => ({
      // user u with the right token; context x; no current-context
      'a.yaml': {
        clusters: [{ name: 'c', cluster: { server: emu.url, 'certificate-authority': 'sub/ca.crt' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        users: [{ name: 'u', user: { token: emu.state.kube.token } }],
      },
      // a second c, x and u that lose to a.yaml's; context second on cluster c2; the first current-context
      'sub/b.yaml': {
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        contexts: [
          { name: 'x', context: { cluster: 'c', user: 'nobody' } },
          { name: 'second', context: { cluster: 'c2', user: 'u' } },
        ],
        users: [{ name: 'u', user: { token: 'wrong-token' } }],
        'current-context': 'second',
      },
      // c2, with its CA relative to sub/; a later current-context that loses
      'sub/c.yaml': { clusters: [{ name: 'c2', cluster: { server: emu.url, 'certificate-authority': 'ca.crt' } }], 'current-context': 'x' },
      'empty.yaml': '',
    }),
    list: ['/nonexistent/kubeconfig', 'a.yaml', 'sub/b.yaml', 'empty.yaml', 'sub/c.yaml'],
    context: context === 'x' ? 'x' : undefined,
    accept: true,
  })),
  {
    name: 'KUBECONFIG: every file missing',
    files: () => ({}),
    list: ['/nonexistent/one', '/nonexistent/two'],
    accept: /Input 'kubeconfig': is not given, and none of the files KUBECONFIG names exists \(\/nonexistent\/one, \/nonexistent\/two\)/,
  },
  {
    name: 'KUBECONFIG: one of the files is not YAML',
    files: () => ({ 'a.yaml': kubeconfig(), 'b.yaml': 'clusters: [oops' }),
    list: ['a.yaml', 'b.yaml'],
    accept: /Input 'kubeconfig': .*b\.yaml \(from KUBECONFIG\) is not valid YAML or JSON/,
  },
  {
    name: 'a cluster name twice in one file',
    files: () => ({ 'config.yaml': { ...kubeconfig(), clusters: [kubeconfig().clusters, kubeconfig().clusters].flat() } }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': .*the cluster name 'c' is in clusters twice/,
  },
  {
    name: 'certificate-authority and certificate-authority-data both',
    files: () => ({ 'config.yaml': kubeconfig({ cluster: { 'certificate-authority-data': Buffer.from(emu.caCertPem).toString('base64') } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': cluster 'c' .*has both certificate-authority-data and certificate-authority/,
  },
  {
    name: 'a relative certificate-authority that is in the working directory but not in the file’s folder',
    files: () => ({ 'sub/config.yaml': kubeconfig({ cluster: { 'certificate-authority': 'ca-here.crt' } }), 'ca-here.crt': '@ca' }),
    kubectlInFolder: true,
    input: 'sub/config.yaml',
    accept: /Input 'kubeconfig': the certificate-authority of cluster 'c' .*sub\/ca-here\.crt does not exist/,
  },
  {
    name: 'a tokenFile that does not exist',
    files: () => ({ 'config.yaml': kubeconfig({ user: { tokenFile: 'no-such-token' } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': the tokenFile of user 'u' .*no-such-token does not exist/,
  },
  {
    name: 'a context without a user (kubectl prompts for a password)',
    files: () => ({ 'config.yaml': kubeconfig({ context: { user: undefined } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': context 'x' .*names no user/,
  },
  {
    name: "the context's cluster is not in the file",
    files: () => ({ 'config.yaml': kubeconfig({ context: { cluster: 'elsewhere' } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': the cluster 'elsewhere' of context 'x'/,
  },
  {
    name: 'token and username/password both',
    files: () => ({ 'config.yaml': kubeconfig({ user: { token: emu.state.kube.token, username: 'admin', password: 'basic-Passw0rd' } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': more than one authentication method found for user 'u'/,
  },
  {
    name: 'apiVersion v2',
    files: () => ({ 'config.yaml': { ...kubeconfig(), apiVersion: 'v2' } }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': .* is not a kubeconfig kubectl reads: its apiVersion is not 'v1'/,
  },
  {
    name: 'the removed azure auth-provider',
    files: () => ({ 'config.yaml': kubeconfig({ user: { 'auth-provider': { name: 'azure', config: { 'access-token': 'aad-access-token-1' } } } }) }),
    input: 'config.yaml',
    accept: /Input 'kubeconfig': user 'u' .*uses the azure auth-provider.*kubelogin convert-kubeconfig/,
  },
];

/** Writes the shape's files into a fresh folder; `@rel` in a value is that file's absolute path, `@ca` the CA. */
function materialise(shape: Shape): string {
  const dir = mkdtempSync(join(root, 'shape-'));
  const abs = (v: unknown): unknown =>
    typeof v === 'string' && v === '@ca'
      ? emu.caCertPem
      : typeof v === 'string' && v.startsWith('@')
        ? join(dir, v.slice(1))
        : Array.isArray(v)
          ? v.map(abs)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, abs(x)]))
            : v;
  const files: Record<string, string> = {};
  for (const [name, body] of Object.entries(shape.files())) {
    const text =
      typeof body === 'string'
        ? String(abs(body))
        : name.endsWith('.json')
          ? JSON.stringify(abs(body), null, 2)
          : dump(abs(body), { skipInvalid: true });
    files[join(dir, name)] = text;
    Object.assign(files, common(dirname(join(dir, name))));
  }
  Object.assign(files, common(join(dir, 'sub')));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text, { mode: 0o600 });
  }
  writeClientCert(join(dir, 'sub'));
  return dir;
}

let agreed = 0;
for (const shape of SHAPES) {
  test(`kubeconfig shape: ${shape.name}`, async (t) => {
    if (skip) return t.skip(skip);
    const dir = materialise(shape);
    const file = shape.input ? join(dir, shape.input) : undefined;
    const list = shape.list?.map((p) => (p.startsWith('/') ? p : join(dir, p))).join(':');
    const text = file && shape.inline ? (await import('node:fs')).readFileSync(file, 'utf8') : undefined;

    const first = emu.requests.length;
    const inputs = basicInputs(emu, {
      ...(file ? { kubeconfig: text ?? file } : {}),
      ...(shape.context ? { 'kube-context': shape.context } : {}),
    });
    const r = await runAction(emu, inputs, { env: { KUBECONFIG: list } });
    const ours = await kubectl(
      [...(file ? ['--kubeconfig', file] : []), ...(shape.context ? ['--context', shape.context] : []), 'get', 'namespace', 'team-a', '-o', 'name'],
      {
        env: { KUBECONFIG: list },
        cwd: shape.kubectlInFolder ? dir : undefined,
      },
    );

    if (shape.accept === true) {
      assert.equal(ours.code, 0, `kubectl accepts it: ${ours.stderr}`);
      assert.equal(ours.stdout.trim(), 'namespace/team-a');
      assert.equal(r.code, 0, `the action accepts it too: ${r.errors.join(' | ')}`);
      assert.equal((emu.state.kube.secrets['team-a']?.['acr-contosoacr'] as { type?: string } | undefined)?.type, 'kubernetes.io/dockerconfigjson');
      assert.ok(r.masks.includes(emu.state.kube.token), 'the token it used is masked');
    } else {
      assert.notEqual(ours.code, 0, `kubectl rejects it: ${ours.stdout}`);
      assert.equal(r.code, 1);
      assert.equal(r.errors.length, 1, r.errors.join(' | '));
      assert.match(r.errors[0], shape.accept);
      assert.equal(emu.requests.length, first, 'the action sent no request');
    }
    agreed++;
  });
}

test('kubeconfig shapes: the figure', (t) => {
  if (skip) return t.skip(skip);
  assert.equal(agreed, SHAPES.length);
  recordFigure('kubeconfig-shapes', {
    text: `kubeconfig shapes where the action agrees with kubectl: ${agreed} of ${SHAPES.length} (${SHAPES.filter((s) => s.accept === true).length} accepted by both, the rest rejected by both, the action's before any request)`,
  });
});
