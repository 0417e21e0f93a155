// src/kube/exec-credential.ts in process, with small plugin scripts: the ExecCredential answers
// client-go refuses, the credential kept until its expirationTimestamp (a fake clock), a failure
// kept, the bound on a plugin's time, the environment a plugin gets (KUBERNETES_EXEC_INFO last,
// no INPUT_*), stderr given only after the credential is masked, and the remedies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXEC_V1,
  EXEC_V1BETA1,
  ExecPluginError,
  execCredentialSource,
  execTimeoutMs,
  findExecutable,
  installRemedy,
  runExecPlugin,
  type ExecConfig,
  type ExecRunOptions,
} from '../src/kube/exec-credential.ts';

const dir = mkdtempSync(join(tmpdir(), 'acr-exec-unit-'));
let n = 0;
/** A plugin script printing `stdout` (and running `before` first); its path. */
function plugin(stdout: string, before = ''): string {
  const path = join(dir, `plugin-${n++}`);
  writeFileSync(path, `#!/bin/sh\n${before}\ncat <<'EOF'\n${stdout}\nEOF\n`);
  chmodSync(path, 0o755);
  return path;
}
const exec = (command: string, over: Partial<ExecConfig> = {}): ExecConfig => ({
  command,
  args: [],
  env: [],
  apiVersion: EXEC_V1,
  interactiveMode: 'Never',
  provideClusterInfo: false,
  ...over,
});
function options(over: Partial<ExecRunOptions> = {}): ExecRunOptions & { lines: string[]; secrets: string[]; events: string[] } {
  const lines: string[] = [];
  const secrets: string[] = [];
  const events: string[] = [];
  return {
    who: "user 'u'",
    cluster: { server: 'https://kube.test', config: null },
    env: { PATH: process.env.PATH },
    timeoutMs: 10_000,
    stderr: (l) => (lines.push(l), events.push(`stderr:${l}`)),
    secret: (v) => (secrets.push(v), events.push(`secret:${v}`)),
    lines,
    secrets,
    events,
    ...over,
  };
}
const cred = (status: Record<string, unknown>, apiVersion = EXEC_V1, kind = 'ExecCredential') => JSON.stringify({ apiVersion, kind, status });
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----';

test('a credential: a token, or a certificate and key; its expiry; YAML too; each credential masked', async () => {
  const o = options();
  assert.deepEqual(await runExecPlugin(exec(plugin(cred({ token: 'tok-1', expirationTimestamp: '2030-01-02T03:04:05Z' }))), o), {
    token: 'tok-1',
    clientCertificateData: undefined,
    clientKeyData: undefined,
    expiresAt: Date.parse('2030-01-02T03:04:05Z'),
  });
  const pair = await runExecPlugin(exec(plugin(cred({ clientCertificateData: CERT, clientKeyData: KEY }))), o);
  assert.equal(pair.clientKeyData, KEY);
  assert.equal(pair.expiresAt, undefined);
  const yaml = await runExecPlugin(
    exec(plugin(`apiVersion: ${EXEC_V1BETA1}\nkind: ExecCredential\nstatus:\n  token: tok-yaml`), { apiVersion: EXEC_V1BETA1 }),
    o,
  );
  assert.equal(yaml.token, 'tok-yaml');
  assert.deepEqual(o.secrets, ['tok-1', KEY, CERT, 'tok-yaml']);
});

test('what client-go refuses is refused, saying what was wrong and never the credential', async () => {
  const cases: [string, RegExp][] = [
    ['not json at all', /printed no JSON object/],
    ['[1, 2]', /printed no JSON object/],
    [cred({ token: 'tok-secret-1' }, EXEC_V1, 'Secret'), /printed kind "Secret"/],
    [
      cred({ token: 'tok-secret-1' }, EXEC_V1BETA1),
      /printed apiVersion "client\.authentication\.k8s\.io\/v1beta1" \(the kubeconfig's exec\.apiVersion is client\.authentication\.k8s\.io\/v1\)/,
    ],
    [JSON.stringify({ apiVersion: EXEC_V1, kind: 'ExecCredential' }), /printed no status/],
    [cred({}), /no token and no certificate and key/],
    [cred({ clientCertificateData: CERT }), /only one of clientCertificateData and clientKeyData/],
    [cred({ token: 42 }), /a status\.token that is not a string/],
    [cred({ token: 'tok-secret-1', expirationTimestamp: 'tomorrow' }), /an expirationTimestamp that is not an RFC 3339 time/],
  ];
  for (const [stdout, expected] of cases) {
    await assert.rejects(
      runExecPlugin(exec(plugin(stdout)), options()),
      (e: Error) =>
        e instanceof ExecPluginError &&
        expected.test(e.message) &&
        !e.message.includes('tok-secret-1') &&
        /exec plugin 'plugin-\d+' of user 'u'/.test(e.message),
      stdout,
    );
  }
});

test('the environment: the parent’s without INPUT_*, then the kubeconfig’s env, then KUBERNETES_EXEC_INFO (interactive: false; the cluster with provideClusterInfo)', async () => {
  const out = join(dir, 'env-seen');
  const p = plugin(cred({ token: 't' }), `env > ${out}`);
  const o = options({ env: { PATH: process.env.PATH, INPUT_PASSWORD: 'input-secret', KEEP: 'parent', OVER: 'parent' } });
  await runExecPlugin(
    exec(p, {
      provideClusterInfo: true,
      env: [
        { name: 'OVER', value: 'kubeconfig' },
        { name: 'KUBERNETES_EXEC_INFO', value: 'forged' },
      ],
    }),
    o,
  );
  const seen = Object.fromEntries(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  assert.equal(seen.INPUT_PASSWORD, undefined, 'the step’s inputs are not passed on');
  assert.equal(seen.KEEP, 'parent');
  assert.equal(seen.OVER, 'kubeconfig');
  assert.deepEqual(JSON.parse(seen.KUBERNETES_EXEC_INFO), {
    apiVersion: EXEC_V1,
    kind: 'ExecCredential',
    spec: { cluster: { server: 'https://kube.test', config: null }, interactive: false },
  });
});

test('stderr is given line by line once the plugin has ended, after its credential is masked', async () => {
  const o = options();
  await runExecPlugin(exec(plugin(cred({ token: 'tok-on-stderr' }), 'echo "first line" >&2\nprintf "token is tok-on-stderr\\r\\n\\n   \\n" >&2')), o);
  assert.deepEqual(o.events, ['secret:tok-on-stderr', 'stderr:first line', 'stderr:token is tok-on-stderr']);
});

test('the bound: a plugin that does not finish is stopped, what it printed is the reason; ACR_KUBE_AUTH_EXEC_TIMEOUT_MS clamps', async () => {
  const p = plugin(cred({ token: 't' }), 'echo "Waiting for you to enter the code ABC at https://microsoft.com/devicelogin" >&2\nsleep 30');
  const o = options({ timeoutMs: 300 });
  await assert.rejects(
    runExecPlugin(exec(p), o),
    /did not finish within 0\.3 s and was stopped; it printed: Waiting for you to enter the code ABC at https:\/\/microsoft\.com\/devicelogin\. It is waiting for someone to sign in interactively/,
  );
  assert.deepEqual(o.lines, ['Waiting for you to enter the code ABC at https://microsoft.com/devicelogin']);
  await assert.rejects(
    runExecPlugin(exec(plugin('', 'sleep 30')), options({ timeoutMs: 200 })),
    /did not finish within 0\.2 s and was stopped\. Check that it can reach/,
  );
  assert.equal(execTimeoutMs({}), 60_000);
  assert.equal(execTimeoutMs({ ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: '1500' }), 1500);
  assert.equal(execTimeoutMs({ ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: '5' }), 100);
  assert.equal(execTimeoutMs({ ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: '99999999' }), 60_000, 'not a number of at most 7 digits: the default');
  assert.equal(execTimeoutMs({ ACR_KUBE_AUTH_EXEC_TIMEOUT_MS: '9999999' }), 600_000);
});

test('a failing, missing, unrunnable or overflowing plugin: one ExecPluginError saying what to do', async () => {
  await assert.rejects(
    runExecPlugin(exec(plugin('', 'echo "no credentials found" >&2\nexit 2')), options()),
    /exited with code 2; it printed: no credentials found\. Run the same command/,
  );
  await assert.rejects(
    runExecPlugin(exec(join(dir, 'nope', 'kubelogin')), options()),
    /'kubelogin' of user 'u' is not installed \(not found: .*\)\. Install kubelogin before this step with the azure\/use-kubelogin action/,
  );
  const plain = join(dir, 'not-executable');
  writeFileSync(plain, '#!/bin/sh\n');
  await assert.rejects(runExecPlugin(exec(plain), options()), /cannot be run: permission denied\. Make it executable/);
  await assert.rejects(runExecPlugin(exec(plugin('', 'head -c 2000000 /dev/zero')), options()), /wrote more than 1 MiB to stdout/);
});

test('the source: the credential kept until its expirationTimestamp has passed, then the plugin runs again; one run for callers at once; a failure kept', async () => {
  const calls = join(dir, 'calls');
  writeFileSync(calls, '');
  const p = plugin(cred({ token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' }), `echo run >> ${calls}`);
  let now = Date.parse('2029-12-31T23:59:00Z');
  const get = execCredentialSource(exec(p), options({ now: () => now }));
  const count = () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
  await Promise.all([get(), get(), get()]);
  assert.equal(count(), 1, 'three callers at once: one run');
  now = Date.parse('2030-01-01T00:00:00Z');
  await get();
  assert.equal(count(), 1, 'at the timestamp: still valid (client-go: now.After(exp))');
  now += 1;
  await Promise.all([get(), get()]);
  assert.equal(count(), 2, 'past it: run again, once');

  const failing = plugin('', `echo run >> ${calls}\nexit 1`);
  writeFileSync(calls, '');
  const bad = execCredentialSource(exec(failing), options());
  await assert.rejects(bad(), ExecPluginError);
  await assert.rejects(bad(), ExecPluginError);
  assert.equal(count(), 1, 'a failure is kept for the run');
});

test('findExecutable and the install remedies', () => {
  const bin = mkdtempSync(join(tmpdir(), 'acr-exec-path-'));
  writeFileSync(join(bin, 'my-plugin'), '#!/bin/sh\n');
  chmodSync(join(bin, 'my-plugin'), 0o755);
  writeFileSync(join(bin, 'not-exec'), '#!/bin/sh\n');
  assert.equal(findExecutable('my-plugin', { PATH: `relative/dir:${bin}` }), join(bin, 'my-plugin'));
  assert.equal(findExecutable('not-exec', { PATH: bin }), undefined);
  assert.equal(
    findExecutable('my-plugin', { PATH: 'relative' }),
    undefined,
    'PATH entries relative to the working directory are not used (Go refuses them)',
  );
  assert.equal(findExecutable(join(bin, 'my-plugin'), { PATH: '' }), join(bin, 'my-plugin'));
  assert.match(installRemedy('/usr/local/bin/kubelogin'), /azure\/use-kubelogin/);
  assert.match(installRemedy('gke-gcloud-auth-plugin'), /install_components: gke-gcloud-auth-plugin/);
  assert.match(installRemedy('aws'), /aws-actions\/configure-aws-credentials/);
  assert.match(installRemedy('aws-iam-authenticator'), /aws-iam-authenticator/);
  assert.equal(
    installRemedy('my-plugin', 'Get it from\n  https://example.test/install'),
    'Install my-plugin on the runner before this step, or give a kubeconfig whose user needs no plugin. The kubeconfig says: Get it from https://example.test/install',
  );
});
