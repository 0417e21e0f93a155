// The emulated ARM (AKS, ACR control plane, Authorization, subscriptions) driven by the REAL SDKs:
// @azure/arm-containerservice, @azure/arm-containerregistry, @azure/arm-authorization, @azure/identity.
//
// CA trust: tls.setDefaultCACertificates() adds the emulator's CA to this process (see emulator-core.test.ts).
// Note: arm-containerservice 25 and arm-containerregistry 12 are modular (TypeSpec) clients; they take
// `credentials: { scopes }`, not the classic `credentialScopes` (which arm-authorization 9 takes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';

const ARM_SCOPE = 'https://management.core.windows.net//.default';
const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
const REPO_READER = 'b93aa761-3e63-49ed-ac28-beffa264f7ac';
const FAST = { updateIntervalInMs: 5 };

let emu: Emulator;
let deployerA: TokenCredential;
let deployerB: TokenCredential;
let limitedA: TokenCredential;

/** arm-authorization puts scopes into '/{scope}/providers/...': spec examples pass them without the leading slash. */
const sdkScope = (id: string): string => id.replace(/^\/+/, '');
const rg = (sub: string, name: string): string => `/subscriptions/${sub}/resourceGroups/${name}`;
const registryId = (name: string, sub = ids.SUB_1, group = 'rg-acr'): string =>
  `${rg(sub, group)}/providers/Microsoft.ContainerRegistry/registries/${name}`;

function credential(tenantId: string, clientId: string, secret: string): TokenCredential {
  return new ClientSecretCredential(tenantId, clientId, secret, { authorityHost: emu.url, disableInstanceDiscovery: true });
}
const aks = (cred: TokenCredential, sub = ids.SUB_1) =>
  new ContainerServiceClient(cred, sub, { endpoint: emu.url, credentials: { scopes: [ARM_SCOPE] } });
const acr = (cred: TokenCredential, sub = ids.SUB_1) =>
  new ContainerRegistryManagementClient(cred, sub, { endpoint: emu.url, credentials: { scopes: [ARM_SCOPE] } });
const authz = (cred: TokenCredential, sub = ids.SUB_1) =>
  new AuthorizationManagementClient(cred, sub, { endpoint: emu.url, credentialScopes: [ARM_SCOPE] });

/** Await a rejection and return the error (RestError: statusCode, code, message). */
async function rejection(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('expected the call to fail');
}

async function armToken(cred: TokenCredential = deployerA): Promise<string> {
  const t = await cred.getToken(ARM_SCOPE);
  assert.ok(t);
  return t.token;
}

async function raw(
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? await armToken() : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const url = path.startsWith('https://') ? path : `${emu.url}${path}`;
  const r = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : undefined };
}

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
  deployerA = credential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET);
  deployerB = credential(ids.TENANT_B, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET);
  limitedA = credential(ids.TENANT_A, ids.LIMITED_APP_ID, ids.LIMITED_SECRET);
});
after(async () => {
  await emu?.close();
});

describe('subscriptions and ARM gate', () => {
  test('GET /subscriptions lists the caller tenant only; a subscription of another tenant is InvalidAuthenticationTokenTenant', async () => {
    const list = await raw('GET', '/subscriptions?api-version=2022-12-01');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.value.map((s: any) => s.subscriptionId).sort(), [ids.SUB_1, ids.SUB_2]);
    assert.ok(list.headers.get('x-ms-request-id'));

    const other = await raw('GET', `/subscriptions/${ids.SUB_B}/resourcegroups/rg-b?api-version=2021-04-01`);
    assert.equal(other.status, 401);
    assert.equal(other.json.error.code, 'InvalidAuthenticationTokenTenant');
    assert.match(
      other.json.error.message,
      /The access token is from the wrong issuer '.*11111111-1111-4111-8111-111111111111.*'\. It must match the tenant '.*22222222-2222-4222-8222-222222222222.*' associated with this subscription/,
    );
  });

  test('missing token, wrong audience, missing api-version, unknown subscription and resource group', async () => {
    const noToken = await raw('GET', `/subscriptions/${ids.SUB_1}?api-version=2022-12-01`, { token: null });
    assert.equal(noToken.status, 401);
    assert.equal(noToken.json.error.code, 'AuthenticationFailed');

    const graphToken = (await deployerA.getToken(`${emu.url}/graph/.default`))!.token;
    const wrongAud = await raw('GET', `/subscriptions/${ids.SUB_1}?api-version=2022-12-01`, { token: graphToken });
    assert.equal(wrongAud.status, 401);
    assert.equal(wrongAud.json.error.code, 'InvalidAuthenticationToken');

    const noVersion = await raw('GET', `/subscriptions/${ids.SUB_1}/resourcegroups/rg-acr`);
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json.error.code, 'MissingApiVersionParameter');

    const unknownSub = await raw('GET', '/subscriptions/aaaaaaaa-0000-4000-8000-0000000000ff/resourcegroups/x?api-version=1');
    assert.equal(unknownSub.status, 404);
    assert.equal(unknownSub.json.error.code, 'SubscriptionNotFound');

    const unknownRg = await raw('GET', `/subscriptions/${ids.SUB_1}/resourcegroups/nope?api-version=1`);
    assert.equal(unknownRg.status, 404);
    assert.equal(unknownRg.json.error.code, 'ResourceGroupNotFound');

    const rgOk = await raw('GET', `/subscriptions/${ids.SUB_1}/resourceGroups/RG-ACR?api-version=1`);
    assert.equal(rgOk.status, 200);
    assert.equal(rgOk.json.name, 'rg-acr');
  });
});

describe('AKS (@azure/arm-containerservice)', () => {
  test('managedClusters.get / list shape the clusters on ManagedClustersGet.json', async () => {
    const client = aks(deployerA);
    const mi = await client.managedClusters.get('rg-aks', 'aks-mi');
    assert.equal(mi.identityProfile?.kubeletidentity?.objectId, ids.KUBELET_OID);
    assert.equal(mi.identity?.type, 'SystemAssigned');
    assert.equal(mi.servicePrincipalProfile?.clientId, 'msi');
    const sp = await client.managedClusters.get('RG-AKS', 'aks-sp');
    assert.equal(sp.servicePrincipalProfile?.clientId, ids.CLUSTER_SP_APP_ID);
    assert.equal(sp.identity, undefined);
    assert.equal(sp.identityProfile, undefined);

    const all: string[] = [];
    for await (const c of client.managedClusters.list()) all.push(c.name!);
    assert.deepEqual(all.sort(), ['aks-mi', 'aks-sp']);
    const inRg: string[] = [];
    for await (const c of client.managedClusters.listByResourceGroup('rg-aks')) inRg.push(c.name!);
    assert.equal(inRg.length, 2);

    const missing = await rejection(client.managedClusters.get('rg-aks', 'nope'));
    assert.equal(missing.statusCode, 404);
    assert.match(missing.message, /The Resource 'Microsoft\.ContainerService\/managedClusters\/nope' under resource group 'rg-aks' was not found/);
  });

  test('beginResetServicePrincipalProfileAndWait polls the LRO and updates clientId; the secret stays in the side table', async () => {
    const client = aks(deployerA);
    emu.requests.length = 0;
    await client.managedClusters.beginResetServicePrincipalProfileAndWait(
      'rg-aks',
      'aks-sp',
      { clientId: ids.CLUSTER_SP_APP_ID, secret: ids.CLUSTER_SP_SECRET },
      FAST,
    );
    const polls = emu.requests.filter((r) => /\/locations\/eastus\/operations\//.test(r.path));
    assert.ok(polls.length >= 2, `expected InProgress then Succeeded polls, saw ${polls.length}`);
    const cluster = await client.managedClusters.get('rg-aks', 'aks-sp');
    assert.equal(cluster.servicePrincipalProfile?.clientId, ids.CLUSTER_SP_APP_ID);
    assert.equal(cluster.servicePrincipalProfile?.secret, undefined);
    const key = Object.keys(emu.state.clusterSecrets ?? {}).find((k) => k.endsWith('/managedclusters/aks-sp'));
    assert.ok(key);
    assert.equal(emu.state.clusterSecrets![key].secret, ids.CLUSTER_SP_SECRET);
    const stored = JSON.stringify(Object.values(emu.state.resources));
    assert.ok(!stored.includes(ids.CLUSTER_SP_SECRET), 'the secret must not be stored in the ARM resource');
  });

  test('reset is refused on a managed-identity cluster (400) and fails the LRO with a wrong secret', async () => {
    const client = aks(deployerA);
    const mi = await rejection(
      client.managedClusters.beginResetServicePrincipalProfileAndWait('rg-aks', 'aks-mi', { clientId: ids.CLUSTER_SP_APP_ID, secret: 'x' }, FAST),
    );
    assert.equal(mi.statusCode, 400);
    assert.match(mi.message, /not using a service principal/);

    const wrong = await rejection(
      client.managedClusters.beginResetServicePrincipalProfileAndWait(
        'rg-aks',
        'aks-sp',
        { clientId: ids.CLUSTER_SP_APP_ID, secret: 'old-cluster-sp-secret-Value~12345' },
        FAST,
      ),
    );
    assert.match(wrong.message, /ServicePrincipalValidationClientError|AADSTS7000215/);
  });

  test('raw LRO protocol: 202 + Azure-AsyncOperation + Location + Retry-After 0; InProgress then Succeeded; Location 202 then 200', async () => {
    const path = `${rg(ids.SUB_1, 'rg-aks')}/providers/Microsoft.ContainerService/managedClusters/aks-sp/resetServicePrincipalProfile?api-version=2026-02-01`;
    const start = await raw('POST', path, { body: { clientId: ids.CLUSTER_SP_APP_ID, secret: ids.CLUSTER_SP_SECRET } });
    assert.equal(start.status, 202);
    const asyncUrl = start.headers.get('azure-asyncoperation')!;
    const location = start.headers.get('location')!;
    assert.equal(start.headers.get('retry-after'), '0');
    assert.match(
      asyncUrl,
      new RegExp(
        `^${emu.url}/subscriptions/${ids.SUB_1}/providers/Microsoft.ContainerService/locations/eastus/operations/[0-9a-f-]{36}\\?api-version=2026-02-01$`,
      ),
    );
    assert.match(location, /\/locations\/eastus\/operationresults\//);
    const loc1 = await raw('GET', location);
    assert.equal(loc1.status, 202);
    assert.equal((await raw('GET', asyncUrl)).json.status, 'InProgress');
    const done = await raw('GET', asyncUrl);
    assert.equal(done.json.status, 'Succeeded');
    assert.ok(done.json.endTime);
    assert.equal((await raw('GET', location)).status, 200);
  });

  test('state.lroFailures makes the operation end Failed with the error', async () => {
    emu.state.lroFailures = [{ pathPattern: 'resetServicePrincipalProfile$', code: 'OperationNotAllowed', message: 'Injected failure.', times: 1 }];
    const client = aks(deployerA);
    const err = await rejection(
      client.managedClusters.beginResetServicePrincipalProfileAndWait(
        'rg-aks',
        'aks-sp',
        { clientId: ids.CLUSTER_SP_APP_ID, secret: ids.CLUSTER_SP_SECRET },
        FAST,
      ),
    );
    assert.match(err.message, /Injected failure|OperationNotAllowed/);
    emu.state.lroFailures = [];
  });
});

describe('ACR control plane (@azure/arm-containerregistry)', () => {
  test('registries.get / list / listByResourceGroup', async () => {
    const client = acr(deployerA);
    const reg = await client.registries.get('rg-acr', 'contosoacr');
    assert.equal(reg.loginServer, `contosoacr.azurecr.localhost:${emu.port}`);
    assert.equal(reg.adminUserEnabled, false);
    assert.equal(reg.roleAssignmentMode, 'LegacyRegistryPermissions');
    assert.equal((await client.registries.get('rg-acr', 'abacacr')).roleAssignmentMode, 'AbacRepositoryPermissions');
    const names: string[] = [];
    for await (const r of client.registries.list()) names.push(r.name!);
    assert.deepEqual(names.sort(), ['abacacr', 'adminacr', 'contosoacr']);
    const other: string[] = [];
    for await (const r of acr(deployerA, ids.SUB_2).registries.listByResourceGroup('rg-other')) other.push(r.name!);
    assert.deepEqual(other, ['otheracr']);
    const b = await acr(deployerB, ids.SUB_B).registries.get('rg-b', 'tenantbacr');
    assert.equal(b.name, 'tenantbacr');
    const wrongTenant = await rejection(acr(deployerA, ids.SUB_B).registries.get('rg-b', 'tenantbacr'));
    assert.equal(wrongTenant.statusCode, 401);
    assert.match(wrongTenant.message, /wrong issuer/);
    const missing = await rejection(client.registries.get('rg-acr', 'nosuchacr'));
    assert.equal(missing.statusCode, 404);
    assert.match(missing.message, /The Resource 'Microsoft\.ContainerRegistry\/registries\/nosuchacr' under resource group 'rg-acr' was not found/);
  });

  test('listCredentials: admin passwords when enabled, UnAuthorizedForCredentialOperations (400) when disabled', async () => {
    const client = acr(deployerA);
    const creds = await client.registries.listCredentials('rg-acr', 'adminacr');
    assert.equal(creds.username, 'adminacr');
    assert.deepEqual(
      creds.passwords?.map((p) => p.name),
      ['password', 'password2'],
    );
    assert.ok(creds.passwords?.every((p) => typeof p.value === 'string' && p.value.length > 10));
    const err = await rejection(client.registries.listCredentials('rg-acr', 'contosoacr'));
    assert.equal(err.statusCode, 400);
    assert.match(err.message, /admin user is disabled/);
  });

  test('scope map + token + generateCredentials through their pollers; GET never shows password values', async () => {
    const client = acr(deployerA);
    const map = await client.scopeMaps.beginCreateAndWait(
      'rg-acr',
      'contosoacr',
      'pull-app',
      { actions: ['repositories/app/*/content/read'], description: 'pull app/*' },
      FAST,
    );
    assert.deepEqual(map.actions, ['repositories/app/*/content/read']);
    assert.equal(map.typePropertiesType, 'UserDefined');
    const token = await client.tokens.beginCreateAndWait('rg-acr', 'contosoacr', 'kube-pull-test', { scopeMapId: map.id, status: 'enabled' }, FAST);
    assert.equal(token.provisioningState, 'Succeeded');
    assert.equal(token.scopeMapId, map.id);
    const expiry = new Date(Date.now() + 86_400_000);
    const gen = await client.registries.beginGenerateCredentialsAndWait(
      'rg-acr',
      'contosoacr',
      { tokenId: token.id, expiry, name: 'password1' },
      FAST,
    );
    assert.equal(gen.username, 'kube-pull-test');
    assert.equal(gen.passwords?.length, 1);
    const pw = gen.passwords![0];
    assert.equal(pw.name, 'password1');
    assert.ok(pw.value && pw.value.length >= 32);
    assert.equal(pw.expiry?.toISOString(), expiry.toISOString());
    const secrets = emu.state.registrySecrets.tokenPasswords[token.id!.toLowerCase()];
    assert.equal(secrets?.password1?.value, pw.value);

    const again = await client.tokens.get('rg-acr', 'contosoacr', 'kube-pull-test');
    assert.equal(again.credentials?.passwords?.length, 1);
    assert.equal(again.credentials?.passwords?.[0].name, 'password1');
    assert.equal(again.credentials?.passwords?.[0].value, undefined);
    assert.ok(
      !JSON.stringify((await raw('GET', `${registryId('contosoacr')}/tokens/kube-pull-test?api-version=2025-04-01`)).json).includes(pw.value!),
    );

    const maps: string[] = [];
    for await (const m of client.scopeMaps.list('rg-acr', 'contosoacr')) maps.push(m.name!);
    assert.ok(maps.includes('pull-app') && maps.includes('_repositories_pull'));
    const toks: string[] = [];
    for await (const t of client.tokens.list('rg-acr', 'contosoacr')) toks.push(t.name!);
    assert.deepEqual(toks, ['kube-pull-test']);

    // update (PATCH) and delete through the pollers
    const disabled = await client.tokens.beginUpdateAndWait('rg-acr', 'contosoacr', 'kube-pull-test', { status: 'disabled' }, FAST);
    assert.equal(disabled.status, 'disabled');
    await client.tokens.beginDeleteAndWait('rg-acr', 'contosoacr', 'kube-pull-test', FAST);
    assert.equal((await rejection(client.tokens.get('rg-acr', 'contosoacr', 'kube-pull-test'))).statusCode, 404);
    assert.equal(emu.state.registrySecrets.tokenPasswords[token.id!.toLowerCase()], undefined);
    await client.scopeMaps.beginDeleteAndWait('rg-acr', 'contosoacr', 'pull-app', FAST);
    assert.equal((await rejection(client.scopeMaps.get('rg-acr', 'contosoacr', 'pull-app'))).statusCode, 404);
  });

  test('validation: token names, scope map actions, unknown scope map', async () => {
    const client = acr(deployerA);
    const badName = await rejection(
      client.tokens.beginCreateAndWait(
        'rg-acr',
        'contosoacr',
        'kube_pull',
        { scopeMapId: `${registryId('contosoacr')}/scopeMaps/_repositories_pull` },
        FAST,
      ),
    );
    assert.equal(badName.statusCode, 400);
    const badAction = await rejection(
      client.scopeMaps.beginCreateAndWait('rg-acr', 'contosoacr', 'badmap1', { actions: ['repositories/App/pull'] }, FAST),
    );
    assert.equal(badAction.statusCode, 400);
    const noMap = await rejection(
      client.tokens.beginCreateAndWait('rg-acr', 'contosoacr', 'token-x1', { scopeMapId: `${registryId('contosoacr')}/scopeMaps/missing1` }, FAST),
    );
    assert.equal(noMap.statusCode, 404);
  });
});

describe('Authorization (@azure/arm-authorization)', () => {
  test('roleDefinitions.list with a roleName filter and get by id', async () => {
    const client = authz(deployerA);
    const scope = registryId('contosoacr');
    const found = [];
    for await (const d of client.roleDefinitions.list(sdkScope(scope), { filter: "roleName eq 'AcrPull'" })) found.push(d);
    assert.equal(found.length, 1);
    assert.equal(found[0].name, ACR_PULL);
    assert.equal(found[0].id, `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`);
    assert.equal(found[0].roleType, 'BuiltInRole');
    const reader = await client.roleDefinitions.get(`subscriptions/${ids.SUB_1}`, REPO_READER);
    assert.equal(reader.roleName, 'Container Registry Repository Reader');
    const all = [];
    for await (const d of client.roleDefinitions.list(`subscriptions/${ids.SUB_1}`)) all.push(d.roleName);
    assert.deepEqual(all.sort(), [
      'AcrPull',
      'AcrPush',
      'Container Registry Repository Contributor',
      'Container Registry Repository Reader',
      'Container Registry Repository Writer',
      'Contributor',
      'Owner',
      'Reader',
      'User Access Administrator',
    ]);
  });

  test('create / get / duplicate (409 RoleAssignmentExists) / update not permitted / list / delete', async () => {
    const client = authz(deployerA);
    const scope = registryId('contosoacr');
    const roleDefinitionId = `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`;
    const name = '11111111-2222-4333-8444-555555555555';
    const created = await client.roleAssignments.create(sdkScope(scope), name, {
      roleDefinitionId,
      principalId: ids.KUBELET_OID,
      principalType: 'ServicePrincipal',
    });
    assert.equal(created.id, `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`);
    assert.equal(created.scope, scope);
    assert.equal(created.principalType, 'ServicePrincipal');

    // same name, same properties: idempotent
    const same = await client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.KUBELET_OID });
    assert.equal(same.name, name);

    const dup = await rejection(
      client.roleAssignments.create(sdkScope(scope), '22222222-2222-4333-8444-555555555555', { roleDefinitionId, principalId: ids.KUBELET_OID }),
    );
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.code, 'RoleAssignmentExists');
    // ARM names the existing assignment: its name without dashes
    assert.equal(dup.message, `The role assignment already exists. The ID of the existing role assignment is ${name.replace(/-/g, '')}.`);

    const changed = await rejection(client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.CLUSTER_SP_OID_A }));
    assert.equal(changed.statusCode, 409);
    assert.equal(changed.code, 'RoleAssignmentUpdateNotPermitted');

    const got = await client.roleAssignments.get(sdkScope(scope), name);
    assert.equal(got.principalId, ids.KUBELET_OID);

    const mine = [];
    for await (const a of client.roleAssignments.listForScope(`subscriptions/${ids.SUB_1}`, { filter: `principalId eq '${ids.KUBELET_OID}'` }))
      mine.push(a.id);
    assert.deepEqual(mine, [created.id]);
    const atSub = [];
    for await (const a of client.roleAssignments.listForScope(`subscriptions/${ids.SUB_1}`, { filter: 'atScope()' })) atSub.push(a.id);
    assert.ok(!atSub.includes(created.id), 'atScope() at the subscription must not list a registry-scoped assignment');
    const atReg = [];
    for await (const a of client.roleAssignments.listForScope(sdkScope(scope), { filter: `atScope() and assignedTo('${ids.KUBELET_OID}')` }))
      atReg.push(a.id);
    assert.deepEqual(atReg, [created.id]);

    const deleted = await client.roleAssignments.delete(sdkScope(scope), name);
    assert.equal(deleted.name, name);
    assert.equal((await rejection(client.roleAssignments.get(sdkScope(scope), name))).statusCode, 404);
    const gone = await raw('DELETE', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`);
    assert.equal(gone.status, 204);
  });

  test('conditions (ABAC) are stored with conditionVersion 2.0', async () => {
    const client = authz(deployerA);
    const scope = registryId('abacacr');
    const condition =
      "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'app/'))";
    const a = await client.roleAssignments.create(sdkScope(scope), '33333333-2222-4333-8444-555555555555', {
      roleDefinitionId: `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${REPO_READER}`,
      principalId: ids.KUBELET_OID,
      principalType: 'ServicePrincipal',
      condition,
      conditionVersion: '2.0',
    });
    assert.equal(a.condition, condition);
    assert.equal(a.conditionVersion, '2.0');
    await client.roleAssignments.delete(sdkScope(scope), a.name!);
  });

  test('PrincipalNotFound counts down state.pendingPrincipals attempts; unknown principals never pass', async () => {
    const client = authz(deployerA);
    const scope = registryId('contosoacr');
    const roleDefinitionId = `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`;
    emu.state.pendingPrincipals[ids.CLUSTER_SP_OID_A] = { attempts: 2 };
    const name = '44444444-2222-4333-8444-555555555555';
    for (let i = 0; i < 2; i += 1) {
      const err = await rejection(client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.CLUSTER_SP_OID_A }));
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'PrincipalNotFound');
      assert.match(err.message, /does not exist in the directory 11111111-1111-4111-8111-111111111111/);
    }
    assert.equal(emu.state.pendingPrincipals[ids.CLUSTER_SP_OID_A].attempts, 0);
    const ok = await client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.CLUSTER_SP_OID_A });
    assert.equal(ok.principalId, ids.CLUSTER_SP_OID_A);
    await client.roleAssignments.delete(sdkScope(scope), name);

    // replication delay by time: pending until `until`
    emu.state.pendingPrincipals[ids.CLUSTER_SP_OID_A] = { until: new Date(Date.now() + 60_000).toISOString() };
    assert.equal(
      (await rejection(client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.CLUSTER_SP_OID_A }))).code,
      'PrincipalNotFound',
    );
    emu.state.pendingPrincipals[ids.CLUSTER_SP_OID_A] = { until: new Date(Date.now() - 1000).toISOString() };
    await client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.CLUSTER_SP_OID_A });
    await client.roleAssignments.delete(sdkScope(scope), name);
    delete emu.state.pendingPrincipals[ids.CLUSTER_SP_OID_A];

    const unknown = await rejection(
      client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: '99999999-0000-4000-8000-000000000009' }),
    );
    assert.equal(unknown.code, 'PrincipalNotFound');

    // an SP of tenant A is no principal in tenant B's directory
    const cross = await rejection(
      authz(deployerB, ids.SUB_B).roleAssignments.create(sdkScope(registryId('tenantbacr', ids.SUB_B, 'rg-b')), name, {
        roleDefinitionId: `/subscriptions/${ids.SUB_B}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`,
        principalId: ids.CLUSTER_SP_OID_A,
      }),
    );
    assert.equal(cross.code, 'PrincipalNotFound');

    const mismatch = await rejection(
      client.roleAssignments.create(sdkScope(scope), name, { roleDefinitionId, principalId: ids.KUBELET_OID, principalType: 'User' }),
    );
    assert.equal(mismatch.code, 'UnmatchedPrincipalType');
  });

  test('AuthorizationFailed (403) for a caller not allowed to write role assignments', async () => {
    const scope = registryId('contosoacr');
    const err = await rejection(
      authz(limitedA).roleAssignments.create(sdkScope(scope), '55555555-2222-4333-8444-555555555555', {
        roleDefinitionId: `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`,
        principalId: ids.KUBELET_OID,
      }),
    );
    assert.equal(err.statusCode, 403);
    assert.equal(err.code, 'AuthorizationFailed');
    assert.match(
      err.message,
      new RegExp(
        `The client '${ids.LIMITED_APP_ID}' with object id '${ids.LIMITED_OID_A}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope.replace(/\//g, '\\/')}/providers/Microsoft.Authorization/roleAssignments/55555555`,
      ),
    );
  });

  test('list pagination: nextLink after 50, followed by the SDK', async () => {
    const scope = `/subscriptions/${ids.SUB_2}`;
    for (let i = 0; i < 60; i += 1) {
      const name = `66666666-0000-4000-8000-${String(i).padStart(12, '0')}`;
      emu.state.roleAssignments[`${scope}/providers/microsoft.authorization/roleassignments/${name}`] = {
        properties: {
          roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`,
          principalId: `77777777-0000-4000-8000-${String(i).padStart(12, '0')}`,
          principalType: 'ServicePrincipal',
          scope,
          createdOn: new Date(1_700_000_000_000 + i * 1000).toISOString(),
        },
        id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
        type: 'Microsoft.Authorization/roleAssignments',
        name,
      };
    }
    const first = await raw('GET', `${scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`);
    assert.equal(first.json.value.length, 50);
    assert.match(first.json.nextLink, /&\$skipToken=50$/);
    const all = [];
    for await (const a of authz(deployerA, ids.SUB_2).roleAssignments.listForScope(sdkScope(scope))) all.push(a.name);
    assert.equal(all.length, 60);
    assert.equal(new Set(all).size, 60);
  });

  test('a scope with its leading slash (the SDK then sends //subscriptions/...) reaches ARM', async () => {
    const found = [];
    for await (const d of authz(deployerA).roleDefinitions.list(registryId('contosoacr'), { filter: "roleName eq 'AcrPull'" })) found.push(d);
    assert.equal(found[0]?.id, `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`);
  });
});
