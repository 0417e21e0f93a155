// Exec credential plugins (issue #15: kubelogin, `aws eks get-token`, gke-gcloud-auth-plugin),
// end to end through dist/index.js against the emulator, each kubeconfig also run by the real
// kubectl. The plugins are small scripts written here: a good one printing an ExecCredential with
// the emulator's token, one that is missing, one waiting on a device-code prompt, one failing with
// a message on stderr, one answering in another apiVersion; and kubeconfigs with interactiveMode
// Always or none. The protocol is client-go's (plugin/pkg/client/auth/exec/exec.go; see
// src/kube/exec-credential.ts): KUBERNETES_EXEC_INFO with `interactive: false`, the credential
// kept until its expirationTimestamp, kubectl's refusals refused too. On top: a bounded time
// (ACR_KUBE_AUTH_EXEC_TIMEOUT_MS, short here), the plugin's stderr shown through the log
// (neutralised, the credential masked), a missing plugin named with how to install it before any
// request, and the step's INPUT_* variables kept from the plugin.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { basicInputs, runAction } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { kubectl, kubectlMissing } from '../helpers/kubectl.ts';

const emu = useEmulator();
let skip: string | undefined;
before(async () => {
  skip = await kubectlMissing();
});
const root = mkdtempSync(join(tmpdir(), 'acr-exec-'));
const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';

/** The plugins: each records its calls in `calls` beside it; the credential's token is read from `token` beside it. */
const PLUGINS: Record<string, string> = {
  good: [
    '#!/bin/sh',
    'd=$(dirname "$0")',
    'echo run >> "$d/calls"',
    'printf "%s" "$KUBERNETES_EXEC_INFO" > "$d/exec-info.json"',
    'env | grep -c \'^INPUT_\' > "$d/inputs-seen"',
    'echo "signing in with the $MODE flow" >&2',
    // untrusted text on stderr: a forged workflow command, an ANSI escape and the credential itself
    'printf "::error::forged by the plugin\\n\\033[31mred text\\033[0m %s\\n" "$(cat "$d/token")" >&2',
    'printf \'{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\' "$(cat "$d/answer-api" 2>/dev/null || echo client.authentication.k8s.io/v1)" "$(cat "$d/token")" "${EXP:-2099-01-01T00:00:00Z}"',
  ].join('\n'),
  fail: [
    '#!/bin/sh',
    'd=$(dirname "$0")',
    'echo run >> "$d/calls"',
    'echo "AADSTS70043: The refresh token has expired due to inactivity. Run kubelogin again." >&2',
    'exit 3',
  ].join('\n'),
  devicecode: [
    '#!/bin/sh',
    'd=$(dirname "$0")',
    'echo "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE-C0DE1 to authenticate." >&2',
    'sleep 47 &',
    'echo $! > "$d/sleep.pid"',
    'wait',
    'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"late"}}\'',
  ].join('\n'),
};

interface Setup {
  dir: string;
  file: string;
  calls: () => number;
}

/** A folder with bin/<plugin>, the token and a kubeconfig whose user runs `exec` (its command relative to the folder). */
function setup(exec: Record<string, unknown>, user: Record<string, unknown> = {}, answerApi?: string): Setup {
  const dir = mkdtempSync(join(root, 'case-'));
  mkdirSync(join(dir, 'bin'));
  for (const [name, script] of Object.entries(PLUGINS)) {
    writeFileSync(join(dir, 'bin', name), `${script}\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  }
  writeFileSync(join(dir, 'bin', 'token'), emu.state.kube.token);
  if (answerApi) writeFileSync(join(dir, 'bin', 'answer-api'), answerApi);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c',
        cluster: {
          server: emu.url,
          'certificate-authority-data': Buffer.from(emu.caCertPem).toString('base64'),
          extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'emulator-audience' } }],
        },
      },
    ],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    users: [{ name: 'u', user: { exec: { apiVersion: V1, interactiveMode: 'Never', ...exec }, ...user } }],
    'current-context': 'x',
  };
  const file = join(dir, 'config.yaml');
  writeFileSync(file, dump(config, { skipInvalid: true }), { mode: 0o600 });
  const callsFile = join(dir, 'bin', 'calls');
  return { dir, file, calls: () => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean).length : 0) };
}

/** Whether a process has ended (gone, or a zombie its new parent has not reaped yet), waiting up to 2 s. */
async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const inputs = (s: Setup, extra: Record<string, string> = {}) => basicInputs(emu, { kubeconfig: s.file, namespaces: 'team-a, team-b', ...extra });
const getNamespace = (s: Setup, opts: Parameters<typeof kubectl>[1] = {}) =>
  kubectl(['--kubeconfig', s.file, 'get', 'namespace', 'team-a', '-o', 'name'], opts);
const secretIn = (ns: string) => emu.state.kube.secrets[ns]?.['acr-contosoacr'] as { type?: string } | undefined;

test('a good plugin (relative command, v1, provideClusterInfo): kubectl and the action use its token; it runs once for every request of the run, told interactive: false, without the step’s INPUT_* variables; its stderr shown, neutralised and masked', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: './bin/good', provideClusterInfo: true, env: [{ name: 'MODE', value: 'test' }] });
  const k = await getNamespace(s);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(k.stdout.trim(), 'namespace/team-a');
  const kubectlInfo = JSON.parse(readFileSync(join(s.dir, 'bin', 'exec-info.json'), 'utf8'));
  rmSync(join(s.dir, 'bin', 'calls'));

  const r = await runAction(emu, inputs(s));
  assert.equal(r.code, 0, r.errors.join(' | '));
  assert.equal(secretIn('team-a')?.type, 'kubernetes.io/dockerconfigjson');
  assert.equal(secretIn('team-b')?.type, 'kubernetes.io/dockerconfigjson');
  assert.equal(s.calls(), 1, 'the credential (expiring in 2099) is kept for every request of the run');
  assert.equal(readFileSync(join(s.dir, 'bin', 'inputs-seen'), 'utf8').trim(), '0', 'the plugin saw none of the step’s INPUT_* variables');
  const info = JSON.parse(readFileSync(join(s.dir, 'bin', 'exec-info.json'), 'utf8'));
  assert.deepEqual(info, kubectlInfo, 'KUBERNETES_EXEC_INFO as kubectl sets it');
  assert.deepEqual(info, {
    kind: 'ExecCredential',
    apiVersion: V1,
    spec: {
      cluster: {
        server: emu.url,
        'certificate-authority-data': Buffer.from(emu.caCertPem).toString('base64'),
        config: { audience: 'emulator-audience' },
      },
      interactive: false,
    },
  });
  // the plugin's stderr: shown, as text
  assert.match(r.stdout, /^good \(exec plugin of user 'u'\): signing in with the test flow$/m);
  assert.match(r.stdout, /^good \(exec plugin of user 'u'\): ::error::forged by the plugin$/m, 'a forged command is printed after a prefix: inert');
  assert.ok(!/^::error::forged/m.test(r.stdout) && !/^::error::forged/m.test(r.stderr), 'no workflow command from the plugin');
  assert.ok(!r.stdout.includes('\u001b'), 'no ANSI escape');
  assert.match(r.stdout, /red text\[0m \*\*\*|red text \*\*\*/, 'the token the plugin printed on stderr is masked');
  assert.ok(r.masks.includes(emu.state.kube.token), 'the credential is masked');
});

test('a credential past its expirationTimestamp is not kept: the plugin runs again, as in kubectl', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: './bin/good', env: [{ name: 'EXP', value: '2000-01-01T00:00:00Z' }] });
  assert.equal((await getNamespace(s)).code, 0);
  rmSync(join(s.dir, 'bin', 'calls'));
  const r = await runAction(emu, inputs(s));
  assert.equal(r.code, 0, r.errors.join(' | '));
  assert.ok(s.calls() > 2, `ran ${s.calls()} times for the run's requests`);
});

test('v1beta1 without interactiveMode (it defaults to IfAvailable: no terminal, so not interactive) works in both', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: './bin/good', apiVersion: V1BETA1, interactiveMode: undefined }, {}, V1BETA1);
  const k = await getNamespace(s);
  assert.equal(k.code, 0, k.stderr);
  const r = await runAction(emu, inputs(s));
  assert.equal(r.code, 0, r.errors.join(' | '));
  assert.equal(JSON.parse(readFileSync(join(s.dir, 'bin', 'exec-info.json'), 'utf8')).spec.interactive, false);
});

test('a user with a token beside its exec plugin: the token is used and the plugin (missing here) never runs, as in kubectl', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: 'kubelogin' }, { token: emu.state.kube.token });
  const empty = mkdtempSync(join(root, 'path-'));
  assert.equal((await getNamespace(s, { env: { PATH: empty } })).code, 0);
  const r = await runAction(emu, inputs(s), { env: { PATH: empty } });
  assert.equal(r.code, 0, r.errors.join(' | '));
});

test('a missing plugin (kubelogin, gke-gcloud-auth-plugin, the AWS CLI): one InputError naming it and how to install it, before any request; kubectl fails too', async (t) => {
  if (skip) return t.skip(skip);
  const empty = mkdtempSync(join(root, 'path-'));
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { command: 'kubelogin', args: ['get-token', '--login', 'azurecli', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630'] },
      /'kubelogin'.*azure\/use-kubelogin/,
    ],
    [
      {
        command: 'gke-gcloud-auth-plugin',
        apiVersion: V1BETA1,
        interactiveMode: undefined,
        installHint: 'Install gke-gcloud-auth-plugin for use with kubectl',
      },
      /'gke-gcloud-auth-plugin'.*gcloud components install gke-gcloud-auth-plugin.*The kubeconfig says: Install gke-gcloud-auth-plugin/,
    ],
    [
      { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'prod'], apiVersion: V1BETA1 },
      /'aws'.*GitHub's hosted runners.*aws-actions\/configure-aws-credentials/,
    ],
  ];
  for (const [exec, expected] of cases) {
    const s = setup(exec);
    const k = await getNamespace(s, { env: { PATH: empty } });
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /executable \S+ not found/);
    const first = emu.requests.length;
    const r = await runAction(emu, inputs(s), { env: { PATH: empty } });
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1, r.errors.join(' | '));
    assert.match(
      r.errors[0],
      /^::error::Input 'kubeconfig': user 'u' .*gets its credential from the exec plugin .*which is not installed here \(not found on PATH\)/,
    );
    assert.match(r.errors[0], expected);
    assert.equal(emu.requests.length, first, 'no request: the plugin is looked for before any network call');
  }
});

test('a plugin waiting on a device-code prompt: stopped at the bound, its prompt the reason, nothing of it left running (kubectl waits on it)', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: './bin/devicecode' });
  const r = await runAction(emu, inputs(s), { env: { ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: '1500' } });
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1, r.errors.join(' | '));
  assert.match(
    r.errors[0],
    /exec plugin 'devicecode' of user 'u' did not finish within 1\.5 s and was stopped; it printed: To sign in, use a web browser to open the page https:\/\/microsoft\.com\/devicelogin and enter the code FAKE-C0DE1 to authenticate\. It is waiting for someone to sign in interactively/,
  );
  assert.match(r.stdout, /^devicecode \(exec plugin of user 'u'\): To sign in, use a web browser/m, 'the prompt is shown');
  const pid = Number(readFileSync(join(s.dir, 'bin', 'sleep.pid'), 'utf8'));
  assert.ok(await ended(pid), 'what the plugin started was stopped with it');

  const k = await getNamespace(s, { timeoutMs: 3000 });
  assert.ok(k.timedOut, 'kubectl is still waiting after 3 s (client-go has no bound)');
  assert.match(k.stderr, /devicelogin/);
});

test('a plugin that fails with a message on stderr: one error with its exit code and message, run once for all namespaces; kubectl fails too', async (t) => {
  if (skip) return t.skip(skip);
  const s = setup({ command: './bin/fail' });
  const k = await getNamespace(s);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /failed with exit code 3/);
  rmSync(join(s.dir, 'bin', 'calls'));
  const r = await runAction(emu, inputs(s));
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1, r.errors.join(' | '));
  assert.match(
    r.errors[0],
    /Kubernetes .* failed \(ExecPluginFailed\): the exec plugin 'fail' of user 'u' exited with code 3; it printed: AADSTS70043: The refresh token has expired/,
  );
  assert.match(r.stdout, /^fail \(exec plugin of user 'u'\): AADSTS70043/m);
  assert.equal(s.calls(), 1, 'the failure is kept: not run again for the second namespace');
});

test('interactiveMode Always, no interactiveMode with v1, and an answer in another apiVersion: refused by both', async (t) => {
  if (skip) return t.skip(skip);
  const cases: [string, Record<string, unknown>, RegExp, RegExp][] = [
    [
      'Always',
      { command: './bin/good', interactiveMode: 'Always' },
      /standard input is not a terminal/,
      /^::error::Input 'kubeconfig': the exec plugin of user 'u' .*has interactiveMode: Always: it needs a terminal/,
    ],
    [
      'no interactiveMode',
      { command: './bin/good', interactiveMode: undefined },
      /interactiveMode must be specified/,
      /^::error::Input 'kubeconfig': the exec plugin of user 'u' .*has no interactiveMode/,
    ],
    [
      'v1beta1 answer to v1',
      { command: './bin/good' },
      /plugin returned version client\.authentication\.k8s\.io\/v1beta1/,
      /ExecPluginFailed\): the exec plugin 'good' of user 'u' printed apiVersion "client\.authentication\.k8s\.io\/v1beta1"/,
    ],
  ];
  for (const [name, exec, kubectlSays, weSay] of cases) {
    const s = setup(exec, {}, name.startsWith('v1beta1') ? V1BETA1 : undefined);
    const k = await getNamespace(s);
    assert.notEqual(k.code, 0, name);
    assert.match(k.stderr, kubectlSays, name);
    const first = emu.requests.length;
    const r = await runAction(emu, inputs(s));
    assert.equal(r.code, 1, name);
    assert.equal(r.errors.length, 1, `${name}: ${r.errors.join(' | ')}`);
    assert.match(r.errors[0], weSay, name);
    if (weSay.source.includes('Input')) assert.equal(emu.requests.length, first, `${name}: no request`);
  }
});
