// The first real job: a pull secret from given credentials (credential-type basic), end to end
// through dist/index.js against the emulator's Kubernetes API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { runAction, type RunResult } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const PASSWORD = 'Basic-Pa55word~xyz';
const SERVER = 'contosoacr.azurecr.io';
const inputs = (extra: Record<string, string> = {}) => ({
  registry: SERVER,
  'credential-type': 'basic',
  username: 'puller',
  password: PASSWORD,
  namespaces: 'team-a, team-b',
  ...extra,
});

// kubectl runs asynchronously: the emulator lives in this process and must keep answering.
async function kubectl(...args: (string | { input: string })[]): Promise<string> {
  const opts = args.find((a) => typeof a === 'object') as { input: string } | undefined;
  const argv = args.filter((a): a is string => typeof a === 'string');
  const child = promisify(execFile)('kubectl', ['--kubeconfig', emu.kubeconfigPath, ...argv], { encoding: 'utf8' });
  if (opts) child.child.stdin!.end(opts.input);
  return (await child).stdout;
}

function dockerConfig(ns: string, name = 'acr-contosoacr') {
  const s = emu.state.kube.secrets[ns]?.[name] as unknown as { type: string; data: Record<string, string> } | undefined;
  assert.ok(s, `secret ${ns}/${name} exists`);
  assert.equal(s.type, 'kubernetes.io/dockerconfigjson');
  return JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8')) as {
    auths: Record<string, { username: string; password: string; auth: string }>;
  };
}

/** every occurrence of a secret in what the step printed comes after its ::add-mask:: */
function assertMasked(r: RunResult, secret: string) {
  const lines = r.stdout.split('\n');
  const maskAt = lines.findIndex((l) => l === `::add-mask::${secret}`);
  assert.ok(maskAt >= 0, `${secret.slice(0, 4)}… is masked`);
  lines.forEach((l, i) => {
    if (l.includes(secret) && !l.startsWith('::add-mask::')) assert.ok(i > maskAt, `line ${i} prints the secret before it is masked`);
  });
  assert.ok(!r.summary.includes(secret), 'the job summary holds no secret');
}

test('writes a dockerconfigjson Secret to every namespace, sets the outputs and the summary, masks the password', async () => {
  const r = await runAction(emu, inputs());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const ns of ['team-a', 'team-b']) {
    const cfg = dockerConfig(ns);
    assert.deepEqual(cfg.auths[SERVER], { username: 'puller', password: PASSWORD, auth: Buffer.from(`puller:${PASSWORD}`).toString('base64') });
  }
  assert.equal(r.outputs['secret-name'], 'acr-contosoacr');
  assert.equal(r.outputs.namespaces, 'team-a,team-b');
  assert.equal(r.outputs['login-server'], SERVER);
  assert.equal(r.outputs['auth-method'], 'pull-secret');
  assert.equal(r.outputs['credential-type'], 'basic');
  assert.equal(r.outputs.username, 'puller');
  assert.equal(r.outputs.changed, 'true');
  assert.deepEqual(JSON.parse(r.outputs['docker-config-json']).auths[SERVER].username, 'puller');
  const docs = loadAll(r.outputs.manifest) as { kind: string; metadata: { namespace: string } }[];
  assert.deepEqual(
    docs.map((d) => [d.kind, d.metadata.namespace]),
    [
      ['Secret', 'team-a'],
      ['Secret', 'team-b'],
    ],
  );
  const results = JSON.parse(r.outputs.results) as { target: string; action: string; changed: boolean }[];
  assert.deepEqual(
    results.map((x) => [x.target, x.action, x.changed]),
    [
      ['team-a', 'created', true],
      ['team-b', 'created', true],
    ],
  );
  assert.match(r.summary, /\| team-a \| acr-contosoacr \| ✅ created \| yes \|/);
  assertMasked(r, PASSWORD);
  assertMasked(r, Buffer.from(`puller:${PASSWORD}`).toString('base64'));
  // written with the acr-kube-auth field manager
  const sec = emu.state.kube.secrets['team-a']['acr-contosoacr'] as {
    metadata: { labels: Record<string, string>; managedFields: { manager: string }[] };
  };
  assert.equal(sec.metadata.labels['app.kubernetes.io/managed-by'], 'acr-kube-auth');
  assert.ok(sec.metadata.managedFields.some((f) => f.manager === 'acr-kube-auth'));
});

test('a second identical run writes nothing and reports changed: false', async () => {
  assert.equal((await runAction(emu, inputs())).code, 0);
  const before = emu.requests.length;
  const r = await runAction(emu, inputs());
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.outputs.changed, 'false');
  const writes = emu.requests.slice(before).filter((q) => q.method !== 'GET');
  assert.deepEqual(writes, [], 'no write request on the second run');
});

test('keeps other registries already in the secret (made by kubectl create) and their user labels', async () => {
  await kubectl(
    'create',
    'secret',
    'docker-registry',
    'acr-contosoacr',
    '-n',
    'team-a',
    '--docker-server=other.example.com',
    '--docker-username=o',
    '--docker-password=op',
  );
  await kubectl('label', 'secret', 'acr-contosoacr', '-n', 'team-a', 'team=a');
  const r = await runAction(emu, inputs({ namespaces: 'team-a' }));
  assert.equal(r.code, 0, r.stdout);
  const cfg = dockerConfig('team-a');
  assert.deepEqual(Object.keys(cfg.auths).sort(), ['contosoacr.azurecr.io', 'other.example.com']);
  assert.equal(cfg.auths['other.example.com'].password, 'op');
  const got = JSON.parse(await kubectl('get', 'secret', 'acr-contosoacr', '-n', 'team-a', '-o', 'json')) as {
    metadata: { labels: Record<string, string> };
  };
  assert.equal(got.metadata.labels.team, 'a');
});

test('apply: false renders only: no request, a manifest kubectl accepts', async () => {
  const r = await runAction(emu, inputs({ apply: 'false', namespaces: 'team-a' }));
  assert.equal(r.code, 0, r.stdout);
  assert.equal(emu.requests.length, 0);
  assert.equal(emu.state.kube.secrets['team-a']?.['acr-contosoacr'], undefined);
  assert.equal(r.outputs.changed, 'false');
  const applied = await kubectl('apply', '--server-side', '--field-manager=gitops', '-f', '-', { input: r.outputs.manifest });
  assert.match(applied, /secret\/acr-contosoacr serverside-applied/);
  assert.equal(dockerConfig('team-a').auths[SERVER].password, PASSWORD);
});

test('a missing namespace is an error naming it, and nothing is written anywhere', async () => {
  const r = await runAction(emu, inputs({ namespaces: 'team-a, nowhere' }));
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /'nowhere' does not exist/);
  assert.equal(emu.state.kube.secrets['team-a']?.['acr-contosoacr'], undefined);
  const created = await runAction(emu, inputs({ namespaces: 'team-a, nowhere', 'create-namespaces': 'true' }));
  assert.equal(created.code, 0, created.stdout);
  assert.ok(emu.state.kube.namespaces['nowhere']);
  dockerConfig('nowhere');
});
