// src/kube/kubeconfig.ts in process: which values are a kubeconfig rather than a path, which
// credentials a kubeconfig holds, what is masked before the run starts, and errors that never
// hold the input's value. The leak scan's own reading of kubeconfigs (__tests__/helpers/leaks.ts)
// is checked here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { dump } from 'js-yaml';
import { kubeconfigCredentials, locateKubeconfig, maskKubeconfig, readKubeconfig, readTokenFile, resolveKubeconfig } from '../src/kube/kubeconfig.ts';
import { InputError } from '../src/errors.ts';
import { kubeconfigSecrets, runSecrets, scanRun } from './helpers/leaks.ts';

const dir = mkdtempSync(join(tmpdir(), 'acr-kc-unit-'));
const CONFIG = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'c', cluster: { server: 'https://admin:Url-Passw0rd@k8s.example:6443', 'proxy-url': 'http://p:Proxy%2FSecret@proxy:3128' } },
    { name: 'plain', cluster: { server: 'https://k8s.example' } },
  ],
  contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
  'current-context': 'ctx',
  users: [
    {
      name: 'u',
      user: {
        token: 'bearer-token-1',
        'client-key-data': 'a2V5LWRhdGE=',
        'client-certificate-data': 'Y2VydC1kYXRh',
        username: 'admin',
        password: 'basic-password-1',
        'auth-provider': {
          name: 'oidc',
          config: {
            'access-token': 'at-1',
            'refresh-token': 'rt-1',
            'id-token': 'it-1',
            'client-secret': 'cs-1',
            'client-id': 'not-secret',
            'token-key': '{.x}',
          },
        },
        exec: {
          command: 'aws',
          args: ['eks', 'get-token', '--cluster-name', 'prod', '--token=arg-token-1', '--client-secret', 'arg-secret-1'],
          env: [
            { name: 'AWS_PROFILE', value: 'production' },
            { name: 'MODE', value: '1' },
            { name: 'API_KEY', value: 'k1' },
          ],
        },
      },
    },
    { name: 'empty', user: {} },
  ],
};

test('kubeconfigCredentials: every credential a kubeconfig holds, and nothing that is not one', () => {
  assert.deepEqual(
    kubeconfigCredentials(CONFIG).sort(),
    [
      'Proxy%2FSecret',
      'Proxy/Secret',
      'Url-Passw0rd',
      'a2V5LWRhdGE=',
      'arg-secret-1',
      'arg-token-1',
      'at-1',
      'basic-password-1',
      'bearer-token-1',
      'cs-1',
      'it-1',
      'k1',
      'production',
      'rt-1',
      'Y2VydC1kYXRh',
    ].sort(),
  );
  for (const odd of [null, 'text', 42, [], { users: 'x' }, { users: [null, { user: 'x' }] }]) assert.deepEqual(kubeconfigCredentials(odd), []);
});

test('locateKubeconfig: YAML or JSON (one line or pretty) is the kubeconfig itself; anything else a path; then KUBECONFIG, then ~/.kube/config', () => {
  const inline = [
    'apiVersion: v1\nkind: Config',
    'apiVersion: v1',
    JSON.stringify(CONFIG),
    JSON.stringify(CONFIG, null, 2),
    '{apiVersion: v1, clusters: []}',
    '"apiVersion": "v1"',
    'clusters: []',
    'anything\nwith a line break',
  ];
  for (const v of inline) assert.deepEqual(locateKubeconfig(`  ${v}  `, {}), { inline: v }, v);
  for (const v of ['/home/runner/.kube/config', './kubeconfig.yaml', 'C:\\kube\\config', 'config'])
    assert.deepEqual(locateKubeconfig(v, {}), { path: v, from: 'input' });
  assert.deepEqual(locateKubeconfig('', { KUBECONFIG: ':/a:/b:/a', HOME: '/h' }), { paths: ['/a', '/b'], from: 'KUBECONFIG' });
  assert.deepEqual(locateKubeconfig(undefined, { HOME: '/h' }), { path: '/h/.kube/config', from: 'default' });
});

test('readKubeconfig: a directory, something not a file, a missing path or one through a file is an InputError naming kubeconfig, never its value', () => {
  const secretish = join(dir, 'name-Secret-Token-1');
  mkdirSync(secretish);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  const cases: [string, RegExp][] = [
    [secretish, /names a directory/],
    ['/dev/null', /not a regular file/],
    [join(dir, 'missing-Secret-Token-1'), /neither a kubeconfig \(YAML or JSON\) nor the path of a file that exists/],
    [join(file, 'Secret-Token-1'), /neither a kubeconfig/],
  ];
  for (const [path, re] of cases) {
    assert.throws(
      () => readKubeconfig({ path, from: 'input' }),
      (e: unknown) =>
        e instanceof InputError &&
        e.input === 'kubeconfig' &&
        re.test(e.message) &&
        !e.message.includes('Secret-Token-1') &&
        !e.message.includes(dir),
      path,
    );
  }
  assert.throws(
    () => readKubeconfig({ paths: [secretish], from: 'KUBECONFIG' }),
    /Input 'kubeconfig': is not given, and .*name-Secret-Token-1 \(from KUBECONFIG\) is a directory/,
  );
  assert.equal(readKubeconfig({ path: file, from: 'input' }).origin, 'the file the kubeconfig input names');
});

/** CONFIG with one credential per user, as kubectl allows: resolveKubeconfig takes it. */
const USABLE = { ...CONFIG, users: [{ name: 'u', user: { token: 'bearer-token-1' } }] };

test('resolveKubeconfig: JSON and YAML alike; parse and context errors name the input and hold nothing of the text', async () => {
  for (const text of [JSON.stringify(USABLE), JSON.stringify(USABLE, null, 2)]) {
    const s = await resolveKubeconfig(text, undefined, {});
    assert.equal(s.context, 'ctx');
    assert.equal(s.origin, 'the kubeconfig given inline');
  }
  const broken = JSON.stringify(CONFIG).slice(0, 200);
  await assert.rejects(
    resolveKubeconfig(broken, undefined, {}),
    (e: InputError) => e.input === 'kubeconfig' && /not valid YAML or JSON/.test(e.message) && !e.message.includes('bearer'),
  );
  await assert.rejects(
    resolveKubeconfig(JSON.stringify(CONFIG), 'other', {}),
    (e: InputError) => e.input === 'kube-context' && !e.message.includes('bearer-token-1'),
  );
});

test('maskKubeconfig: the inline value whole and its credentials; each KUBECONFIG file; a text that does not parse by its credential keys', async () => {
  const masked = (input: string, env: Record<string, string | undefined>) => {
    const got: string[] = [];
    return maskKubeconfig(input, env, (v) => got.push(v)).then(() => got);
  };
  const inline = JSON.stringify(CONFIG);
  const a = await masked(inline, {});
  assert.equal(a[0], inline);
  assert.ok(a.includes('bearer-token-1') && a.includes('production'));

  const f1 = join(dir, 'one.yaml');
  const f2 = join(dir, 'two.json');
  writeFileSync(f1, 'users:\n- name: a\n  user:\n    token: file-one-token\n');
  writeFileSync(f2, JSON.stringify({ users: [{ name: 'b', user: { password: 'file-two-password' } }] }));
  assert.deepEqual(await masked('', { KUBECONFIG: `${f1}:${join(dir, 'nope')}:${f2}` }), ['file-one-token', 'file-two-password']);
  assert.deepEqual(await masked(f2, { KUBECONFIG: f1 }), ['file-two-password'], 'the input wins over KUBECONFIG');

  const bad = 'users:\n- user:\n    token: "broken-token-1"\n    password: broken-pass-1\n  [unclosed';
  assert.deepEqual(await masked(bad, {}), [bad, 'broken-token-1', 'broken-pass-1']);
  assert.deepEqual(await masked('', { HOME: dir }), [], 'no kubeconfig at all: nothing');
});

test("the leak scan's reading of a kubeconfig: every credential, the inline input whole, the run's KUBECONFIG file", () => {
  const creds = kubeconfigSecrets(JSON.stringify(CONFIG));
  for (const c of ['bearer-token-1', 'a2V5LWRhdGE=', 'basic-password-1', 'at-1', 'rt-1', 'cs-1', 'production']) assert.ok(creds.includes(c), c);
  assert.deepEqual(kubeconfigSecrets('not: [valid'), []);
  const file = join(dir, 'scan.yaml');
  writeFileSync(file, 'users:\n- user:\n    token: scan-file-token-1\n');
  const inline = 'apiVersion: v1\nusers:\n- user:\n    token: scan-inline-token-1\n';
  assert.ok(runSecrets(undefined, { kubeconfig: inline }, {}).includes('scan-inline-token-1'));
  assert.ok(runSecrets(undefined, { kubeconfig: inline }, {}).includes(inline.trim()));
  assert.ok(runSecrets(undefined, { kubeconfig: file }, {}).includes('scan-file-token-1'));
  assert.ok(runSecrets(undefined, {}, { KUBECONFIG: file }).includes('scan-file-token-1'));
});

test('the leak scan finds a multi-line secret printed on one line, escaped or collapsed, and passes it masked', () => {
  const secret = 'first-line-of-it\nsecond-line-of-it';
  const base = { stderr: '', outputs: {}, summary: '', runnerTemp: mkdtempSync(join(tmpdir(), 'leak-')), requestLog: [], secrets: [secret] };
  assert.equal(scanRun({ ...base, stdout: 'x first-line-of-it\\nsecond-line-of-it' }).length, 1);
  assert.equal(scanRun({ ...base, stdout: 'x first-line-of-it second-line-of-it' }).length, 1);
  assert.equal(scanRun({ ...base, stdout: '::add-mask::first-line-of-it\\nsecond-line-of-it\nx first-line-of-it\\nsecond-line-of-it' }).length, 0);
});

// ------------------------------------------------------------------------------ as kubectl reads it

/** A folder of kubeconfig files (YAML), each next to its own ca.crt and token; their paths. */
function folder(files: Record<string, unknown>): (name: string) => string {
  const root = mkdtempSync(join(tmpdir(), 'acr-kc-rules-'));
  for (const [name, doc] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof doc === 'string' ? doc : dump(doc));
    writeFileSync(join(dirname(path), 'ca.crt'), 'CA');
    writeFileSync(join(dirname(path), 'token'), '  file-token-1\n');
  }
  return (name) => join(root, name);
}

test("KUBECONFIG's files merged as clientcmd merges them: the first to name a cluster, user or context gives it whole; the first current-context; missing files skipped; paths against each file's folder", async () => {
  const at = folder({
    'one/a.yaml': { users: [{ name: 'u', user: { tokenFile: 'token' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }] },
    'two/b.yaml': {
      clusters: [{ name: 'c', cluster: { server: 'https://b.test', 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'u', user: { token: 'loses-1' } }],
      contexts: [{ name: 'x', context: { cluster: 'gone', user: 'gone' } }],
      'current-context': 'x',
    },
    'c.yaml': { clusters: [{ name: 'c', cluster: { server: 'https://c.test' } }], 'current-context': 'other' },
  });
  const env = { KUBECONFIG: [at('missing.yaml'), at('one/a.yaml'), at('two/b.yaml'), at('c.yaml')].join(':') };
  const s = await resolveKubeconfig(undefined, undefined, env);
  assert.equal(s.context, 'x');
  assert.match(s.origin, /^the kubeconfig merged from KUBECONFIG \(/);
  assert.deepEqual(
    { server: s.cluster.server, caFile: s.cluster.caFile, tokenFile: s.user.tokenFile, token: s.user.token },
    { server: 'https://b.test', caFile: at('two/ca.crt'), tokenFile: at('one/token'), token: undefined },
  );
});

test('paths: relative ones against the file’s folder; absolute ones as they are; the inline kubeconfig’s against the working directory; an exec command only when it holds a separator', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'acr-kc-bin-'));
  writeFileSync(join(bin, 'on-path'), '#!/bin/sh\n');
  chmodSync(join(bin, 'on-path'), 0o755);
  const config = (user: Record<string, unknown>, ca = 'ca.crt') => ({
    clusters: [{ name: 'c', cluster: { server: 'https://k.test', 'certificate-authority': ca } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    users: [{ name: 'u', user }],
    'current-context': 'x',
  });
  const exec = (command: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'Never' } });
  const at = folder({
    'k/bare.yaml': config(exec('on-path')),
    'k/rel.yaml': config(exec('./bin/beside')),
    'k/sub.yaml': config(exec('bin/beside'), '../k/ca.crt'),
  });
  mkdirSync(at('k/bin'));
  writeFileSync(at('k/bin/beside'), '#!/bin/sh\n');
  chmodSync(at('k/bin/beside'), 0o755);
  const env = { PATH: bin };
  assert.equal((await resolveKubeconfig(at('k/bare.yaml'), undefined, env)).user.exec?.command, join(bin, 'on-path'), 'a bare name: found on PATH');
  assert.equal((await resolveKubeconfig(at('k/rel.yaml'), undefined, env)).user.exec?.command, at('k/bin/beside'));
  const sub = await resolveKubeconfig(at('k/sub.yaml'), undefined, env);
  assert.equal(sub.user.exec?.command, at('k/bin/beside'));
  assert.equal(sub.cluster.caFile, at('k/ca.crt'));
  // inline: no folder, so relative to the working directory (as clientcmd.Load of bytes)
  const rel = relative(process.cwd(), at('k/ca.crt'));
  const inline = await resolveKubeconfig(JSON.stringify(config({ token: 't' }, rel)), undefined, {});
  assert.equal(inline.cluster.caFile, rel);
  await assert.rejects(
    resolveKubeconfig(JSON.stringify(config({ token: 't' }, 'ca.crt')), undefined, {}),
    /certificate-authority of cluster 'c' .* ca\.crt does not exist/,
  );
});

test('which credential is used, as kubectl uses it: tokenFile beside token; a plugin skipped for a token, certificate or basic auth; an exec stanza checked even then', async () => {
  const cluster = { name: 'c', cluster: { server: 'https://k.test' } };
  const cfg = (user: Record<string, unknown>) =>
    JSON.stringify({
      clusters: [cluster],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      users: [{ name: 'u', user }],
      'current-context': 'x',
    });
  const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'no-such-plugin', interactiveMode: 'Never' };
  const at = folder({ 'k/config.yaml': '' });
  const token = at('k/token');
  const both = await resolveKubeconfig(cfg({ token: 'static-1', tokenFile: token }), undefined, {});
  assert.deepEqual([both.user.token, both.user.tokenFile], ['static-1', token]);
  for (const user of [{ token: 'static-1' }, { username: 'a', password: 'b' }, { tokenFile: token }]) {
    const s = await resolveKubeconfig(cfg({ ...user, exec }), undefined, { PATH: '' });
    assert.equal(s.user.exec, undefined, JSON.stringify(user));
  }
  await assert.rejects(
    resolveKubeconfig(cfg({ token: 'static-1', exec: { ...exec, interactiveMode: 'Sometimes' } }), undefined, {}),
    /has interactiveMode "Sometimes"/,
  );
  const always = { ...exec, interactiveMode: 'Always' };
  assert.equal(
    (await resolveKubeconfig(cfg({ token: 'static-1', exec: always }), undefined, {})).user.token,
    'static-1',
    'Always is refused only where the plugin runs',
  );
  await assert.rejects(resolveKubeconfig(cfg({ exec: always }), undefined, {}), /has interactiveMode: Always: it needs a terminal/);
  await assert.rejects(
    resolveKubeconfig(cfg({ exec }), undefined, { PATH: '' }),
    /exec plugin 'no-such-plugin', which is not installed here \(not found on PATH\)/,
  );
  await assert.rejects(resolveKubeconfig(cfg({}), undefined, {}), /user 'u' .*has no credential/);
  await assert.rejects(
    resolveKubeconfig(cfg({ token: 'static-1', 'as-groups': ['admins'] }), undefined, {}),
    /impersonates with as-groups, which the action does not send/,
  );
  await assert.rejects(resolveKubeconfig(cfg({ 'auth-provider': { name: 'gcp' } }), undefined, {}), /gcp auth-provider.*gke-gcloud-auth-plugin/);
  const oidc = await resolveKubeconfig(cfg({ 'auth-provider': { name: 'oidc', config: { 'id-token': 'idt-1' } } }), undefined, {});
  assert.deepEqual(oidc.user.authProvider, { name: 'oidc', config: { 'id-token': 'idt-1' } });
});

test('a file kubectl would not decode is refused by what is wrong in it, never its values; KUBECONFIG naming no file; an empty file is an empty config', async () => {
  const cases: [unknown, RegExp][] = [
    [[1, 2], /is not a kubeconfig kubectl reads: it is a list/],
    [{ kind: 'Pod' }, /its kind is not 'Config'/],
    [{ clusters: { c: {} } }, /clusters is not a list/],
    [{ users: [{ name: 'u', user: { token: 12345678 } }] }, /users\[0\]\.user\.token is not a string/],
    [{ users: [{ name: true, user: {} }] }, /users\[0\]\.name is not a string/],
    [{ contexts: [{ name: 'x', context: 'secret-context-text' }] }, /contexts\[0\]\.context is not a mapping/],
  ];
  for (const [doc, expected] of cases) {
    await assert.rejects(
      resolveKubeconfig(dump(doc), undefined, {}),
      (e: InputError) =>
        e.input === 'kubeconfig' && expected.test(e.message) && !e.message.includes('12345678') && !e.message.includes('secret-context-text'),
      JSON.stringify(doc),
    );
  }
  await assert.rejects(resolveKubeconfig('', undefined, { KUBECONFIG: ':' }), /is not given, and KUBECONFIG names no file/);
  const at = folder({
    'empty.yaml': '',
    'k.yaml': {
      clusters: [{ name: 'c', cluster: { server: 'https://k.test' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      users: [{ name: 'u', user: { token: 't' } }],
      'current-context': 'x',
    },
  });
  assert.equal((await resolveKubeconfig(undefined, undefined, { KUBECONFIG: `${at('empty.yaml')}:${at('k.yaml')}` })).context, 'x');
  await assert.rejects(resolveKubeconfig(at('empty.yaml'), undefined, {}), /has no clusters or contexts/);
});

test('maskKubeconfig: the token in each tokenFile (trimmed), read against the folder of the file that names it', async () => {
  const at = folder({
    'k/a.yaml': {
      users: [
        { name: 'u', user: { tokenFile: 'token' } },
        { name: 'v', user: { tokenFile: 'missing-token' } },
      ],
    },
  });
  const got: string[] = [];
  await maskKubeconfig('', { KUBECONFIG: at('k/a.yaml') }, (v) => got.push(v));
  assert.deepEqual(got, ['file-token-1']);
  assert.equal(readTokenFile(at('k/token')), 'file-token-1');
});

test("the client's credential: a tokenFile read as client-go reads it (trimmed, again after a minute, the last good one kept, each masked); an exec plugin's token", async () => {
  const { kubeConfigFor } = await import('../src/kube/connect.ts');
  const { RequestContext } = await import('@kubernetes/client-node');
  const at = folder({ 'k/config.yaml': '' });
  const token = at('k/token');
  let now = 1_000_000;
  const masked: string[] = [];
  const source = (user: Record<string, unknown>) => ({
    origin: 'test',
    context: 'x',
    cluster: { name: 'c', server: 'https://k.test', skipTLSVerify: false, disableCompression: false },
    user: { name: 'u', ...user },
  });
  const kc = kubeConfigFor(source({ token: 'static-1', tokenFile: token }), { now: () => now, secret: (v) => masked.push(v) });
  const header = async (k: typeof kc) => {
    const ctx = new RequestContext('https://k.test/api', 'GET' as never);
    await k.applySecurityAuthentication(ctx);
    return ctx.getHeaders().Authorization;
  };
  assert.equal(await header(kc), 'Bearer file-token-1', 'the file wins over the token');
  writeFileSync(token, 'file-token-2\n');
  now += 59_999;
  assert.equal(await header(kc), 'Bearer file-token-1', 'within the minute: not read again');
  now += 1;
  assert.equal(await header(kc), 'Bearer file-token-2');
  rmSync(token);
  now += 60_000;
  assert.equal(await header(kc), 'Bearer file-token-2', 'unreadable: the last good one');
  assert.deepEqual(masked, ['file-token-1', 'file-token-2']);

  const script = join(dirname(token), 'plugin');
  writeFileSync(
    script,
    `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-1"}}'\n`,
  );
  chmodSync(script, 0o755);
  const exec = {
    command: script,
    args: [],
    env: [],
    apiVersion: 'client.authentication.k8s.io/v1' as const,
    interactiveMode: 'Never' as const,
    provideClusterInfo: false,
  };
  assert.equal(await header(kubeConfigFor(source({ exec }), { secret: (v) => masked.push(v) })), 'Bearer exec-token-1');
  assert.ok(masked.includes('exec-token-1'));
  assert.equal(await header(kubeConfigFor(source({ token: 'static-2' }))), 'Bearer static-2', 'a token alone: client-node sends it');
});
