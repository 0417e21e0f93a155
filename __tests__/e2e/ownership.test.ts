// Ownership (issue #15 item 3), end to end through dist/index.js against the emulator, with the
// other parties made by the real kubectl: a Secret `kubectl create secret docker-registry` made
// (and kubectl label/annotate/patch added to), one "Helm" applied server-side as field manager
// helm with Helm's labels and annotations, an Opaque Secret that happens to hold a
// .dockerconfigjson key, and the action's own Secret with and without other registries. Plus role
// assignments: a pull role someone else granted survives detach, named with its command.
import { before, after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../emulator/server.ts';
import { CLUSTER_SP_OID_A, SUB_1 } from '../../emulator/ids.ts';
import { azureInputs, basicInputs, runAction, type RunResult } from '../helpers/harness.ts';
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

const NAME = 'acr-contosoacr';
const login = () => `contosoacr.azurecr.localhost:${emu.port}`;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run('kubectl', ['--kubeconfig', emu.kubeconfigPath, ...args], { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface ManagedField {
  manager: string;
  operation: string;
  fieldsV1: Record<string, Record<string, unknown>>;
}
interface SecretJson {
  type: string;
  data: Record<string, string>;
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string }[];
    managedFields: ManagedField[];
  };
}

async function getSecret(name = NAME, ns = 'team-a'): Promise<SecretJson | undefined> {
  const r = await run('kubectl', ['--kubeconfig', emu.kubeconfigPath, 'get', 'secret', name, '-n', ns, '-o', 'json', '--show-managed-fields']);
  if (r.code !== 0 && /NotFound|not found/.test(r.stderr)) return undefined;
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SecretJson;
}
const auths = (s: SecretJson) =>
  (JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths: Record<string, { username: string }> }).auths;
/** Who owns what: "manager/operation: fields" per entry, for comparing before and after. */
const owners = (s: SecretJson) => s.metadata.managedFields.map((f) => `${f.manager}/${f.operation}: ${JSON.stringify(f.fieldsV1)}`).sort();
const ownerOf = (s: SecretJson, ...path: string[]) =>
  s.metadata.managedFields
    .filter((f) => {
      let node: unknown = f.fieldsV1;
      for (const pe of path) node = (node as Record<string, unknown> | undefined)?.[pe];
      return node !== undefined;
    })
    .map((f) => `${f.manager}/${f.operation}`)
    .sort();
const notices = (r: RunResult) => r.stdout.split('\n').filter((l) => l.startsWith('::notice::'));
const ok = (r: RunResult) => assert.equal(r.code, 0, r.stdout + r.stderr);
const pullSecret = (extra: Record<string, string> = {}) => basicInputs(emu, { 'secret-name': NAME, ...extra });

/** `kubectl create secret docker-registry` for `server`. */
const kubectlCreate = (server: string) =>
  kubectl([
    'create',
    'secret',
    'docker-registry',
    NAME,
    '-n',
    'team-a',
    `--docker-server=${server}`,
    '--docker-username=octo',
    '--docker-password=Octo-Pa55word~1',
  ]);

/** kubectlCreate, then a label, an annotation, another key and an owner reference by kubectl. */
async function kubectlMade(server: string) {
  await kubectlCreate(server);
  await kubectl(['label', 'secret', NAME, '-n', 'team-a', 'team=a']);
  await kubectl(['annotate', 'secret', NAME, '-n', 'team-a', 'owner=alice']);
  const patch = {
    data: { 'ca.crt': Buffer.from('not a secret').toString('base64') },
    metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '0f000000-0000-4000-8000-000000000001' }] },
  };
  await kubectl(['patch', 'secret', NAME, '-n', 'team-a', '--type', 'merge', '-p', JSON.stringify(patch)]);
}

/** What a Helm 4 release renders and applies server-side: Helm's labels and annotations, its field manager. */
function helmManifest(servers: string[]): string {
  const entries = Object.fromEntries(
    servers.map((s) => [s, { username: 'chart', password: 'Chart-Pa55word~1', auth: Buffer.from('chart:Chart-Pa55word~1').toString('base64') }]),
  );
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: {
      name: NAME,
      namespace: 'team-a',
      labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'web' },
      annotations: { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': 'team-a' },
    },
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: entries })).toString('base64') },
  });
}
const helmApply = (servers: string[]) => kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], helmManifest(servers));

describe('a Secret kubectl made', () => {
  test('attach adds its entry and takes only .dockerconfigjson: every other key, label, annotation, reference and owner stays; detach takes the entry out again and leaves the Secret', async (t) => {
    if (skip) return t.skip(skip);
    await kubectlMade('ghcr.io');
    const before = (await getSecret())!;
    const r = await runAction(emu, pullSecret({ 'service-accounts': 'default' }));
    ok(r);
    const s = (await getSecret())!;
    assert.deepEqual(Object.keys(auths(s)).sort(), ['ghcr.io', login()].sort());
    assert.deepEqual(auths(s)['ghcr.io'], auths(before)['ghcr.io']);
    assert.equal(s.data['ca.crt'], before.data['ca.crt']);
    assert.equal(s.metadata.labels?.team, 'a');
    assert.equal(s.metadata.labels?.['app.kubernetes.io/managed-by'], undefined, 'not marked as the action’s');
    assert.equal(s.metadata.annotations?.owner, 'alice');
    assert.deepEqual(s.metadata.ownerReferences, before.metadata.ownerReferences);
    // field ownership: .dockerconfigjson moved to the action's apply; everything else where it was
    assert.deepEqual(ownerOf(s, 'f:data', 'f:.dockerconfigjson'), ['acr-kube-auth/Apply']);
    assert.deepEqual(ownerOf(s, 'f:type'), ['acr-kube-auth/Apply', 'kubectl-create/Update']);
    assert.deepEqual(ownerOf(s, 'f:metadata', 'f:labels', 'f:team'), ['kubectl-label/Update']);
    assert.deepEqual(ownerOf(s, 'f:metadata', 'f:annotations', 'f:owner'), ['kubectl-annotate/Update']);
    assert.deepEqual(ownerOf(s, 'f:data', 'f:ca.crt'), ['kubectl-patch/Update']);
    assert.deepEqual(ownerOf(s, 'f:metadata', 'f:ownerReferences'), ['kubectl-patch/Update']);

    const again = await runAction(emu, pullSecret({ 'service-accounts': 'default' }));
    ok(again);
    assert.equal(again.outputs.changed, 'false');
    assert.equal((await getSecret())!.metadata.resourceVersion, s.metadata.resourceVersion);

    const d = await runAction(emu, pullSecret({ 'service-accounts': 'default', operation: 'detach' }));
    ok(d);
    const left = (await getSecret())!;
    assert.deepEqual(Object.keys(auths(left)), ['ghcr.io']);
    assert.equal(left.data['ca.crt'], before.data['ca.crt']);
    assert.equal(left.metadata.labels?.team, 'a');
    assert.equal(left.metadata.annotations?.owner, 'alice');
    assert.deepEqual(left.metadata.ownerReferences, before.metadata.ownerReferences);
    assert.deepEqual(JSON.parse(left.metadata.annotations!['acr-kube-auth.github.io/registries']), {});
    // the Secret stays, so the service account keeps listing it
    const sa = emu.state.kube.serviceaccounts['team-a'].default as { imagePullSecrets?: { name: string }[] };
    assert.deepEqual(sa.imagePullSecrets, [{ name: NAME }]);
  });

  test('holding only this registry, written by kubectl: detach leaves the entry and the Secret, and says how to remove them', async (t) => {
    if (skip) return t.skip(skip);
    await kubectlMade(login());
    const before = (await getSecret())!;
    const d = await runAction(emu, pullSecret({ operation: 'detach' }));
    ok(d);
    assert.equal(d.outputs.changed, 'false');
    const after = (await getSecret())!;
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'not written at all');
    const n = notices(d).join('\n');
    assert.match(n, /holds an entry for contosoacr\.azurecr\.localhost:\d+ that acr-kube-auth did not write/);
    assert.ok(n.includes(`kubectl edit secret ${NAME} -n team-a`), n);
  });

  test('holding only this registry, then written by attach: detach removes the entry, and keeps the Secret (not the action’s) with the rest of it', async (t) => {
    if (skip) return t.skip(skip);
    await kubectlMade(login());
    ok(await runAction(emu, pullSecret()));
    assert.equal(auths((await getSecret())!)[login()].username, 'puller', 'attach replaced the entry for its registry');
    const d = await runAction(emu, pullSecret({ operation: 'detach' }));
    ok(d);
    assert.equal(d.outputs.changed, 'true');
    const left = await getSecret();
    assert.ok(left, 'a Secret the action did not make is never deleted');
    assert.deepEqual(auths(left), {});
    assert.ok(left.data['ca.crt']);
    assert.equal(left.metadata.labels?.team, 'a');
  });
});

describe('a Secret Helm applies', () => {
  test('attach refuses to take its .dockerconfigjson: nothing is written, Helm keeps every field, and its next apply has no conflict', async (t) => {
    if (skip) return t.skip(skip);
    await helmApply(['ghcr.io']);
    const before = (await getSecret())!;
    const first = emu.requests.length;
    const r = await runAction(emu, pullSecret({ 'service-accounts': 'default' }));
    assert.equal(r.code, 1);
    assert.match(
      r.errors.join('\n'),
      /Secret team-a\/acr-contosoacr belongs to helm \(its \.dockerconfigjson is applied server-side by field manager 'helm'\)/,
    );
    assert.match(r.errors.join('\n'), /Give the action a Secret of its own \(another secret-name/);
    const after = (await getSecret())!;
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(owners(after), owners(before));
    assert.deepEqual(after.metadata.labels, before.metadata.labels);
    assert.deepEqual(after.metadata.annotations, before.metadata.annotations);
    assert.deepEqual(
      emu.requests.slice(first).filter((q) => q.method !== 'GET' && q.path.startsWith('/api/')),
      [],
      'no write at all',
    );
    // Helm's next upgrade (the same apply, with a changed value) meets no field owned by anyone else
    assert.match(
      await kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], helmManifest(['ghcr.io', 'quay.io'])),
      /serverside-applied/,
    );
  });

  test('attach with a dry run refuses as the real run does', async (t) => {
    if (skip) return t.skip(skip);
    await helmApply(['ghcr.io']);
    const r = await runAction(emu, pullSecret({ 'dry-run': 'true' }));
    assert.equal(r.code, 1);
    assert.match(r.errors.join('\n'), /belongs to helm/);
  });

  test('a Secret labelled as Helm’s without server-side apply (Helm 3) is refused too', async (t) => {
    if (skip) return t.skip(skip);
    await kubectlCreate('ghcr.io');
    await kubectl(['label', 'secret', NAME, '-n', 'team-a', 'app.kubernetes.io/managed-by=Helm']);
    const r = await runAction(emu, pullSecret());
    assert.equal(r.code, 1);
    assert.match(r.errors.join('\n'), /belongs to Helm \(it is labelled app\.kubernetes\.io\/managed-by: Helm\)/);
  });

  test('detach leaves the entry Helm rendered for this registry, and says so', async (t) => {
    if (skip) return t.skip(skip);
    await helmApply([login(), 'ghcr.io']);
    const before = (await getSecret())!;
    const d = await runAction(emu, pullSecret({ operation: 'detach', 'service-accounts': 'default' }));
    ok(d);
    assert.equal(d.outputs.changed, 'false');
    const after = (await getSecret())!;
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(owners(after), owners(before));
    assert.match(notices(d).join('\n'), /that acr-kube-auth did not write/);
  });
});

describe('a service account Helm applies', () => {
  const manifest = (pullSecrets: string[]) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'web', namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
      imagePullSecrets: pullSecrets.map((name) => ({ name })),
    });
  const sa = () => emu.state.kube.serviceaccounts['team-a'].web as { imagePullSecrets?: { name: string }[]; metadata: { resourceVersion: string } };

  test('its imagePullSecrets list is not taken: attach writes the Secret and fails naming helm; detach leaves the reference with a notice', async (t) => {
    if (skip) return t.skip(skip);
    await kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], manifest(['chart-pull']));
    const before = sa().metadata.resourceVersion;
    const r = await runAction(emu, pullSecret({ 'service-accounts': 'web' }));
    assert.equal(r.code, 1);
    assert.match(
      r.errors.join('\n'),
      /Service account team-a\/web was left alone: its imagePullSecrets are applied server-side by field manager 'helm'/,
    );
    assert.ok(await getSecret(), 'the secret itself was written');
    assert.equal(sa().metadata.resourceVersion, before);
    // the chart lists the action's Secret itself; detach (the Secret is the action's and goes) leaves the chart's list alone
    await kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], manifest(['chart-pull', NAME]));
    const d = await runAction(emu, pullSecret({ 'service-accounts': 'web', operation: 'detach' }));
    ok(d);
    assert.equal(await getSecret(), undefined);
    assert.deepEqual(sa().imagePullSecrets, [{ name: 'chart-pull' }, { name: NAME }]);
    assert.match(
      notices(d).join('\n'),
      /Service account team-a\/web still lists acr-contosoacr: .*Remove acr-contosoacr from helm's configuration of it/,
    );
  });
});

describe('a Secret of another type', () => {
  test('an Opaque Secret with a .dockerconfigjson key: detach refuses it as attach does, and both leave it alone', async (t) => {
    if (skip) return t.skip(skip);
    const config = JSON.stringify({ auths: { [login()]: { username: 'u', password: 'p', auth: Buffer.from('u:p').toString('base64') } } });
    await kubectl(['create', 'secret', 'generic', NAME, '-n', 'team-a', `--from-literal=.dockerconfigjson=${config}`]);
    const before = (await getSecret())!;
    for (const operation of ['detach', 'attach']) {
      const r = await runAction(emu, pullSecret({ operation }));
      assert.equal(r.code, 1, operation);
      assert.match(r.errors.join('\n'), /exists with type 'Opaque', not kubernetes\.io\/dockerconfigjson; it was left alone/);
      assert.equal((await getSecret())!.metadata.resourceVersion, before.metadata.resourceVersion, operation);
    }
  });
});

describe('the action’s own Secret', () => {
  test('with another registry in it: detach removes only this entry; without one: detach deletes it and its service-account reference', async (t) => {
    if (skip) return t.skip(skip);
    const other = basicInputs(emu, { registry: 'quay.io', 'secret-name': NAME, 'service-accounts': 'default' });
    ok(await runAction(emu, pullSecret({ 'service-accounts': 'default' })));
    ok(await runAction(emu, other));
    const s = (await getSecret())!;
    assert.equal(s.metadata.labels?.['app.kubernetes.io/managed-by'], 'acr-kube-auth', 'the mark of ownership');
    ok(await runAction(emu, pullSecret({ operation: 'detach', 'service-accounts': 'default' })));
    assert.deepEqual(Object.keys(auths((await getSecret())!)), ['quay.io']);
    const sa = () => (emu.state.kube.serviceaccounts['team-a'].default as { imagePullSecrets?: { name: string }[] }).imagePullSecrets;
    assert.deepEqual(sa(), [{ name: NAME }]);
    const last = await runAction(emu, { ...other, operation: 'detach' });
    ok(last);
    assert.equal(await getSecret(), undefined, 'its last registry gone, the action’s own Secret is deleted');
    assert.deepEqual(sa() ?? [], []);
  });

  test('with a key someone else added: detach of its last registry keeps the Secret and that key', async (t) => {
    if (skip) return t.skip(skip);
    ok(await runAction(emu, pullSecret()));
    await kubectl([
      'patch',
      'secret',
      NAME,
      '-n',
      'team-a',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ data: { note: Buffer.from('x').toString('base64') } }),
    ]);
    ok(await runAction(emu, pullSecret({ operation: 'detach' })));
    const left = (await getSecret())!;
    assert.deepEqual(auths(left), {});
    assert.equal(left.data.note, Buffer.from('x').toString('base64'));
  });
});

describe('role assignments someone else made', () => {
  const CONTOSO = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
  const REPOSITORY_READER = 'b93aa761-3e63-49ed-ac28-beffa264f7ac';
  function seedForeign(principalId: string, name: string): string {
    const id = `${CONTOSO}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    emu.state.roleAssignments[id.toLowerCase()] = {
      id,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${REPOSITORY_READER}`,
        principalId,
        principalType: 'ServicePrincipal',
        scope: CONTOSO,
        condition: null,
        conditionVersion: null,
        description: 'granted by the platform team',
        createdOn: '2024-01-01T00:00:00Z',
        updatedOn: '2024-01-01T00:00:00Z',
      },
    } as (typeof emu.state.roleAssignments)[string];
    return id;
  }
  const at = (principalId: string) =>
    Object.values(emu.state.roleAssignments).filter(
      (a) => a.properties.scope.toLowerCase() === CONTOSO.toLowerCase() && a.properties.principalId === principalId,
    );

  test('service-principal detach removes the action’s grant and keeps another party’s, naming it with az role assignment delete --ids', async (t) => {
    if (skip) return t.skip(skip);
    const inputs = azureInputs(emu, {
      registry: 'contosoacr',
      'cluster-name': 'aks-sp',
      'cluster-resource-group': 'rg-aks',
      'auth-method': 'service-principal',
    });
    ok(await runAction(emu, inputs));
    const foreign = seedForeign(CLUSTER_SP_OID_A, '0d0d0d0d-0000-4000-8000-000000000001');
    assert.equal(at(CLUSTER_SP_OID_A).length, 2);
    for (const dryRun of ['true', 'false']) {
      const d = await runAction(emu, { ...inputs, operation: 'detach', 'dry-run': dryRun });
      ok(d);
      assert.ok(
        notices(d).some((l) => l.includes(`az role assignment delete --ids ${foreign}`)),
        notices(d).join('\n'),
      );
    }
    assert.deepEqual(
      at(CLUSTER_SP_OID_A).map((a) => a.id),
      [foreign],
    );
    assert.equal(at(CLUSTER_SP_OID_A)[0].properties.description, 'granted by the platform team');
  });
});
