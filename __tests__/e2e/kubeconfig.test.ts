// The kubeconfig is a secret (issue #12), end to end through the bundle: JSON kubeconfigs (as
// `kubectl config view --raw -o json` prints them, one line or pretty, inline or in a file) are
// read and used, as the real kubectl reads them; every credential in the kubeconfig is masked
// before anything prints, even when a server echoes them back; and a kubeconfig that cannot be
// read is one error naming the input, with nothing of its value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump, load } from 'js-yaml';
import { basicInputs, runAction, type RunResult } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'acr-kubeconfig-'));

const basic = (extra: Record<string, string>) => basicInputs(emu, extra);
/** Only the input says where the kubeconfig is (the harness would otherwise set KUBECONFIG to the emulator's). */
const NO_ENV = { KUBECONFIG: undefined, RUNNER_DEBUG: '1' };
const secretIn = (ns: string) => emu.state.kube.secrets[ns]?.['acr-contosoacr'];
/** What the step showed: stdout (but its masks), stderr, the summary and the outputs. */
const everything = (r: RunResult) => [r.stdout.replace(/^::add-mask::.*$/gm, ''), r.stderr, r.summary, ...Object.values(r.outputs)].join('\n');

async function kubectlJson(): Promise<string> {
  const { stdout } = await exec('kubectl', ['--kubeconfig', emu.kubeconfigPath, 'config', 'view', '--raw', '-o', 'json']);
  return stdout;
}

test('JSON kubeconfigs, one line or pretty, inline or in a file, are read and used; kubectl reads the same file', async () => {
  const pretty = await kubectlJson();
  assert.match(pretty, /^\{\n\s+"kind": "Config"/, 'kubectl printed pretty JSON');
  const oneLine = JSON.stringify(JSON.parse(pretty));
  const file = join(dir, 'config.json');
  writeFileSync(file, pretty);
  const kubeToken = emu.state.kube.token;
  const cases: [string, string, string][] = [
    ['one-line JSON inline', oneLine, 'team-a'],
    ['pretty JSON inline', pretty, 'team-b'],
    ['a JSON file', file, 'default'],
  ];
  for (const [name, kubeconfig, ns] of cases) {
    const r = await runAction(emu, basic({ kubeconfig, namespaces: ns }), { env: NO_ENV });
    assert.equal(r.code, 0, `${name}: ${r.errors.join(' ')}`);
    assert.equal((secretIn(ns) as { type?: string } | undefined)?.type, 'kubernetes.io/dockerconfigjson', `${name}: the Secret was written`);
    assert.ok(r.masks.includes(kubeToken), `${name}: the kubeconfig's token is masked`);
    if (kubeconfig !== file) assert.ok(r.masks.includes(kubeconfig.trim()), `${name}: the inline kubeconfig is masked whole`);
  }
  // the real kubectl reads the JSON file too, and finds what the action wrote
  const { stdout } = await exec('kubectl', ['--kubeconfig', file, 'get', 'secret', '-n', 'default', 'acr-contosoacr', '-o', 'jsonpath={.type}']);
  assert.equal(stdout, 'kubernetes.io/dockerconfigjson');
});

/** The emulator's kubeconfig with a second user holding every kind of credential. */
function richKubeconfig(): { yaml: string; credentials: string[] } {
  const cfg = load(readFileSync(emu.kubeconfigPath, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  const credentials = {
    key: Buffer.from('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n').toString('base64'),
    cert: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYq\n-----END CERTIFICATE-----\n').toString('base64'),
    password: 'Basic-Auth-Passw0rd!',
    access: 'auth-provider-access-token-1',
    refresh: 'auth-provider-refresh-token-1',
    clientSecret: 'auth-provider-client-secret-1',
    envValue: 'exec-env-secret-value-1',
    argToken: 'exec-arg-token-value-1',
  };
  cfg.users.push({
    name: 'other',
    user: {
      'client-key-data': credentials.key,
      'client-certificate-data': credentials.cert,
      username: 'admin',
      password: credentials.password,
      'auth-provider': {
        name: 'oidc',
        config: { 'access-token': credentials.access, 'refresh-token': credentials.refresh, 'client-secret': credentials.clientSecret },
      },
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: 'get-token',
        args: [`--token=${credentials.argToken}`],
        env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: credentials.envValue }],
        interactiveMode: 'Never',
      },
    },
  });
  return { yaml: dump(cfg), credentials: [emu.state.kube.token, ...Object.values(credentials)] };
}

test('every credential of the kubeconfig is masked before anything prints, even when the server echoes it, inline or in a file', async () => {
  const { yaml, credentials } = richKubeconfig();
  const file = join(dir, 'rich.yaml');
  writeFileSync(file, yaml);
  for (const [name, kubeconfig] of [
    ['inline YAML', yaml],
    ['a YAML file', file],
  ]) {
    // An API server that puts everything it could know into its answer: each credential, the
    // kubeconfig itself as one line of JSON, and the kubeconfig as it is.
    const echo = `${credentials.join(' ')} ${JSON.stringify(load(yaml))} ${yaml}`;
    emu.addFault({
      kind: 'body',
      method: 'POST',
      pathPattern: '/namespaces/team-a/secrets$',
      status: 403,
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: echo, reason: 'Forbidden', code: 403 }),
      times: 1,
    });
    const r = await runAction(emu, basic({ kubeconfig }), { env: NO_ENV, allowLeaks: true });
    assert.equal(r.code, 1, name);
    assert.equal(r.errors.length, 1, name);
    assert.match(r.errors[0], /Kubernetes create secret team-a\/acr-contosoacr failed \(HTTP 403 Forbidden\): \*\*\*/, name);
    assert.deepEqual(r.leaks, [], `${name}: the leak scan (which knows every credential of the kubeconfig) finds nothing`);
    const shown = everything(r);
    for (const c of credentials) {
      assert.ok(r.masks.includes(c), `${name}: ${c.slice(0, 12)}… is registered as a mask`);
      assert.ok(!shown.includes(c), `${name}: ${c.slice(0, 12)}… was printed`);
    }
  }
});

test('a kubeconfig that cannot be read, or is not a kubeconfig, is one error naming the input, and nothing of its value', async () => {
  const token = 'tok-Sh0uld-N3ver-Print';
  const directory = join(dir, `dir-${token}`);
  mkdirSync(directory);
  const fifo = join(dir, `fifo-${token}`);
  await exec('mkfifo', [fifo]);
  const file = join(dir, `file-${token}`);
  writeFileSync(file, 'apiVersion: v1\n');
  const unreadable = join(dir, `unreadable-${token}`);
  writeFileSync(unreadable, 'apiVersion: v1\n');
  chmodSync(unreadable, 0o000);
  const asRoot = process.getuid?.() === 0; // permission bits do not stop root
  const oneLine = JSON.stringify(JSON.parse(await kubectlJson())).replace(/"token":"[^"]*"/, `"token":"${token}"`);
  const cases: [string, Record<string, string>, Record<string, string | undefined>, RegExp][] = [
    ['a directory', { kubeconfig: directory }, NO_ENV, /Input 'kubeconfig': names a directory, not a kubeconfig file/],
    ['a FIFO', { kubeconfig: fifo }, NO_ENV, /Input 'kubeconfig': names something that is not a regular file/],
    [
      'a path through a file',
      { kubeconfig: join(file, 'config') },
      NO_ENV,
      /Input 'kubeconfig': is neither a kubeconfig \(YAML or JSON\) nor the path of a file that exists/,
    ],
    ['a path that does not exist', { kubeconfig: join(dir, `missing-${token}`) }, NO_ENV, /Input 'kubeconfig': is neither a kubeconfig/],
    ...(asRoot
      ? []
      : [
          [
            'an unreadable file',
            { kubeconfig: unreadable },
            NO_ENV,
            /Input 'kubeconfig': names a file that cannot be read \(permission denied\)/,
          ] as (typeof cases)[0],
        ]),
    [
      'one-line JSON cut short (once taken for a path and printed)',
      { kubeconfig: oneLine.slice(0, oneLine.indexOf(token) + token.length + 5) },
      NO_ENV,
      /Input 'kubeconfig': the kubeconfig given inline is not valid YAML or JSON/,
    ],
    [
      'one-line JSON with no such context',
      { kubeconfig: oneLine, 'kube-context': 'nope' },
      NO_ENV,
      /Input 'kube-context': context 'nope' is not in the kubeconfig given inline/,
    ],
    [
      'KUBECONFIG naming a directory',
      {},
      { ...NO_ENV, KUBECONFIG: directory },
      /Input 'kubeconfig': is not given, and .* \(from KUBECONFIG\) is a directory/,
    ],
  ];
  for (const [name, extra, env, expected] of cases) {
    const first = emu.requests.length;
    const r = await runAction(emu, basic(extra), { env });
    assert.equal(r.code, 1, name);
    assert.deepEqual(r.errors.length, 1, `${name}: ${r.errors.join(' | ')}`);
    assert.match(r.errors[0], expected, name);
    if (!name.startsWith('KUBECONFIG')) assert.ok(!everything(r).includes(token), `${name}: the value was printed: ${r.errors[0]}`);
    assert.equal(emu.requests.length, first, `${name}: no request was sent`);
  }
});
