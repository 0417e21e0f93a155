// kubectl as an independent client: the action's rendering of a basic pull secret equals kubectl's
// own (`kubectl create secret docker-registry --dry-run=client`), `kubectl get` reads back what the
// action wrote, `kubectl apply -f` takes the manifest output, and the action merges into a secret
// kubectl created (server-side apply over another field manager).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { requireBinaries, run } from '../helpers/registry.ts';

let skip: string | undefined;
let emu: Emulator;
before(async () => {
  skip = await requireBinaries(['kubectl']);
  if (!skip) emu = await startEmulator({ quiet: true });
});
after(async () => {
  await emu?.close();
});
beforeEach(() => emu?.reset());

const SERVER = 'contosoacr.azurecr.io';
const USER = 'puller';
const PASSWORD = 'Kubectl-Pa55word~xyz';

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run('kubectl', ['--kubeconfig', emu.kubeconfigPath, ...args], { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

type SecretJson = {
  apiVersion: string;
  kind: string;
  type: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data: Record<string, string>;
};
const config = (s: SecretJson) => JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8'));

test("a basic secret renders as kubectl's `create secret docker-registry` does", async (t) => {
  if (skip) return t.skip(skip);
  const r = await runAction(emu, {
    registry: SERVER,
    'credential-type': 'basic',
    username: USER,
    password: PASSWORD,
    namespaces: 'team-a',
    'secret-name': 'regcred',
    apply: 'false',
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ours = (await import('js-yaml')).load(r.outputs.manifest) as SecretJson;
  const ref = JSON.parse(
    await kubectl([
      'create',
      'secret',
      'docker-registry',
      'regcred',
      '-n',
      'team-a',
      `--docker-server=${SERVER}`,
      `--docker-username=${USER}`,
      `--docker-password=${PASSWORD}`,
      '--dry-run=client',
      '-o',
      'json',
    ]),
  ) as SecretJson;
  assert.equal(ours.apiVersion, ref.apiVersion);
  assert.equal(ours.kind, ref.kind);
  assert.equal(ours.type, ref.type);
  assert.equal(ours.metadata.name, ref.metadata.name);
  assert.equal(ours.metadata.namespace, ref.metadata.namespace);
  assert.deepEqual(Object.keys(ours.data), Object.keys(ref.data));
  assert.deepEqual(config(ours), config(ref), 'the same .dockerconfigjson');
});

test('kubectl get reads back what the action wrote; kubectl apply -f takes the manifest output', async (t) => {
  if (skip) return t.skip(skip);
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a, team-b', 'service-accounts': 'default' }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const ns of ['team-a', 'team-b']) {
    const got = JSON.parse(await kubectl(['get', 'secret', 'acr-contosoacr', '-n', ns, '-o', 'json'])) as SecretJson;
    assert.equal(got.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(config(got), JSON.parse(r.outputs['docker-config-json']));
    assert.equal(got.metadata.labels?.['app.kubernetes.io/managed-by'], 'acr-kube-auth');
    const rec = JSON.parse(got.metadata.annotations!['acr-kube-auth.github.io/registries']);
    assert.equal(rec[r.outputs['login-server']].expiresOn, r.outputs['expires-on']);
    const sa = JSON.parse(await kubectl(['get', 'serviceaccount', 'default', '-n', ns, '-o', 'json'])) as { imagePullSecrets?: { name: string }[] };
    assert.deepEqual(sa.imagePullSecrets, [{ name: 'acr-contosoacr' }]);
  }

  // the rendered manifest (two documents) is something kubectl applies as it is
  const rendered = await runAction(
    emu,
    azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a, team-b', 'secret-name': 'gitops', apply: 'false' }),
  );
  assert.equal(rendered.code, 0, rendered.stdout);
  const applied = await kubectl(['apply', '-f', '-'], rendered.outputs.manifest);
  assert.match(applied, /secret\/gitops created/);
  assert.equal(applied.trim().split('\n').length, 2);
  const got = JSON.parse(await kubectl(['get', 'secret', 'gitops', '-n', 'team-b', '-o', 'json'])) as SecretJson;
  assert.deepEqual(config(got), JSON.parse(rendered.outputs['docker-config-json']));
});

test('the action merges into a secret kubectl created (server-side apply over another field manager)', async (t) => {
  if (skip) return t.skip(skip);
  await kubectl([
    'create',
    'secret',
    'docker-registry',
    'acr-contosoacr',
    '-n',
    'team-a',
    '--docker-server=ghcr.io',
    '--docker-username=octo',
    '--docker-password=Ghcr-Pa55word~xyz',
  ]);
  const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a' }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = JSON.parse(await kubectl(['get', 'secret', 'acr-contosoacr', '-n', 'team-a', '-o', 'json', '--show-managed-fields'])) as SecretJson & {
    metadata: { managedFields: { manager: string; operation: string }[] };
  };
  const auths = config(got).auths;
  assert.deepEqual(Object.keys(auths).sort(), ['contosoacr.azurecr.localhost:' + emu.port, 'ghcr.io'].sort());
  assert.equal(auths['ghcr.io'].username, 'octo');
  assert.deepEqual(got.metadata.managedFields.map((f) => `${f.manager}/${f.operation}`).sort(), ['acr-kube-auth/Apply', 'kubectl-create/Update']);
});
