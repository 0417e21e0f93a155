// The pure parts of the service-principal AKS method (src/scenarios/aks/service-principal.ts), the
// principal step it shares (steps/tenant-principal.ts), and auto's choice of it (aks/context.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManagedCluster } from '../src/azure/types.ts';
import type { ServicePrincipalInputs } from '../src/settings.ts';
import { CheckError } from '../src/errors.ts';
import { checkClusterPrincipal, checkResetAllowed, principalAppId } from '../src/scenarios/aks/service-principal.ts';
import { checkNewestSecret } from '../src/scenarios/steps/client-secret.ts';
import { consentMessage, registryTenantOf } from '../src/scenarios/steps/tenant-principal.ts';
import { methodFor } from '../src/scenarios/aks/context.ts';

const spCluster: ManagedCluster = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/sp',
  name: 'sp',
  resourceGroup: 'rg',
  subscriptionId: 's',
  label: 'rg/sp',
  servicePrincipalClientId: 'c0000000-0000-4000-8000-000000000001',
  usesManagedIdentity: false,
};
const miCluster: ManagedCluster = {
  ...spCluster,
  label: 'rg/mi',
  servicePrincipalClientId: undefined,
  usesManagedIdentity: true,
  kubeletObjectId: 'f0000000-0000-4000-8000-000000000001',
};

const sp = (over: Partial<ServicePrincipalInputs> = {}): { servicePrincipal: ServicePrincipalInputs } => ({
  servicePrincipal: { createSecret: false, resetClusterCredentials: false, ...over },
});

describe('principalAppId', () => {
  test("the given client id wins, else the cluster's", () => {
    assert.equal(principalAppId(sp({ clientId: 'D0000000-0000-4000-8000-000000000001' }), spCluster), 'd0000000-0000-4000-8000-000000000001');
    assert.equal(principalAppId(sp(), spCluster), 'c0000000-0000-4000-8000-000000000001');
  });
  test('a managed-identity cluster with none named points to managed-identity', () => {
    assert.throws(
      () => principalAppId(sp(), miCluster),
      (e: unknown) => e instanceof CheckError && /auth-method: managed-identity/.test(e.message) && /f0000000/.test(e.message),
    );
  });
});

describe('checkResetAllowed', () => {
  test('refuses a reset on a managed-identity cluster only', () => {
    assert.throws(
      () => checkResetAllowed(sp({ resetClusterCredentials: true }), miCluster),
      /uses a managed identity.*auth-method: managed-identity/,
    );
    assert.doesNotThrow(() => checkResetAllowed(sp({ resetClusterCredentials: true }), spCluster));
    assert.doesNotThrow(() => checkResetAllowed(sp(), miCluster));
  });
});

test('registryTenantOf: registry-tenant-id, else tenant-id', () => {
  assert.equal(registryTenantOf({ registry: { tenantId: 'b' }, tenantId: 'a' }), 'b');
  assert.equal(registryTenantOf({ registry: {}, tenantId: 'a' }), 'a');
});

test('consentMessage names the tenant, the app, the link and the CLI alternative', () => {
  const m = consentMessage('app', 'tb', 'https://login/tb/adminconsent?client_id=app', 'Graph 403');
  assert.match(m, /app app does not exist in the registry's tenant tb/);
  assert.match(m, /administrator of tenant tb must consent/);
  assert.match(m, /https:\/\/login\/tb\/adminconsent\?client_id=app/);
  assert.match(m, /az ad sp create --id app/);
});

describe('checkNewestSecret', () => {
  const now = new Date('2025-06-01T00:00:00Z');
  const old = { keyId: 'k-old', displayName: 'old', startDateTime: '2022-01-01T00:00:00Z', endDateTime: '2099-01-01T00:00:00Z' };
  const expiredNew = { keyId: 'k-new', displayName: 'new', startDateTime: '2024-01-01T00:00:00Z', endDateTime: '2025-01-01T00:00:00Z' };
  test('judges the newest by start date, not the longest-lived', () => {
    const r = checkNewestSecret('app', [old, expiredNew], now);
    assert.equal(r.ok, false);
    assert.match(r.problem!, /newest client secret 'new' \(k-new\) of app app expired on 2025-01-01/);
  });
  test('a valid newest secret passes', () => {
    const r = checkNewestSecret('app', [expiredNew, { ...old, keyId: 'k3', startDateTime: '2025-02-01T00:00:00Z' }], now);
    assert.equal(r.ok, true);
    assert.match(r.detail, /expires 2099/);
  });
  test('no secret at all fails', () => {
    assert.equal(checkNewestSecret('app', [], now).ok, false);
  });
});

describe('checkClusterPrincipal', () => {
  test('the same principal passes; another one or a managed identity is named', () => {
    assert.equal(checkClusterPrincipal(spCluster, 'C0000000-0000-4000-8000-000000000001'), undefined);
    assert.match(checkClusterPrincipal(spCluster, 'other')!, /runs as service principal c0000000.*not other/);
    assert.match(checkClusterPrincipal(miCluster, 'app')!, /uses a managed identity/);
  });
});

describe('methodFor (auto)', () => {
  const auto = { authMethod: 'auto' as const };
  test('kubelet identity: managed-identity; none: service-principal', () => {
    assert.equal(methodFor(auto, miCluster), 'managed-identity');
    assert.equal(methodFor(auto, spCluster), 'service-principal');
  });
  test('service-principal-only inputs pick service-principal even on a managed-identity cluster (which then refuses a reset)', () => {
    assert.equal(methodFor({ ...auto, ...sp({ resetClusterCredentials: true, secret: 'x' }) }, miCluster), 'service-principal');
    assert.equal(methodFor({ ...auto, ...sp({ clientId: 'c' }) }, miCluster), 'service-principal');
  });
});
