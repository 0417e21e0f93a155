// src/kube/kubeconfig.ts in process: which values are a kubeconfig rather than a path, which
// credentials a kubeconfig holds, what is masked before the run starts, and errors that never
// hold the input's value. The leak scan's own reading of kubeconfigs (__tests__/helpers/leaks.ts)
// is checked here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigCredentials, locateKubeconfig, maskKubeconfig, readKubeconfig, resolveKubeconfig } from '../src/kube/kubeconfig.ts';
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
