// Pull secrets for any cluster (issue #3), end to end through the bundle against the emulator:
// every credential source, rotation, namespaces, merge, service accounts, render, detach, verify.
// Every secret the action writes is proven against the emulated registry's token endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { loadAll } from 'js-yaml';
import { CLUSTER_SP_APP_ID, CLUSTER_SP_OID_A, CLUSTER_SP_SECRET, SUB_1 } from '../../emulator/ids.ts';
import { azureInputs, runAction, type RunResult } from '../helpers/harness.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const NULL_GUID = '00000000-0000-0000-0000-000000000000';
const RG = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries`;
const lc = (s: string) => s.toLowerCase();
const server = (name: string) => `${name}.azurecr.localhost:${emu.port}`;

type Auth = { username: string; password: string; auth: string };
type Secret = {
  type: string;
  data: Record<string, string>;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
};

function secretIn(ns: string, name = 'acr-contosoacr'): Secret | undefined {
  return emu.state.kube.secrets[ns]?.[name] as unknown as Secret | undefined;
}
function auths(ns: string, name = 'acr-contosoacr'): Record<string, Auth> {
  const s = secretIn(ns, name);
  assert.ok(s, `secret ${ns}/${name} exists`);
  assert.equal(s.type, 'kubernetes.io/dockerconfigjson');
  return (JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths: Record<string, Auth> }).auths;
}
function records(
  ns: string,
  name = 'acr-contosoacr',
): Record<string, { credentialType: string; username: string; expiresOn?: string; slot?: string }> {
  return JSON.parse(secretIn(ns, name)!.metadata.annotations!['acr-kube-auth.github.io/registries']);
}

/** Asks the emulated registry's token endpoint, as a container runtime would (refresh token: POST; else GET with Basic). */
function acrToken(
  loginServer: string,
  username: string,
  password: string,
  scope?: string,
): Promise<{ status: number; access: { type: string; name: string; actions: string[] }[] }> {
  const query = new URLSearchParams({ service: loginServer });
  if (scope) query.set('scope', scope);
  const refresh = username === NULL_GUID;
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    service: loginServer,
    refresh_token: password,
    ...(scope ? { scope } : {}),
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: emu.port,
        servername: loginServer.split(':')[0],
        ca: emu.caCertPem,
        method: refresh ? 'POST' : 'GET',
        path: refresh ? '/oauth2/token' : `/oauth2/token?${query}`,
        headers: {
          host: loginServer,
          ...(refresh
            ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) }
            : { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` }),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          let access: { type: string; name: string; actions: string[] }[] = [];
          if (res.statusCode === 200) {
            const jwt = (JSON.parse(body) as { access_token: string }).access_token;
            access = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).access ?? [];
          }
          resolve({ status: res.statusCode ?? 0, access });
        });
      },
    );
    req.on('error', reject);
    req.end(refresh ? form : undefined);
  });
}

async function assertPulls(loginServer: string, a: Auth, repository = 'app/web') {
  const r = await acrToken(loginServer, a.username, a.password, `repository:${repository}:pull`);
  assert.equal(r.status, 200, `the registry accepts ${a.username}`);
  assert.deepEqual(
    r.access.find((x) => x.name === repository)?.actions.filter((x) => x === 'pull' || x === '*').length,
    1,
    `${a.username} may pull ${repository}`,
  );
  assert.equal(a.auth, Buffer.from(`${a.username}:${a.password}`).toString('base64'), 'auth is base64 of username:password');
}

/** Requests that changed something (not GETs, not the registry's token service). */
function writes(kind: 'kube' | 'arm' | 'any' = 'any') {
  return emu.requests.filter(
    (q) => q.method !== 'GET' && !q.path.startsWith('/oauth2/') && !q.path.includes('/oauth2/v2.0/token') && (kind === 'any' || q.service === kind),
  );
}

const inputs = (extra: Record<string, string> = {}) => azureInputs(emu, { registry: 'contosoacr', namespaces: 'team-a', ...extra });
const tokenId = (name: string, registry = 'contosoacr') => `${RG}/${registry}/tokens/${name}`;
const ok = (r: RunResult) => assert.equal(r.code, 0, r.stdout + r.stderr);

test('every credential type yields a secret whose credentials the registry token endpoint accepts', async () => {
  const cases: { type: string; registry: string; extra?: Record<string, string>; user: (s: string) => boolean }[] = [
    { type: 'token', registry: 'contosoacr', user: (u) => u === 'kube-pull-team-a' },
    {
      type: 'service-principal',
      registry: 'contosoacr',
      extra: { 'service-principal-client-id': CLUSTER_SP_APP_ID, 'service-principal-secret': CLUSTER_SP_SECRET },
      user: (u) => u === CLUSTER_SP_APP_ID,
    },
    { type: 'admin', registry: 'adminacr', user: (u) => u === 'adminacr' },
    { type: 'exchange', registry: 'contosoacr', user: (u) => u === NULL_GUID },
    { type: 'basic', registry: '', extra: { username: 'adminacr', password: 'adminacr-Password1~abcdefghijklmnop' }, user: (u) => u === 'adminacr' },
  ];
  for (const c of cases) {
    const registry = c.registry || server('adminacr');
    const name = c.registry || 'adminacr';
    const r = await runAction(emu, inputs({ registry, 'credential-type': c.type, 'secret-name': `pull-${c.type}`, ...(c.extra ?? {}) }));
    ok(r);
    const login = server(name);
    assert.equal(r.outputs['login-server'], login, c.type);
    assert.equal(r.outputs['credential-type'], c.type);
    assert.equal(r.outputs.changed, 'true');
    const a = auths('team-a', `pull-${c.type}`)[login];
    assert.ok(a && c.user(a.username), `${c.type}: username ${a?.username}`);
    assert.equal(r.outputs.username, a.username);
    await assertPulls(login, a);
    assert.equal(records('team-a', `pull-${c.type}`)[login].credentialType, c.type);
    if (c.type !== 'basic') assert.equal(r.outputs['registry-id'], `${RG}/${name}`);
    if (c.type === 'exchange') {
      const exp = JSON.parse(Buffer.from(a.password.split('.')[1], 'base64url').toString('utf8')).exp as number;
      assert.equal(r.outputs['expires-on'], new Date(exp * 1000).toISOString(), 'expires-on is the refresh token exp');
      assert.ok(exp * 1000 - Date.now() > 2.5 * 3600_000 && exp * 1000 - Date.now() <= 3 * 3600_000 + 60_000, 'about 3 hours');
      assert.ok(
        r.stdout.split('\n').some((l) => l.startsWith('::warning::') && /about 3 hours/.test(l)),
        'warns about the 3 hours',
      );
    }
    if (c.type === 'service-principal') {
      assert.equal(r.outputs['principal-id'], CLUSTER_SP_OID_A);
      assert.equal(r.outputs.role, 'AcrPull');
      const granted = Object.values(emu.state.roleAssignments).filter(
        (x) => lc(x.properties.principalId) === lc(CLUSTER_SP_OID_A) && lc(x.properties.scope) === lc(`${RG}/contosoacr`),
      );
      assert.equal(granted.length, 1, 'one AcrPull assignment on the registry');
      assert.match(granted[0].properties.roleDefinitionId, /7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
    }
  }
});

test('token: read-only scope map on the repositories, a token bound to it, a password that expires', async () => {
  const r = await runAction(
    emu,
    inputs({ namespaces: 'team-a, team-b', repositories: 'app/web\nteam/*', 'secret-expiry': '30d', 'token-name': 'ci-pull' }),
  );
  ok(r);
  const map = emu.state.resources[lc(`${RG}/contosoacr/scopeMaps/ci-pull-scope`)];
  assert.ok(map, 'scope map ci-pull-scope');
  assert.deepEqual([...map.properties.actions].sort(), [
    'repositories/app/web/content/read',
    'repositories/app/web/metadata/read',
    'repositories/team/*/content/read',
    'repositories/team/*/metadata/read',
  ]);
  const token = emu.state.resources[lc(tokenId('ci-pull'))];
  assert.equal(lc(token.properties.scopeMapId), lc(map.id));
  assert.equal(token.properties.status, 'enabled');
  const login = server('contosoacr');
  const a = auths('team-a')[login];
  assert.deepEqual(auths('team-b')[login], a, 'the same credential in every namespace');
  assert.equal(a.username, 'ci-pull');
  await assertPulls(login, a, 'app/web');
  await assertPulls(login, a, 'team/api');
  const other = await acrToken(login, a.username, a.password, 'repository:other/repo:pull');
  assert.deepEqual(other.access, [], 'no pull outside the repositories');
  const push = await acrToken(login, a.username, a.password, 'repository:app/web:push');
  assert.deepEqual(push.access, [], 'read-only');
  const exp = Date.parse(r.outputs['expires-on']);
  assert.ok(Math.abs(exp - (Date.now() + 30 * 86400_000)) < 120_000, 'expires-on is secret-expiry from now');
  assert.equal(records('team-a')[login].slot, 'password1');
  assert.equal(records('team-a')[login].expiresOn, r.outputs['expires-on']);
  assert.ok(r.masks.includes(a.password), 'the password is masked');
});

test('token rotation: a re-run keeps a good password; past half its life it alternates password1/password2 and the old one keeps working', async () => {
  const login = server('contosoacr');
  ok(await runAction(emu, inputs()));
  const first = auths('team-a')[login];
  const rv = secretIn('team-a')!.metadata.resourceVersion;

  emu.requests.length = 0;
  const again = await runAction(emu, inputs());
  ok(again);
  assert.equal(again.outputs.changed, 'false', 'an identical re-run changes nothing');
  assert.deepEqual(writes(), [], 'and writes nothing');
  assert.equal(secretIn('team-a')!.metadata.resourceVersion, rv);
  assert.equal(auths('team-a')[login].password, first.password);

  // Age password1: created long ago, so less than half its lifetime is left.
  const age = () => {
    const token = emu.state.resources[lc(tokenId('kube-pull-team-a'))];
    for (const p of token.properties.credentials.passwords) p.creationTime = '2020-01-01T00:00:00.000Z';
  };
  age();
  const rotated = await runAction(emu, inputs());
  ok(rotated);
  assert.equal(rotated.outputs.changed, 'true');
  const second = auths('team-a')[login];
  assert.notEqual(second.password, first.password);
  assert.equal(records('team-a')[login].slot, 'password2');
  await assertPulls(login, second);
  await assertPulls(login, first); // the password running pods hold still works
  assert.match(rotated.stdout, /generated password2 of token kube-pull-team-a/);

  age();
  ok(await runAction(emu, inputs()));
  const third = auths('team-a')[login];
  assert.equal(records('team-a')[login].slot, 'password1');
  assert.notEqual(third.password, first.password);
  await assertPulls(login, third);
  await assertPulls(login, second);
  assert.equal(
    (await acrToken(login, first.username, first.password, 'repository:app/web:pull')).status,
    401,
    'the password from two rotations ago is gone',
  );
});

test('a missing namespace is an error that names it and nothing is written anywhere; create-namespaces creates it', async () => {
  const r = await runAction(emu, inputs({ namespaces: 'team-a, ghost, team-b' }));
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /'ghost'/);
  assert.match(r.errors[0], /create-namespaces/);
  assert.equal(secretIn('team-a'), undefined);
  assert.equal(emu.state.resources[lc(tokenId('kube-pull-team-a-ghost-team-b'))], undefined, 'no ACR token either');
  assert.deepEqual(writes(), []);

  const c = await runAction(emu, inputs({ namespaces: 'team-a, ghost', 'create-namespaces': 'true' }));
  ok(c);
  assert.ok(emu.state.kube.namespaces.ghost, 'namespace created');
  assert.ok(auths('ghost')[server('contosoacr')]);
  assert.equal(c.outputs.namespaces, 'team-a,ghost');
});

test('writes with server-side apply as acr-kube-auth, merges into an existing secret, keeps the user labels and does not mark it as its own; service accounts get one reference', async () => {
  const login = server('contosoacr');
  const otherAuth = { username: 'u', password: 'other-Secret-123', auth: Buffer.from('u:other-Secret-123').toString('base64') };
  emu.state.kube.secrets['team-a']['acr-contosoacr'] = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'acr-contosoacr',
      namespace: 'team-a',
      uid: 'a0000000-0000-4000-8000-00000000aaaa',
      resourceVersion: '900',
      creationTimestamp: '2024-01-01T00:00:00Z',
      labels: { team: 'a' },
      annotations: { owner: 'alice' },
    },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'ghcr.io': otherAuth } })).toString('base64') },
  };
  const sa = emu.state.kube.serviceaccounts['team-a'].default;
  sa.imagePullSecrets = [{ name: 'legacy' }];

  const r = await runAction(emu, inputs({ 'service-accounts': 'default' }));
  ok(r);
  const a = auths('team-a');
  assert.deepEqual(a['ghcr.io'], otherAuth, 'the other registry entry is kept');
  assert.ok(a[login]);
  const meta = secretIn('team-a')!.metadata as Secret['metadata'] & { managedFields?: { manager: string; operation: string }[] };
  assert.equal(meta.labels?.team, 'a');
  assert.equal(meta.annotations?.owner, 'alice');
  // the user made it: it does not get this action's mark of ownership
  assert.equal(meta.labels?.['app.kubernetes.io/managed-by'], undefined);
  assert.ok(records('team-a')[login]);
  assert.ok(
    meta.managedFields?.some((f) => f.manager === 'acr-kube-auth' && f.operation === 'Apply'),
    'server-side apply by acr-kube-auth',
  );
  assert.ok(
    emu.requests.some((q) => q.method === 'PATCH' && q.path.endsWith('/secrets/acr-contosoacr') && /fieldManager=acr-kube-auth/.test(q.query)),
  );
  assert.deepEqual(emu.state.kube.serviceaccounts['team-a'].default.imagePullSecrets, [{ name: 'legacy' }, { name: 'acr-contosoacr' }]);

  const again = await runAction(emu, inputs({ 'service-accounts': 'default' }));
  ok(again);
  assert.equal(again.outputs.changed, 'false');
  assert.deepEqual(
    emu.state.kube.serviceaccounts['team-a'].default.imagePullSecrets,
    [{ name: 'legacy' }, { name: 'acr-contosoacr' }],
    'no duplicate',
  );

  // detach removes only this registry's entry; the secret still serves ghcr.io, so it stays, with its labels
  const d = await runAction(emu, inputs({ 'service-accounts': 'default', operation: 'detach' }));
  ok(d);
  const left = auths('team-a');
  assert.deepEqual(Object.keys(left), ['ghcr.io']);
  assert.equal(secretIn('team-a')!.metadata.labels?.team, 'a');
  assert.equal(records('team-a')[login], undefined);
  assert.equal(emu.state.resources[lc(tokenId('kube-pull-team-a'))], undefined, 'token deleted');
  assert.equal(emu.state.resources[lc(`${RG}/contosoacr/scopeMaps/kube-pull-team-a-scope`)], undefined, 'scope map deleted');
});

test('conflicts are retried and writes stay within max-parallel', async () => {
  emu.addFault({ method: 'PATCH', pathPattern: '/namespaces/team-b/secrets/', kind: 'status', status: 409, times: 2 });
  emu.addFault({ method: 'POST', pathPattern: '/secrets$', kind: 'latency', ms: 250 });
  for (const ns of ['team-b']) {
    emu.state.kube.secrets[ns]['acr-contosoacr'] = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'acr-contosoacr',
        namespace: ns,
        uid: 'a0000000-0000-4000-8000-00000000bbbb',
        resourceVersion: '901',
        creationTimestamp: '2024-01-01T00:00:00Z',
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
    };
  }
  const r = await runAction(
    emu,
    inputs({ namespaces: 'default, team-a, team-b, kube-system, ns-x, ns-y', 'create-namespaces': 'true', 'max-parallel': '2' }),
  );
  ok(r);
  for (const ns of ['default', 'team-a', 'team-b', 'kube-system', 'ns-x', 'ns-y']) assert.ok(auths(ns)[server('contosoacr')], ns);
  assert.equal(emu.requests.filter((q) => q.method === 'PATCH' && q.status === 409).length, 2, 'two conflicts, retried');
  const creates = emu.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/secrets'));
  assert.equal(creates.length, 5);
  const spans = creates.map((q) => [Date.parse(q.time), Date.parse(q.time) + q.durationMs] as const);
  const most = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
  assert.ok(most <= 2, `at most 2 secret writes at once (saw ${most})`);
  assert.ok(most === 2, 'and they do run concurrently');
});

test('apply: false renders a multi-document manifest and writes nothing to the cluster', async () => {
  const r = await runAction(emu, inputs({ namespaces: 'team-a, team-b', apply: 'false' }));
  ok(r);
  const docs = loadAll(r.outputs.manifest) as {
    kind: string;
    type: string;
    metadata: { name: string; namespace: string };
    data: Record<string, string>;
  }[];
  assert.deepEqual(
    docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name} ${d.type}`),
    ['Secret team-a/acr-contosoacr kubernetes.io/dockerconfigjson', 'Secret team-b/acr-contosoacr kubernetes.io/dockerconfigjson'],
  );
  const config = JSON.parse(Buffer.from(docs[0].data['.dockerconfigjson'], 'base64').toString('utf8'));
  assert.deepEqual(config, JSON.parse(r.outputs['docker-config-json']));
  await assertPulls(server('contosoacr'), config.auths[server('contosoacr')]);
  assert.deepEqual(writes('kube'), [], 'nothing written to the cluster');
  assert.equal(secretIn('team-a'), undefined);
  assert.ok(r.masks.includes(docs[0].data['.dockerconfigjson']), 'the secret data is masked');
});

test('verify writes nothing and names what is wrong: missing secret, no entry, expired, rejected', async () => {
  const login = server('contosoacr');
  ok(await runAction(emu, inputs({ namespaces: 'default, team-a, team-b' })));
  const good = await runAction(emu, inputs({ namespaces: 'default, team-a, team-b', operation: 'verify' }));
  ok(good);
  assert.equal(good.outputs.changed, 'false');

  delete emu.state.kube.secrets['default']['acr-contosoacr'];
  const a = secretIn('team-a')!;
  const anns = JSON.parse(a.metadata.annotations!['acr-kube-auth.github.io/registries']);
  anns[login].expiresOn = '2020-01-01T00:00:00.000Z';
  a.metadata.annotations!['acr-kube-auth.github.io/registries'] = JSON.stringify(anns);
  const b = secretIn('team-b')!;
  b.data['.dockerconfigjson'] = Buffer.from(JSON.stringify({ auths: { 'ghcr.io': { username: 'u', password: 'p', auth: 'dTpw' } } })).toString(
    'base64',
  );
  emu.state.kube.namespaces['team-c'] = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'team-c', uid: 'a0000000-0000-4000-8000-00000000cccc', resourceVersion: '950' },
  };
  emu.state.kube.secrets['team-c'] = { 'acr-contosoacr': structuredClone(emu.state.kube.secrets['team-a']['acr-contosoacr']) };
  const c = emu.state.kube.secrets['team-c']['acr-contosoacr'] as unknown as Secret & { metadata: { namespace: string } };
  c.metadata.namespace = 'team-c';
  c.metadata.annotations = {};
  // the token's passwords were regenerated elsewhere: the registry rejects the one in team-c
  for (const p of Object.values(emu.state.registrySecrets.tokenPasswords)) {
    if (p.password1) p.password1.value = 'regenerated-elsewhere-123';
  }
  emu.requests.length = 0;
  const r = await runAction(emu, inputs({ namespaces: 'default, team-a, team-b, team-c', operation: 'verify' }));
  assert.equal(r.code, 1);
  assert.deepEqual(writes(), [], 'verify writes nothing');
  assert.equal(r.errors.length, 1);
  const e = r.errors[0];
  assert.match(e, /4 of 4 namespaces failed verification/);
  assert.match(e, /default: Secret default\/acr-contosoacr is missing/);
  assert.match(e, /team-a: the credential in team-a\/acr-contosoacr expired on 2020-01-01/);
  assert.match(e, new RegExp(`team-b: Secret team-b/acr-contosoacr has no entry for ${login.replace(/\./g, '\\.')}`));
  assert.match(e, /team-c: registry .* rejected the credential for user kube-pull-default-team-a-team-b/);
});

test('admin: a disabled admin user is a clear error that says how to enable it and why a token is better', async () => {
  const r = await runAction(emu, inputs({ 'credential-type': 'admin' }));
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /admin user of registry contosoacr is disabled/);
  assert.match(r.errors[0], /az acr update --name contosoacr --admin-enabled true/);
  assert.match(r.errors[0], /credential-type token/);
  assert.equal(secretIn('team-a'), undefined);
});

test('service-principal: Repository Reader on an ABAC registry; create-secret adds a client secret with Graph addPassword', async () => {
  const before = emu.state.tenants[Object.keys(emu.state.tenants)[0]].applications.find((a) => a.appId === CLUSTER_SP_APP_ID)!.passwordCredentials
    .length;
  const r = await runAction(
    emu,
    inputs({
      registry: 'abacacr',
      'credential-type': 'service-principal',
      'service-principal-client-id': CLUSTER_SP_APP_ID,
      'create-secret': 'true',
      'secret-expiry': '10d',
      'secret-name': 'pull',
    }),
  );
  ok(r);
  assert.equal(r.outputs.role, 'Container Registry Repository Reader');
  const granted = Object.values(emu.state.roleAssignments).filter(
    (x) => lc(x.properties.principalId) === lc(CLUSTER_SP_OID_A) && lc(x.properties.scope) === lc(`${RG}/abacacr`),
  );
  assert.equal(granted.length, 1);
  assert.match(granted[0].properties.roleDefinitionId, /b93aa761-3e63-49ed-ac28-beffa264f7ac$/);
  const app = Object.values(emu.state.tenants)
    .flatMap((t) => t.applications)
    .find((a) => a.appId === CLUSTER_SP_APP_ID)!;
  assert.equal(app.passwordCredentials.length, before + 1, 'one new client secret');
  const created = app.passwordCredentials.at(-1)!;
  const a = auths('team-a', 'pull')[server('abacacr')];
  assert.equal(a.password, created.secretText);
  assert.equal(r.outputs['expires-on'], new Date(created.endDateTime).toISOString());
  await assertPulls(server('abacacr'), a);

  const again = await runAction(
    emu,
    inputs({
      registry: 'abacacr',
      'credential-type': 'service-principal',
      'service-principal-client-id': CLUSTER_SP_APP_ID,
      'create-secret': 'true',
      'secret-expiry': '10d',
      'secret-name': 'pull',
    }),
  );
  ok(again);
  assert.equal(again.outputs.changed, 'false', 're-run keeps the good secret');
  assert.equal(app.passwordCredentials.length, before + 1, 'no second client secret');
});

test('detach leaves a token the action did not create', async () => {
  const id = tokenId('team-builds');
  emu.state.resources[lc(id)] = {
    id,
    name: 'team-builds',
    type: 'Microsoft.ContainerRegistry/registries/tokens',
    properties: {
      creationDate: '2024-01-01T00:00:00Z',
      provisioningState: 'Succeeded',
      scopeMapId: `${RG}/contosoacr/scopeMaps/_repositories_pull`,
      status: 'enabled',
      credentials: { certificates: [], passwords: [] },
    },
  };
  ok(await runAction(emu, inputs({ 'token-name': 'team-builds' })));
  const d = await runAction(emu, inputs({ 'token-name': 'team-builds', operation: 'detach' }));
  ok(d);
  assert.ok(emu.state.resources[lc(id)], 'the token is still there');
  assert.match(d.stdout, /left token team-builds on contosoacr alone/);
  assert.equal(secretIn('team-a'), undefined, 'the secret is gone (no other entry)');
});

// ------------------------------------------------------------------ the pure rules behind the runs

test('rotation rules: keep while good, else the other slot; with no live password, an empty or the older slot', async () => {
  const { decideSlot, defaultTokenName, scopeMapName, scopeMapActions } = await import('../../src/scenarios/pull-secret/sources/token.ts');
  const { keepRefreshToken } = await import('../../src/scenarios/pull-secret/sources/exchange.ts');
  const { keepCreatedSecret } = await import('../../src/scenarios/pull-secret/sources/service-principal-secret.ts');
  const { previousCredential } = await import('../../src/scenarios/pull-secret/secret-entry.ts');
  const now = new Date('2026-01-01T00:00:00Z');
  const day = 86400_000;
  const at = (d: number) => new Date(now.getTime() + d * day).toISOString();
  const prev = (slot: string, expiresOn: string) => ({
    username: 'tk-pull',
    password: 'p',
    record: { credentialType: 'token', username: 'tk-pull', slot, expiresOn },
  });
  const token = (...p: { name: 'password1' | 'password2'; creationTime?: string; expiry?: string }[]) => ({ id: 'x', name: 'tk-pull', passwords: p });
  const base = { tokenName: 'tk-pull', now, expiryMs: 90 * day };

  assert.deepEqual(decideSlot({ ...base }).slot, 'password1', 'a new token starts with password1');
  const keep = decideSlot({
    ...base,
    previous: prev('password2', at(60)),
    token: token({ name: 'password2', creationTime: at(-30), expiry: at(60) }),
  });
  assert.equal(keep.keep, true);
  assert.equal(keep.slot, 'password2');
  const half = decideSlot({
    ...base,
    previous: prev('password2', at(40)),
    token: token({ name: 'password2', creationTime: at(-50), expiry: at(40) }),
  });
  assert.deepEqual([half.keep, half.slot], [false, 'password1'], 'past half its lifetime: the other slot');
  const elsewhere = decideSlot({
    ...base,
    previous: prev('password1', at(80)),
    token: token({ name: 'password1', creationTime: at(0), expiry: at(85) }),
  });
  assert.deepEqual([elsewhere.keep, elsewhere.slot], [false, 'password2'], 'regenerated elsewhere: not kept');
  const gone = decideSlot({ ...base, previous: prev('password1', at(80)), token: token({ name: 'password2', expiry: at(10) }) });
  assert.deepEqual([gone.keep, gone.slot], [false, 'password2']);
  const notOurs = decideSlot({
    ...base,
    previous: { username: 'someone', password: 'p' },
    token: token({ name: 'password1', creationTime: at(-1), expiry: at(80) }),
  });
  assert.deepEqual([notOurs.keep, notOurs.slot], [false, 'password2'], 'unknown live slot: fill the empty slot');
  const older = decideSlot({
    ...base,
    token: token({ name: 'password1', creationTime: at(-1), expiry: at(80) }, { name: 'password2', creationTime: at(-20), expiry: at(70) }),
  });
  assert.equal(older.slot, 'password2', 'both in use: replace the older, keep the newest');

  assert.equal(defaultTokenName({ clusters: [], pullSecret: { namespaces: ['team-a'] } }), 'kube-pull-team-a');
  assert.equal(
    defaultTokenName({ clusters: [{ name: 'aks_prod', resourceGroup: 'rg', label: 'rg/aks_prod' }], pullSecret: { namespaces: ['x'] } }),
    'kube-pull-aks-prod',
  );
  const long = defaultTokenName({ clusters: [], pullSecret: { namespaces: ['a'.repeat(60), 'b'.repeat(60)] } });
  assert.ok(/^[A-Za-z0-9-]{5,50}$/.test(long), long);
  assert.notEqual(long, defaultTokenName({ clusters: [], pullSecret: { namespaces: ['a'.repeat(60), 'c'.repeat(60)] } }), 'cut names stay distinct');
  assert.ok(scopeMapName(long).length <= 50 && scopeMapName(long).endsWith('-scope'));
  assert.deepEqual(scopeMapActions([]), ['repositories/*/content/read', 'repositories/*/metadata/read']);
  assert.deepEqual(scopeMapActions(['b/x', 'A/y', 'b/x']), [
    'repositories/a/y/content/read',
    'repositories/a/y/metadata/read',
    'repositories/b/x/content/read',
    'repositories/b/x/metadata/read',
  ]);

  const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
  const s = now.getTime() / 1000;
  const ex = (iat: number, exp: number) => ({
    username: NULL_GUID,
    password: jwt({ iat: s + iat, exp: s + exp }),
    record: { credentialType: 'exchange', username: NULL_GUID },
  });
  assert.equal(keepRefreshToken(ex(-1800, 9000), now), true);
  assert.equal(keepRefreshToken(ex(-7200, 3600), now), false);
  assert.equal(
    keepCreatedSecret(
      { username: 'APP', password: 'p', record: { credentialType: 'service-principal', username: 'app', expiresOn: at(50) } },
      'app',
      now,
      90 * day,
    ),
    true,
  );
  assert.equal(
    keepCreatedSecret(
      { username: 'app', password: 'p', record: { credentialType: 'service-principal', username: 'app', expiresOn: at(40) } },
      'app',
      now,
      90 * day,
    ),
    false,
  );
  assert.equal(
    keepCreatedSecret(
      { username: 'other', password: 'p', record: { credentialType: 'service-principal', username: 'other', expiresOn: at(80) } },
      'app',
      now,
      90 * day,
    ),
    false,
  );

  const live = (password: string, expiresOn: string) => ({
    metadata: {
      name: 's',
      namespace: 'n',
      resourceVersion: '1',
      annotations: { 'acr-kube-auth.github.io/registries': JSON.stringify({ reg: { credentialType: 'token', username: 'u', expiresOn } }) },
    },
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { reg: { username: 'u', password, auth: '' } } })).toString('base64') },
  });
  assert.equal(
    previousCredential([undefined, live('old', at(1)), live('new', at(9))], 'reg')?.password,
    'new',
    'namespaces disagree: the entry that expires last',
  );
  assert.equal(previousCredential([live('x', at(1))], 'other'), undefined);
});

test('concurrent runs sharing one token end green with a working secret everywhere', async () => {
  const login = server('contosoacr');
  // two matrix legs (one namespace each) on one token, and three runs on the very same secret;
  // slow password generation makes the runs overlap where they race
  emu.addFault({ method: 'POST', pathPattern: '/generateCredentials$', kind: 'latency', ms: 300 });
  const legs = ['team-a', 'team-b'].map((ns) => runAction(emu, inputs({ namespaces: ns, 'token-name': 'shared-pull' })));
  const same = [0, 1, 2].map(() => runAction(emu, inputs({ namespaces: 'default', 'token-name': 'same-pull' })));
  const runs = await Promise.all([...legs, ...same]);
  assert.deepEqual(
    runs.map((r) => r.code),
    [0, 0, 0, 0, 0],
    runs.map((r) => r.errors.join()).join('\n'),
  );
  for (const [ns, user] of [
    ['team-a', 'shared-pull'],
    ['team-b', 'shared-pull'],
    ['default', 'same-pull'],
  ]) {
    const a = auths(ns)[login];
    assert.equal(a.username, user);
    await assertPulls(login, a);
  }
});
