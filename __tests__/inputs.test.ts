import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSettings, parseDuration, list } from '../src/inputs/index.ts';
import { parseCloud } from '../src/clouds.ts';
import type { InputError } from '../src/errors.ts';

const G = '00000000-0000-4000-8000-00000000000';
const inputs = (o: Record<string, string>) => (name: string) => o[name] ?? '';

test('defaults: kubernetes + pull-secret + token, namespace default, secret acr-<name>', () => {
  const s = readSettings(inputs({ registry: 'ContosoACR' }));
  assert.equal(s.clusterType, 'kubernetes');
  assert.equal(s.authMethod, 'pull-secret');
  assert.equal(s.operation, 'attach');
  assert.equal(s.pullSecret.credential.type, 'token');
  assert.deepEqual(s.pullSecret.namespaces, ['default']);
  assert.equal(s.pullSecret.secretName, 'acr-contosoacr');
  assert.equal(s.maxParallel, 8);
  assert.equal(s.secretExpiry.ms, 90 * 86400e3);
  assert.equal(s.cloud.name, 'AzureCloud');
  assert.deepEqual(s.login, { kind: 'default' });
});

test('cluster-name makes cluster-type aks and auth-method stays auto', () => {
  const s = readSettings(
    inputs({
      registry: 'contosoacr',
      'cluster-name': 'aks1',
      'cluster-resource-group': 'rg',
      'client-id': `${G}1`,
      'tenant-id': `${G}2`,
      'subscription-id': `${G}3`,
    }),
  );
  assert.equal(s.clusterType, 'aks');
  assert.equal(s.authMethod, 'auto');
  assert.deepEqual(s.login, { kind: 'oidc', clientId: `${G}1`, tenantId: `${G}2`, audience: 'api://AzureADTokenExchange' });
  assert.deepEqual(s.clusters, [{ subscriptionId: `${G}3`, resourceGroup: 'rg', name: 'aks1', label: 'rg/aks1' }]);
});

test('clusters: resource ids and resourceGroup/name lines, comments ignored', () => {
  const id = `/subscriptions/${G}4/resourceGroups/rg-x/providers/Microsoft.ContainerService/managedClusters/c1`;
  const s = readSettings(
    inputs({
      registry: 'contosoacr',
      clusters: `${id}\n# comment\nrg-y/c2\n`,
      'subscription-id': `${G}5`,
      'client-id': `${G}1`,
      'tenant-id': `${G}2`,
    }),
  );
  assert.deepEqual(
    s.clusters.map((c) => [c.subscriptionId, c.resourceGroup, c.name]),
    [
      [`${G}4`, 'rg-x', 'c1'],
      [`${G}5`, 'rg-y', 'c2'],
    ],
  );
});

test('client-secret and creds logins', () => {
  const a = readSettings(inputs({ registry: 'contosoacr', 'client-id': `${G}1`, 'tenant-id': `${G}2`, 'client-secret': 's' }));
  assert.equal(a.login.kind, 'secret');
  const b = readSettings(
    inputs({ registry: 'contosoacr', creds: JSON.stringify({ clientId: `${G}1`, clientSecret: 'x', tenantId: `${G}2`, subscriptionId: `${G}3` }) }),
  );
  assert.deepEqual(b.login, { kind: 'secret', clientId: `${G}1`, tenantId: `${G}2`, clientSecret: 'x' });
  assert.equal(b.subscriptionId, `${G}3`);
});

test('registry forms: name, login server, resource id; basic accepts any host[:port]', () => {
  assert.deepEqual(readSettings(inputs({ registry: 'myreg.azurecr.io' })).registry, {
    kind: 'loginServer',
    name: 'myreg',
    loginServer: 'myreg.azurecr.io',
  });
  const id = `/subscriptions/${G}1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg`;
  assert.equal(readSettings(inputs({ registry: id })).registry.kind, 'resourceId');
  const basic = readSettings(inputs({ registry: '127.0.0.1:5000', 'credential-type': 'basic', username: 'u', password: 'p' }));
  assert.deepEqual(basic.registry, { kind: 'loginServer', name: '127', loginServer: '127.0.0.1:5000' });
  assert.throws(
    () => readSettings(inputs({ registry: '127.0.0.1:5000' })),
    (e: InputError) => e.input === 'registry',
  );
});

test('durations', () => {
  assert.equal(parseDuration('x', '12h').ms, 12 * 3600e3);
  assert.equal(parseDuration('x', 'P1DT12H').ms, 36 * 3600e3);
  assert.equal(parseDuration('x', '2w').ms, 14 * 86400e3);
  assert.throws(() => parseDuration('x', '59m'), /out of range/);
  assert.throws(() => parseDuration('x', 'P'), /not a duration/);
  assert.throws(() => parseDuration('x', 'PT'), /not a duration/);
});

test('lists split on lines and commas', () => {
  assert.deepEqual(list('a, b\n\nc\n# d'), ['a', 'b', 'c']);
});

test('custom cloud from az cloud show JSON', () => {
  const c = parseCloud(
    JSON.stringify({
      name: 'Stack',
      endpoints: { resourceManager: 'https://arm.local/', activeDirectory: 'https://login.local/', microsoftGraphResourceId: 'https://graph.local/' },
      suffixes: { acrLoginServerEndpoint: 'azurecr.local' },
    }),
  );
  assert.deepEqual(c, {
    name: 'Stack',
    resourceManager: 'https://arm.local',
    armAudience: 'https://arm.local/',
    authorityHost: 'https://login.local',
    graph: 'https://graph.local',
    acrSuffix: '.azurecr.local',
    acrAudience: 'https://containerregistry.azure.net',
    custom: true,
  });
  assert.equal(parseCloud('azurechinacloud').acrSuffix, '.azurecr.cn');
});

test("every cloud's ACR audience is containerregistry.azure.net (Microsoft's SDKs use it for all clouds; az cloud show has none)", () => {
  for (const name of ['AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment'])
    assert.equal(parseCloud(name).acrAudience, 'https://containerregistry.azure.net', name);
  const custom = JSON.stringify({
    endpoints: { resourceManager: 'https://arm.local/', activeDirectory: 'https://login.local/', microsoftGraphResourceId: 'https://graph.local/' },
    suffixes: { acrLoginServerEndpoint: '.azurecr.local' },
  });
  assert.equal(parseCloud(custom).acrAudience, 'https://containerregistry.azure.net');
  assert.notEqual(parseCloud('AzureChinaCloud').acrAudience, parseCloud('AzureChinaCloud').armAudience.replace(/\/$/, ''));
});

test('settings are one shape per auth method; registry-tenant-id belongs to the registry', () => {
  const aks = { registry: 'contosoacr', 'cluster-name': 'aks1', 'cluster-resource-group': 'rg', 'subscription-id': `${G}3` };
  const mi = readSettings(inputs({ ...aks, 'auth-method': 'managed-identity', 'registry-tenant-id': `${G}9` }));
  assert.equal(mi.authMethod, 'managed-identity');
  assert.equal(mi.registry.tenantId, `${G}9`);
  assert.ok(!('servicePrincipal' in mi) && !('pullSecret' in mi));
  const sp = readSettings(
    inputs({ ...aks, 'auth-method': 'service-principal', 'service-principal-secret': 's', 'reset-cluster-credentials': 'true' }),
  );
  assert.equal(sp.authMethod, 'service-principal');
  assert.deepEqual(sp.servicePrincipal, { clientId: undefined, secret: 's', createSecret: false, resetClusterCredentials: true });
  const auto = readSettings(inputs(aks));
  assert.equal(auto.authMethod, 'auto');
  assert.ok('servicePrincipal' in auto);

  const ps = (o: Record<string, string>) => {
    const s = readSettings(inputs({ registry: 'contosoacr', ...o }));
    assert.equal(s.authMethod, 'pull-secret');
    return s.pullSecret.credential;
  };
  assert.deepEqual(ps({}), { type: 'token', tokenName: undefined });
  assert.deepEqual(ps({ 'token-name': 'my-token' }), { type: 'token', tokenName: 'my-token' });
  assert.deepEqual(ps({ 'credential-type': 'basic', username: 'u', password: 'p' }), { type: 'basic', username: 'u', password: 'p' });
  assert.deepEqual(ps({ 'credential-type': 'service-principal', 'service-principal-client-id': `${G}8`, 'create-secret': 'true' }), {
    type: 'service-principal',
    clientId: `${G}8`,
    secret: undefined,
    createSecret: true,
  });
  assert.deepEqual(ps({ 'credential-type': 'admin' }), { type: 'admin' });
  assert.deepEqual(ps({ 'credential-type': 'exchange' }), { type: 'exchange' });
  assert.equal(readSettings(inputs({ registry: 'contosoacr' })).registry.tenantId, undefined);
});
