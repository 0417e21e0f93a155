// The emulator's ARM contract (emulator/arm/swagger.ts, contract.ts): the official OpenAPI specs it
// holds (emulator/specs, verbatim copies of ../shared/azure-api/specs) turned into JSON Schema, checked
// against the official examples and a real recording (so the conversion is not stricter than Azure),
// and the emulator's answers checked against them at every api-version it accepts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { ClientSecretCredential } from '@azure/identity';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';
import { definitionProblems, specOperation, supportedApiVersions } from '../emulator/arm/swagger.ts';
import { specViolations } from '../emulator/arm/contract.ts';

const SHARED = join(import.meta.dirname, '..', '..', 'shared', 'azure-api', 'specs');
const HELD = join(import.meta.dirname, '..', 'emulator', 'specs');
const ARM_SCOPE = 'https://management.core.windows.net//.default';
const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
const CR = 'Microsoft.ContainerRegistry';
const AKS = 'Microsoft.ContainerService';
const AUTHZ = 'Microsoft.Authorization';

type Json = Record<string, any>;

const readJson = (...parts: string[]): Json => JSON.parse(readFileSync(join(SHARED, ...parts), 'utf8'));

function conforms(namespace: string, version: string, definition: string, body: unknown, label: string): void {
  const problems = definitionProblems(namespace, version, definition, body);
  assert.equal(problems, undefined, `${label} does not match ${definition} (${namespace} ${version}):\n${problems?.join('\n')}`);
}

function rejects(namespace: string, version: string, definition: string, body: unknown): string {
  const problems = definitionProblems(namespace, version, definition, body);
  assert.ok(problems, `expected ${definition} (${version}) to reject ${JSON.stringify(body).slice(0, 200)}`);
  return problems.join('\n');
}

describe('the held specs', () => {
  test('are verbatim copies of ../shared/azure-api/specs', () => {
    for (const file of [
      'containerregistry/2025-04-01/containerregistry.json',
      'containerregistry/2025-11-01/containerregistry.json',
      'containerregistry/data-plane-2021-07-01/containerregistry.json',
      'containerservice/2026-02-01/managedClusters.json',
      'containerservice/2026-04-01/managedClusters.json',
      'authorization/2022-04-01/authorization-RoleAssignmentsCalls.json',
    ]) {
      assert.ok(readFileSync(join(HELD, file)).equals(readFileSync(join(SHARED, file))), `${file} differs from ../shared`);
    }
  });

  test('define the api-versions the SDKs call (ACR 2025-11-01, AKS 2026-04-01, role assignments 2022-04-01) and no others', () => {
    assert.deepEqual(supportedApiVersions(CR), ['2025-11-01', '2025-04-01']);
    assert.deepEqual(supportedApiVersions(AKS), ['2026-04-01', '2026-02-01']);
    assert.deepEqual(supportedApiVersions(AUTHZ), ['2022-04-01']);
    assert.equal(supportedApiVersions('Microsoft.Resources'), undefined);
  });

  test('find the operation of a request by method and path (the scope of a role assignment spans segments)', () => {
    const reg = `/subscriptions/${ids.SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
    const table: Array<[string, string, string, string, string | undefined]> = [
      [CR, '2025-11-01', 'GET', reg, 'Registries_Get'],
      [CR, '2025-11-01', 'POST', `${reg}/generateCredentials`, 'Registries_GenerateCredentials'],
      [CR, '2025-11-01', 'PUT', `${reg}/tokens/t1`, 'Tokens_Create'],
      [CR, '2025-11-01', 'PATCH', `${reg}/tokens/t1`, 'Tokens_Update'],
      [CR, '2025-11-01', 'DELETE', `${reg}/scopeMaps/m1`, 'ScopeMaps_Delete'],
      [CR, '2025-11-01', 'GET', `${reg}/operationStatuses/registries-x`, undefined],
      [
        AKS,
        '2026-04-01',
        'POST',
        `/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/resetServicePrincipalProfile`,
        'ManagedClusters_ResetServicePrincipalProfile',
      ],
      [AUTHZ, '2022-04-01', 'PUT', `${reg}/providers/Microsoft.Authorization/roleAssignments/n`, 'RoleAssignments_Create'],
      [
        AUTHZ,
        '2022-04-01',
        'GET',
        `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleAssignments`,
        'RoleAssignments_ListForSubscription',
      ],
      [AUTHZ, '2022-04-01', 'GET', `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions`, undefined],
      [CR, '2024-01-01', 'GET', reg, undefined],
    ];
    for (const [ns, version, method, path, want] of table)
      assert.equal(specOperation(ns, version, method, path)?.operationId, want, `${method} ${path}`);
    const gen = specOperation(CR, '2025-11-01', 'POST', `${reg}/generateCredentials`)!;
    assert.equal(gen.longRunning, true);
    assert.equal(gen.finalStateVia, 'location');
    assert.equal(gen.body?.required, true);
  });
});

describe('the conversion accepts the official examples and rejects unknown fields', () => {
  test('examples validate at their own api-version', () => {
    const ex = (...p: string[]): Json => readJson(...p).responses;
    conforms(
      CR,
      '2025-04-01',
      'Registry',
      ex('containerregistry', 'examples', '2025-04-01', 'RegistryGet.json')['200'].body,
      'RegistryGet.json (2025-04-01)',
    );
    conforms(
      CR,
      '2025-04-01',
      'RegistryListCredentialsResult',
      ex('containerregistry', 'examples', '2025-04-01', 'RegistryListCredentials.json')['200'].body,
      'RegistryListCredentials.json',
    );
    for (const [file, status, definition] of [
      ['RegistryGet.json', '200', 'Registry'],
      ['RegistryList.json', '200', 'RegistryListResult'],
      ['RegistryListCredentials.json', '200', 'RegistryListCredentialsResult'],
      ['RegistryGenerateCredentials.json', '200', 'GenerateCredentialsResult'],
      ['ScopeMapCreate.json', '201', 'ScopeMap'],
      ['ScopeMapGet.json', '200', 'ScopeMap'],
      ['TokenCreate.json', '201', 'Token'],
      ['TokenGet.json', '200', 'Token'],
      ['TokenUpdate.json', '201', 'Token'],
      ['RegistryCreateAbac.json', '200', 'Registry'],
    ]) {
      conforms(CR, '2025-11-01', definition, ex('containerregistry', '2025-11-01', 'examples', file)[status].body, `${file} (2025-11-01)`);
    }
    conforms(
      AKS,
      '2026-04-01',
      'ManagedCluster',
      ex('containerservice', '2026-04-01', 'examples', 'ManagedClustersGet.json')['200'].body,
      'ManagedClustersGet.json (2026-04-01)',
    );
    conforms(
      AKS,
      '2026-02-01',
      'ManagedCluster',
      ex('containerservice', '2026-02-01', 'examples', 'ManagedClustersGet.json')['200'].body,
      'ManagedClustersGet.json (2026-02-01)',
    );
    conforms(
      AKS,
      '2026-02-01',
      'ManagedClusterListResult',
      ex('containerservice', '2026-02-01', 'examples', 'ManagedClustersList.json')['200'].body,
      'ManagedClustersList.json',
    );
    conforms(
      AUTHZ,
      '2022-04-01',
      'RoleAssignment',
      ex('authorization', '2022-04-01', 'examples', 'RoleAssignments_Get.json')['200'].body,
      'RoleAssignments_Get.json',
    );
    conforms(
      AUTHZ,
      '2022-04-01',
      'RoleAssignmentListResult',
      ex('authorization', '2022-04-01', 'examples', 'RoleAssignments_ListForScope.json')['200'].body,
      'RoleAssignments_ListForScope.json',
    );
  });

  test('the real role assignment recorded by azure-cli validates (nulls included)', () => {
    const yaml = readFileSync(join(SHARED, '..', 'azure-cli', 'test_role_assignment_no_graph.yaml'), 'utf8');
    const m = /string: '(\{"properties":\{"roleDefinitionId"[^\n]*\})'\n/.exec(yaml);
    assert.ok(m, 'recorded PUT response not found');
    conforms(AUTHZ, '2022-04-01', 'RoleAssignment', JSON.parse(m[1].replace(/''/g, "'")), 'recorded role assignment');
  });

  test('a field the spec does not define fails; so does a wrong type or enum value', () => {
    const reg = readJson('containerregistry', '2025-11-01', 'examples', 'RegistryGet.json').responses['200'].body;
    assert.match(rejects(CR, '2025-11-01', 'Registry', { ...reg, emulatorOnly: true }), /additional properties 'emulatorOnly'/);
    assert.match(rejects(CR, '2025-11-01', 'Registry', { ...reg, properties: { ...reg.properties, secret: 'x' } }), /additional properties 'secret'/);
    assert.match(rejects(CR, '2025-11-01', 'Registry', { ...reg, properties: { ...reg.properties, adminUserEnabled: 'no' } }), /boolean/);
    assert.match(rejects(CR, '2025-11-01', 'Registry', { ...reg, properties: { ...reg.properties, roleAssignmentMode: 'Abac' } }), /allowed values/);
    const cluster = readJson('containerservice', '2026-04-01', 'examples', 'ManagedClustersGet.json').responses['200'].body;
    rejects(AKS, '2026-04-01', 'ManagedCluster', {
      ...cluster,
      properties: { ...cluster.properties, servicePrincipalProfile: { clientId: 'x', password: 'y' } },
    });
    rejects(AKS, '2026-04-01', 'ManagedCluster', { ...cluster, location: undefined });
    rejects(AUTHZ, '2022-04-01', 'RoleAssignment', {
      id: 'x',
      name: 'y',
      type: 'z',
      properties: { roleDefinitionId: 'r', principalId: 'p', principalType: 'Robot' },
    });
    rejects(CR, '2025-11-01', 'GenerateCredentialsResult', { username: 'u', passwords: [{ name: 'password1', value: 'v', expiry: 'tomorrow' }] });
  });

  test('2025-04-01 knows the registry fields its own example shows (the held spec commit predates them)', () => {
    const reg = readJson('containerregistry', 'examples', '2025-04-01', 'RegistryGet.json').responses['200'].body;
    assert.ok(reg.properties.policies.azureADAuthenticationAsArmPolicy, 'the example carries the ARM-audience policy');
    conforms(CR, '2025-04-01', 'Registry', reg, 'RegistryGet.json (2025-04-01)');
  });
});

// ---------------------------------------------------------------- the emulator

let emu: Emulator;
let token = '';

async function arm(method: string, path: string, version: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const url = path.startsWith('https://') ? path : `${emu.url}${path}${path.includes('?') ? '&' : '?'}api-version=${version}`;
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : undefined };
}

const registryId = (name: string): string =>
  `/subscriptions/${ids.SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/${name}`;
const clusterId = (name: string): string =>
  `/subscriptions/${ids.SUB_1}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${name}`;

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
  const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, {
    authorityHost: emu.url,
    disableInstanceDiscovery: true,
  });
  token = (await cred.getToken(ARM_SCOPE))!.token;
});
after(async () => {
  await emu?.close();
});

/** No answer of the emulator broke the spec since `mark` (the emulator checks every one itself). */
function noViolationsSince(mark: number): void {
  assert.deepEqual(specViolations.slice(mark), []);
}

describe('emulator responses match the specs at every api-version it accepts', () => {
  for (const version of supportedApiVersions(CR)!) {
    test(`registries ${version}: GET, list, listCredentials, ARM errors`, async () => {
      const mark = specViolations.length;
      const reg = await arm('GET', registryId('contosoacr'), version);
      assert.equal(reg.status, 200);
      conforms(CR, version, 'Registry', reg.json, 'registry GET');
      assert.equal(reg.json.properties.policies.azureADAuthenticationAsArmPolicy.status, 'enabled');
      const list = await arm('GET', `/subscriptions/${ids.SUB_1}/providers/Microsoft.ContainerRegistry/registries`, version);
      assert.equal(list.json.value.length, 3);
      conforms(CR, version, 'RegistryListResult', list.json, 'registry list');
      const creds = await arm('POST', `${registryId('adminacr')}/listCredentials`, version);
      assert.equal(creds.status, 200);
      conforms(CR, version, 'RegistryListCredentialsResult', creds.json, 'listCredentials');
      const disabled = await arm('POST', `${registryId('contosoacr')}/listCredentials`, version);
      assert.equal(disabled.status, 400);
      assert.equal((await arm('GET', registryId('nosuchacr'), version)).status, 404);
      noViolationsSince(mark);
    });

    test(`scope maps, tokens and generateCredentials ${version} (PUT bodies, GETs, lists, the LRO result)`, async () => {
      const mark = specViolations.length;
      const map = await arm('PUT', `${registryId('contosoacr')}/scopeMaps/schema-map-${version}`, version, {
        properties: { actions: ['repositories/app/*/content/read'], description: 'd' },
      });
      assert.equal(map.status, 201);
      conforms(CR, version, 'ScopeMap', map.json, 'scope map PUT');
      conforms(CR, version, 'ScopeMapListResult', (await arm('GET', `${registryId('contosoacr')}/scopeMaps`, version)).json, 'scope map list');
      const tokenId = `${registryId('contosoacr')}/tokens/schema-token-${version}`;
      const tok = await arm('PUT', tokenId, version, { properties: { scopeMapId: map.json.id } });
      assert.equal(tok.status, 201);
      const gen = await arm('POST', `${registryId('contosoacr')}/generateCredentials`, version, { tokenId, expiry: '2099-01-01T00:00:00Z' });
      assert.equal(gen.status, 202);
      const asyncUrl = gen.headers.get('azure-asyncoperation')!;
      let status = '';
      for (let i = 0; i < 5 && status !== 'Succeeded'; i += 1) status = (await arm('GET', asyncUrl, version)).json.status;
      assert.equal(status, 'Succeeded');
      const result = await arm('GET', gen.headers.get('location')!, version);
      assert.equal(result.status, 200);
      assert.equal(result.json.passwords.length, 2);
      conforms(CR, version, 'GenerateCredentialsResult', result.json, 'generateCredentials result');
      conforms(CR, version, 'Token', (await arm('GET', tokenId, version)).json, 'token GET with passwords');
      conforms(CR, version, 'TokenListResult', (await arm('GET', `${registryId('contosoacr')}/tokens`, version)).json, 'token list');
      conforms(CR, version, 'Token', (await arm('PATCH', tokenId, version, { properties: { status: 'disabled' } })).json, 'token PATCH');
      noViolationsSince(mark);
    });
  }

  for (const version of supportedApiVersions(AKS)!) {
    test(`managed clusters ${version}: GET (both kinds), list, the reset refusal`, async () => {
      const mark = specViolations.length;
      for (const name of ['aks-mi', 'aks-sp']) {
        const r = await arm('GET', clusterId(name), version);
        assert.equal(r.status, 200);
        conforms(AKS, version, 'ManagedCluster', r.json, `managed cluster ${name}`);
      }
      conforms(
        AKS,
        version,
        'ManagedClusterListResult',
        (await arm('GET', `/subscriptions/${ids.SUB_1}/providers/Microsoft.ContainerService/managedClusters`, version)).json,
        'list',
      );
      const reset = await arm('POST', `${clusterId('aks-mi')}/resetServicePrincipalProfile`, version, { clientId: 'x', secret: 'y' });
      assert.equal(reset.status, 400);
      noViolationsSince(mark);
    });
  }

  test('role assignments 2022-04-01: PUT, GET, list, and the 409', async () => {
    const mark = specViolations.length;
    const version = '2022-04-01';
    const scope = registryId('contosoacr');
    const path = `${scope}/providers/Microsoft.Authorization/roleAssignments/9a9a9a9a-0000-4000-8000-000000000001`;
    const body = {
      properties: {
        roleDefinitionId: `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`,
        principalId: ids.KUBELET_OID,
        principalType: 'ServicePrincipal',
      },
    };
    const put = await arm('PUT', path, version, body);
    assert.equal(put.status, 201);
    conforms(AUTHZ, version, 'RoleAssignment', put.json, 'role assignment PUT');
    conforms(AUTHZ, version, 'RoleAssignment', (await arm('GET', path, version)).json, 'role assignment GET');
    const list = await arm(
      'GET',
      `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${ids.KUBELET_OID}'`)}`,
      version,
    );
    assert.equal(list.json.value.length, 1);
    conforms(AUTHZ, version, 'RoleAssignmentListResult', list.json, 'role assignment list');
    const dup = await arm('PUT', path.replace('9a9a9a9a-0000-4000-8000-000000000001', '9a9a9a9a-0000-4000-8000-000000000002'), version, body);
    assert.equal(dup.status, 409);
    noViolationsSince(mark);
  });
});
