// auth-method service-principal through the bundle (dist/index.js, or ACR_DIST) against the
// emulator: same-tenant and cross-tenant grants (provisioning the principal in the registry's
// tenant, admin consent when the caller may not), create-secret plus resetServicePrincipalProfile,
// the refusal on managed-identity clusters, idempotency, verify and detach.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { azureInputs, runAction } from '../helpers/harness.ts';
import {
  CLUSTER_SP_APP_ID,
  CLUSTER_SP_OID_A,
  CLUSTER_SP_VALID_KEY_ID,
  CLUSTER_SP_SECRET,
  DEPLOYER_OID_B,
  LIMITED_APP_ID,
  SUB_1,
  SUB_B,
  TENANT_A,
  TENANT_B,
} from '../../emulator/ids.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
const CONTOSO = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
const TENANT_B_ACR = `/subscriptions/${SUB_B}/resourceGroups/rg-b/providers/Microsoft.ContainerRegistry/registries/tenantbacr`;
const AKS_SP = `/subscriptions/${SUB_1}/resourcegroups/rg-aks/providers/microsoft.containerservice/managedclusters/aks-sp`;

const sameTenant = { registry: 'contosoacr', 'cluster-name': 'aks-sp', 'cluster-resource-group': 'rg-aks', 'auth-method': 'service-principal' };
const crossTenant = {
  registry: 'tenantbacr',
  'registry-subscription-id': SUB_B,
  'registry-tenant-id': TENANT_B,
  'cluster-name': 'aks-sp',
  'cluster-resource-group': 'rg-aks',
};
/** PrincipalNotFound retries kept short in tests */
const fastRetry = { env: { ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS: '20', ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS: '5000' } };

const assignmentsFor = (scope: string, principalId: string) =>
  Object.values(emu.state.roleAssignments).filter(
    (a) => a.properties.scope.toLowerCase() === scope.toLowerCase() && a.properties.principalId.toLowerCase() === principalId.toLowerCase(),
  );
const spIn = (tenant: string) => emu.state.tenants[tenant].servicePrincipals.find((s) => s.appId === CLUSTER_SP_APP_ID);
const clusterApp = () => emu.state.tenants[TENANT_A].applications.find((a) => a.appId === CLUSTER_SP_APP_ID)!;
/** Azure writes (ARM and Graph), token requests excluded */
const writes = () => emu.requests.filter((q) => q.method !== 'GET' && (q.service === 'arm' || q.service === 'graph'));
const results = (r: { outputs: Record<string, string> }) => JSON.parse(r.outputs.results) as Array<Record<string, any>>;

describe('attach', () => {
  test("same tenant: grants AcrPull on the registry to the cluster's service principal", async () => {
    const r = await runAction(emu, azureInputs(emu, sameTenant));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs['auth-method'], 'service-principal');
    assert.equal(r.outputs['principal-id'], CLUSTER_SP_OID_A);
    assert.equal(r.outputs.role, 'AcrPull');
    assert.equal(r.outputs.changed, 'true');
    const [a] = assignmentsFor(CONTOSO, CLUSTER_SP_OID_A);
    assert.ok(a, 'the role assignment exists');
    assert.ok(a.properties.roleDefinitionId.endsWith(ACR_PULL));
    assert.equal(a.properties.principalType, 'ServicePrincipal');
    assert.deepEqual(r.outputs['role-assignment-ids'].toLowerCase(), a.id.toLowerCase());
    assert.ok(!emu.requests.some((q) => q.service === 'graph' && q.method === 'POST'), 'nothing provisioned in the same tenant');
    assert.ok(
      emu.requests.some((q) => q.service === 'graph' && q.path.includes(`servicePrincipals(appId='${CLUSTER_SP_APP_ID}')`)),
      'resolved through Graph servicePrincipals(appId=...)',
    );
  });

  test('auto picks service-principal for a cluster without a kubelet identity; a second run changes nothing', async () => {
    const inputs = { ...sameTenant, 'auth-method': 'auto' };
    const first = await runAction(emu, azureInputs(emu, inputs));
    assert.equal(first.code, 0, first.stdout);
    assert.equal(first.outputs['auth-method'], 'service-principal');
    const before = structuredClone(emu.state.roleAssignments);
    const second = await runAction(emu, azureInputs(emu, inputs));
    assert.equal(second.code, 0, second.stdout);
    assert.equal(second.outputs.changed, 'false');
    assert.equal(results(second)[0].action, 'unchanged');
    assert.equal(second.outputs['role-assignment-ids'], first.outputs['role-assignment-ids']);
    assert.deepEqual(Object.keys(emu.state.roleAssignments), Object.keys(before), 'no new assignment');
  });

  test("cross-tenant: provisions the principal in the registry's tenant (token for that tenant) and retries PrincipalNotFound", async () => {
    assert.equal(spIn(TENANT_B), undefined, 'seed: no principal in tenant B');
    // replication delay: ARM does not see the new principal on the first PUT
    emu.addFault({
      kind: 'armError',
      method: 'PUT',
      pathPattern: 'roleAssignments',
      status: 400,
      code: 'PrincipalNotFound',
      message: 'Principal does not exist in the directory.',
      times: 1,
    });
    const r = await runAction(emu, azureInputs(emu, crossTenant), fastRetry);
    assert.equal(r.code, 0, r.stdout);
    const sp = spIn(TENANT_B);
    assert.ok(sp, 'the principal now exists in tenant B');
    assert.equal(r.outputs['principal-id'], sp.id);
    assert.notEqual(sp.id, CLUSTER_SP_OID_A);
    const post = emu.requests.find((q) => q.service === 'graph' && q.method === 'POST' && q.path.endsWith('/servicePrincipals'));
    assert.equal(post?.status, 201);
    assert.equal(post?.tid, TENANT_B, "provisioned with a token for the registry's tenant");
    const puts = emu.requests.filter((q) => q.method === 'PUT' && q.path.includes('roleAssignments'));
    assert.deepEqual(
      puts.map((q) => q.status),
      [400, 201],
      'PrincipalNotFound retried',
    );
    assert.ok(puts.every((q) => q.tid === undefined || q.tid === TENANT_B));
    assert.equal(assignmentsFor(TENANT_B_ACR, sp.id).length, 1);
    assert.match(results(r)[0].action, /provisioned principal, created/);

    // idempotent: nothing provisioned or created the second time
    emu.requests.length = 0;
    const again = await runAction(emu, azureInputs(emu, crossTenant));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.changed, 'false');
    assert.equal(again.outputs['principal-id'], sp.id);
    assert.ok(!emu.requests.some((q) => q.service === 'graph' && q.method === 'POST'));
    assert.equal(emu.state.tenants[TENANT_B].servicePrincipals.filter((s) => s.appId === CLUSTER_SP_APP_ID).length, 1);
  });

  test('cross-tenant without the right to provision: a clear failure and the consent-url output', async () => {
    // the deployer may read service principals in tenant B (Application.Read.All), not create them
    emu.state.tenants[TENANT_B].graphAppRoles = { [DEPLOYER_OID_B]: ['Application.Read.All'] };
    const r = await runAction(emu, azureInputs(emu, crossTenant), fastRetry);
    assert.equal(r.code, 1);
    const url = `${emu.url}/${TENANT_B}/adminconsent?client_id=${CLUSTER_SP_APP_ID}`;
    assert.equal(r.outputs['consent-url'], url);
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.errors[0], /does not exist in the registry's tenant 22222222-2222-4222-8222-222222222222/);
    assert.match(r.errors[0], /administrator of tenant .* must consent/);
    assert.ok(r.errors[0].includes(url), 'the error names the consent link');
    assert.match(r.errors[0], /needs Application\.ReadWrite\.All there/, 'and the permission that would let the action create it');
    assert.match(r.summary, /consent url/);
    assert.equal(spIn(TENANT_B), undefined);
    assert.ok(!emu.requests.some((q) => q.method === 'PUT'), 'no role assignment attempted');
  });

  test('dry-run cross-tenant: plans the provisioning and the grant, writes nothing', async () => {
    const r = await runAction(emu, azureInputs(emu, { ...crossTenant, 'dry-run': 'true' }));
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(writes(), []);
    assert.match(
      r.stdout,
      /\[dry-run\] rg-aks\/aks-sp: would create the service principal of app c0000000-0000-4000-8000-000000000001 in tenant 22222222/,
    );
    assert.match(r.stdout, /\[dry-run\] rg-aks\/aks-sp: would assign AcrPull/);
    assert.equal(r.outputs.changed, 'true');
  });
});

describe('create-secret and reset', () => {
  test("adds a secret in the app's home tenant, masks it, keeps the old ones, resets the cluster (LRO polled)", async () => {
    const r = await runAction(
      emu,
      azureInputs(emu, { ...sameTenant, 'create-secret': 'true', 'secret-expiry': '30d', 'reset-cluster-credentials': 'true' }),
    );
    assert.equal(r.code, 0, r.stdout);
    const creds = clusterApp().passwordCredentials;
    assert.equal(creds.length, 3, 'old secrets are left alone');
    const added = creds.find((c) => c.keyId !== CLUSTER_SP_VALID_KEY_ID && !c.displayName?.includes('rbac'))!;
    assert.ok(r.masks.includes(added.secretText), 'the new secret is masked');
    const unmasked = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::') && l.includes(added.secretText));
    assert.deepEqual(unmasked, [], 'the secret value is never printed');
    // expires-on: the secret's end, 30 days out
    assert.equal(r.outputs['expires-on'], added.endDateTime);
    const days = (Date.parse(r.outputs['expires-on']) - Date.now()) / 86400e3;
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`);
    const addPassword = emu.requests.find((q) => q.path.endsWith('/addPassword'));
    assert.equal(addPassword?.tid, TENANT_A, "added in the app's home tenant");
    // the summary says how many others remain and when they expire
    assert.match(
      r.summary,
      /2 other client secrets remain \(left alone\): 'rbac' expires 2099-01-01T00:00:00Z; 'rbac \(expired\)' expired 2023-01-01T00:00:00Z/,
    );
    // the reset: 202 with Azure-AsyncOperation, polled to completion, with the new secret
    const reset = emu.requests.find((q) => q.method === 'POST' && q.path.endsWith('/resetServicePrincipalProfile'));
    assert.equal(reset?.status, 202);
    assert.ok(
      emu.requests.some((q) => q.method === 'GET' && /\/operations\//.test(q.path)),
      'the operation was polled',
    );
    assert.deepEqual(
      { ...emu.state.clusterSecrets![AKS_SP], updatedAt: '' },
      { clientId: CLUSTER_SP_APP_ID, secret: added.secretText, updatedAt: '' },
    );
    assert.match(results(r)[0].action, /secret added, credentials reset/);
  });

  test('reset with a given secret; a failing operation is reported with its error', async () => {
    const ok = await runAction(
      emu,
      azureInputs(emu, { ...sameTenant, 'service-principal-secret': CLUSTER_SP_SECRET, 'reset-cluster-credentials': 'true' }),
    );
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(emu.state.clusterSecrets![AKS_SP].secret, CLUSTER_SP_SECRET);
    assert.equal(clusterApp().passwordCredentials.length, 2, 'no secret created');

    const bad = await runAction(
      emu,
      azureInputs(emu, { ...sameTenant, 'service-principal-secret': 'not-the-secret~000', 'reset-cluster-credentials': 'true' }),
    );
    assert.equal(bad.code, 1);
    assert.equal(bad.errors.length, 1);
    assert.match(bad.errors[0], /AKS reset service principal of rg-aks\/aks-sp failed: .*ServicePrincipalValidationClientError/);
    assert.ok(bad.masks.includes('not-the-secret~000'), 'the given secret is masked');
    assert.deepEqual(
      bad.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::') && l.includes('not-the-secret~000')),
      [],
    );
  });

  test('refused on a managed-identity cluster before any write, pointing to auth-method: managed-identity', async () => {
    for (const method of ['service-principal', 'auto']) {
      emu.reset();
      const r = await runAction(
        emu,
        azureInputs(emu, {
          registry: 'contosoacr',
          'cluster-name': 'aks-mi',
          'cluster-resource-group': 'rg-aks',
          'auth-method': method,
          'service-principal-secret': CLUSTER_SP_SECRET,
          'reset-cluster-credentials': 'true',
        }),
      );
      assert.equal(r.code, 1, `${method}: ${r.stdout}`);
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0], /uses a managed identity.*Nothing was changed.*auth-method: managed-identity/);
      assert.deepEqual(writes(), [], `${method}: no write`);
    }
  });

  test('input errors: reset without a secret, create-secret without reset', async () => {
    const a = await runAction(emu, azureInputs(emu, { ...sameTenant, 'reset-cluster-credentials': 'true' }));
    assert.equal(a.code, 1);
    assert.match(a.errors[0], /Input 'reset-cluster-credentials': needs a secret/);
    const b = await runAction(emu, azureInputs(emu, { ...sameTenant, 'create-secret': 'true' }));
    assert.equal(b.code, 1);
    assert.match(b.errors[0], /Input 'create-secret'/);
    assert.deepEqual(
      emu.requests.filter((q) => q.service !== 'none'),
      [],
      'no network call at all',
    );
  });
});

describe('verify', () => {
  test('passes after attach, checking principal, role, cluster principal and newest secret', async () => {
    assert.equal((await runAction(emu, azureInputs(emu, crossTenant))).code, 0);
    emu.requests.length = 0;
    const r = await runAction(emu, azureInputs(emu, { ...crossTenant, operation: 'verify' }));
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(writes(), []);
    const [res] = results(r);
    assert.equal(res.action, 'verified');
    const details = res.details.join('\n');
    assert.match(details, /service principal .* of app c0000000-0000-4000-8000-000000000001 in tenant 22222222/);
    assert.match(details, /AcrPull on .*tenantbacr/);
    assert.match(details, /cluster rg-aks\/aks-sp runs as app c0000000/);
    assert.match(details, /newest client secret 'rbac' .* expires 2099/);
  });

  test('fails naming each problem: no principal in the registry tenant; no role; expired newest secret; another principal', async () => {
    const missing = await runAction(emu, azureInputs(emu, { ...crossTenant, operation: 'verify' }));
    assert.equal(missing.code, 1);
    assert.match(missing.errors[0], /has no service principal in the registry's tenant 22222222/);

    const noRole = await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify' }));
    assert.equal(noRole.code, 1);
    assert.match(noRole.errors[0], /holds no pull role on contosoacr/);

    assert.equal((await runAction(emu, azureInputs(emu, sameTenant))).code, 0);
    clusterApp().passwordCredentials = clusterApp().passwordCredentials.filter((c) => c.keyId !== CLUSTER_SP_VALID_KEY_ID);
    const expired = await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify' }));
    assert.equal(expired.code, 1);
    assert.match(expired.errors[0], /newest client secret 'rbac \(expired\)' .* expired on 2023-01-01/);
    assert.doesNotMatch(expired.errors[0], /holds no pull role/);

    const other = await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify', 'service-principal-client-id': LIMITED_APP_ID }));
    assert.equal(other.code, 1);
    assert.match(other.errors[0], /runs as service principal c0000000-0000-4000-8000-000000000001, not e0000000/);
  });

  test('where Graph denies reading the app, the secret check is skipped, not failed', async () => {
    assert.equal((await runAction(emu, azureInputs(emu, sameTenant))).code, 0);
    emu.state.tenants[TENANT_A].canReadApplications = [];
    const r = await runAction(emu, azureInputs(emu, { ...sameTenant, operation: 'verify' }));
    assert.equal(r.code, 0, r.stdout);
    assert.match(results(r)[0].details.join('\n'), /were not checked: Graph denied reading it \(403/);
  });
});

describe('detach', () => {
  test('removes the role assignment only; the principal and the secrets stay; a second detach changes nothing', async () => {
    assert.equal((await runAction(emu, azureInputs(emu, crossTenant))).code, 0);
    const sp = spIn(TENANT_B)!;
    assert.equal(assignmentsFor(TENANT_B_ACR, sp.id).length, 1);
    const secrets = structuredClone(clusterApp().passwordCredentials);
    emu.requests.length = 0;
    const r = await runAction(emu, azureInputs(emu, { ...crossTenant, operation: 'detach' }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'true');
    assert.equal(assignmentsFor(TENANT_B_ACR, sp.id).length, 0);
    assert.ok(spIn(TENANT_B), 'the provisioned principal stays');
    assert.deepEqual(clusterApp().passwordCredentials, secrets);
    assert.deepEqual(
      writes().map((q) => q.method),
      ['DELETE'],
    );
    const again = await runAction(emu, azureInputs(emu, { ...crossTenant, operation: 'detach' }));
    assert.equal(again.code, 0);
    assert.equal(again.outputs.changed, 'false');
  });
});
