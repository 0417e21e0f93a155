// The emulator's ARM responses, validated against the official OpenAPI specs in
// ../shared/azure-api/specs (read-only). Swagger definitions become JSON Schema with ajv:
// - `$ref`s resolve within the spec files; common-types refs outside the folder (Resource, ProxyResource,
//   TrackedResource, ErrorResponse, ErrorDetail, DelegatedResource) resolve to small stand-ins below,
//   shaped as SOURCES.md describes;
// - `allOf` is flattened and every object without an explicit `additionalProperties` gets
//   `additionalProperties: false`, so a field the spec does not define fails validation;
// - properties that are not `required` may be null (Azure sends `"condition": null`, `"status": null`).
// The official examples are validated too, which keeps the conversion honest (not stricter than Azure).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { ClientSecretCredential } from '@azure/identity';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';

const SPECS = join(import.meta.dirname, '..', '..', 'shared', 'azure-api', 'specs');
const ARM_SCOPE = 'https://management.core.windows.net//.default';
const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';

type Json = Record<string, any>;

// ---------------------------------------------------------------- swagger -> JSON Schema

/** common-types definitions the specs reference but the folder does not hold (swagger form). */
const COMMON_TYPES: Record<string, Json> = {
  systemData: {
    type: 'object',
    properties: {
      createdBy: { type: 'string' },
      createdByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastModifiedBy: { type: 'string' },
      lastModifiedByType: { type: 'string', enum: ['User', 'Application', 'ManagedIdentity', 'Key'] },
      lastModifiedAt: { type: 'string', format: 'date-time' },
    },
  },
  Resource: {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, systemData: { $ref: '#/definitions/systemData' } },
  },
  ProxyResource: { type: 'object', allOf: [{ $ref: '#/definitions/Resource' }] },
  TrackedResource: {
    type: 'object',
    allOf: [{ $ref: '#/definitions/Resource' }],
    properties: { tags: { type: 'object', additionalProperties: { type: 'string' } }, location: { type: 'string' } },
    required: ['location'],
  },
  ErrorAdditionalInfo: { type: 'object', properties: { type: { type: 'string' }, info: { type: 'object', additionalProperties: true } } },
  ErrorDetail: {
    type: 'object',
    properties: {
      code: { type: 'string' },
      message: { type: 'string' },
      target: { type: 'string' },
      details: { type: 'array', items: { $ref: '#/definitions/ErrorDetail' } },
      additionalInfo: { type: 'array', items: { $ref: '#/definitions/ErrorAdditionalInfo' } },
    },
  },
  ErrorResponse: { type: 'object', properties: { error: { $ref: '#/definitions/ErrorDetail' } } },
  DelegatedResource: {
    type: 'object',
    properties: { resourceId: { type: 'string' }, tenantId: { type: 'string' }, referralResource: { type: 'string' }, location: { type: 'string' } },
  },
};

/**
 * Fields the emulator sends that containerregistry/2025-04-01/containerregistry.json (an older commit of
 * that api-version) lacks, each backed by an official source: the same api-version's RegistryGet.json
 * example (anonymousPullEnabled, policies.azureADAuthenticationAsArmPolicy) and the @azure/arm-containerregistry
 * 12 model (roleAssignmentMode, values LegacyRegistryPermissions | AbacRepositoryPermissions).
 */
function extendRegistrySpec(spec: Json): Json {
  const out = structuredClone(spec);
  const props = out.definitions.RegistryProperties.properties;
  props.anonymousPullEnabled = { type: 'boolean' };
  props.roleAssignmentMode = { type: 'string', enum: ['LegacyRegistryPermissions', 'AbacRepositoryPermissions'] };
  out.definitions.Policies.properties.azureADAuthenticationAsArmPolicy = {
    type: 'object',
    properties: { status: { type: 'string', enum: ['enabled', 'disabled'] } },
  };
  return out;
}

const STRIP = new Set(['allOf', 'properties', 'required', 'additionalProperties', 'discriminator', 'example', 'x-nullable', 'items', '$ref']);

class SpecConverter {
  readonly docs = new Map<string, Json>(); // id -> swagger document

  add(id: string, swagger: Json): void {
    this.docs.set(id, swagger);
  }

  /** Swagger ref -> [doc id, definition name]. */
  private target(ref: string, docId: string): [string, string] {
    const [file, pointer] = ref.split('#');
    const name = (pointer ?? '').replace(/^\/definitions\//, '');
    if (!pointer?.startsWith('/definitions/')) throw new Error(`unsupported $ref ${ref}`);
    if (!file) return [docId, name];
    if (/common-types\//.test(file)) {
      if (!COMMON_TYPES[name]) throw new Error(`no stand-in for common-types definition ${name} (${ref})`);
      return ['common-types', name];
    }
    throw new Error(`$ref to a file outside the folder: ${ref}`);
  }

  private definition(docId: string, name: string): Json {
    const def = this.docs.get(docId)?.definitions?.[name];
    if (!def) throw new Error(`unknown definition ${docId}#/definitions/${name}`);
    return def;
  }

  /** properties/required of a swagger schema with its allOf bases merged in. */
  private flatten(node: Json, docId: string): { properties: Record<string, [Json, string]>; required: Set<string>; additional: unknown } {
    const properties: Record<string, [Json, string]> = {};
    const required = new Set<string>();
    let additional: unknown = node.additionalProperties;
    for (const part of node.allOf ?? []) {
      let base = part;
      let baseDoc = docId;
      if (part.$ref) {
        const [d, n] = this.target(part.$ref, docId);
        base = this.definition(d, n);
        baseDoc = d;
      }
      const f = this.flatten(base, baseDoc);
      Object.assign(properties, f.properties);
      for (const r of f.required) required.add(r);
      if (additional === undefined && f.additional !== undefined) additional = f.additional;
    }
    for (const [k, v] of Object.entries(node.properties ?? {})) properties[k] = [v as Json, docId];
    for (const r of node.required ?? []) required.add(r);
    return { properties, required, additional };
  }

  convert(node: Json, docId: string): Json {
    if (node.$ref) {
      const [d, n] = this.target(node.$ref, docId);
      return { $ref: `${d}#/definitions/${n}` };
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      if (STRIP.has(k) || k.startsWith('x-')) continue;
      out[k] = v;
    }
    if (out.type === 'file') delete out.type;
    if (node.items) out.items = this.convert(node.items, docId);
    const isObject = node.type === 'object' || node.properties || node.allOf;
    if (isObject) {
      const { properties, required, additional } = this.flatten(node, docId);
      out.type = 'object';
      out.properties = {};
      for (const [k, [v, d]] of Object.entries(properties)) {
        const converted = this.convert(v, d);
        out.properties[k] = required.has(k) && !v['x-nullable'] ? converted : { anyOf: [{ type: 'null' }, converted] };
      }
      if (required.size) out.required = [...required];
      if (additional === undefined) {
        if (Object.keys(properties).length > 0 || node.allOf) out.additionalProperties = false;
      } else if (typeof additional === 'boolean') {
        out.additionalProperties = additional;
      } else {
        out.additionalProperties = this.convert(additional as Json, docId);
      }
    }
    return out;
  }

  schemaDoc(id: string): Json {
    const swagger = this.docs.get(id)!;
    const definitions: Json = {};
    for (const [name, def] of Object.entries(swagger.definitions ?? {})) definitions[name] = this.convert(def as Json, id);
    return { $id: id, definitions };
  }
}

const readJson = (...parts: string[]): Json => JSON.parse(readFileSync(join(SPECS, ...parts), 'utf8'));

let ajv: Ajv;
const validators = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let v = validators.get(ref);
  if (!v) {
    v = ajv.getSchema(ref);
    if (!v) throw new Error(`no schema ${ref}`);
    validators.set(ref, v);
  }
  return v;
}

function check(ref: string, body: unknown, label: string): void {
  const v = validatorFor(ref);
  const ok = v(body);
  assert.ok(ok, `${label} does not match ${ref}:\n${JSON.stringify(v.errors?.slice(0, 8), null, 2)}`);
}

function rejectsSchema(ref: string, body: unknown): string {
  const v = validatorFor(ref);
  assert.equal(v(body), false, `expected ${ref} to reject ${JSON.stringify(body).slice(0, 200)}`);
  return JSON.stringify(v.errors);
}

const CR = 'containerregistry.json';
const AKS = 'managedClusters.json';
const AUTHZ = 'authorization.json';
const COMMON = 'common-types';

function buildAjv(): Ajv {
  const conv = new SpecConverter();
  conv.add(COMMON, { definitions: COMMON_TYPES });
  conv.add(CR, extendRegistrySpec(readJson('containerregistry', '2025-04-01', 'containerregistry.json')));
  conv.add(AKS, readJson('containerservice', '2026-02-01', 'managedClusters.json'));
  conv.add(AUTHZ, readJson('authorization', '2022-04-01', 'authorization-RoleAssignmentsCalls.json'));
  const a = new Ajv({ strict: false, allErrors: true });
  const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  a.addFormat('date-time', { type: 'string', validate: (s: string) => isoDateTime.test(s) && !Number.isNaN(Date.parse(s)) });
  for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'password', 'uuid', 'duration', 'arm-id', 'uri', 'date', 'unixtime', 'binary', 'url'])
    a.addFormat(f, true);
  for (const id of [COMMON, CR, AKS, AUTHZ]) a.addSchema(conv.schemaDoc(id));
  return a;
}

// ---------------------------------------------------------------- the emulator

let emu: Emulator;
let token = '';

async function arm(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const url = path.startsWith('https://') ? path : `${emu.url}${path}${path.includes('?') ? '&' : '?'}api-version=2025-04-01`;
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
  ajv = buildAjv();
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

describe('the conversion accepts the official examples and rejects unknown fields', () => {
  test('examples validate', () => {
    const ex = (...p: string[]): Json => readJson(...p).responses;
    check(
      `${CR}#/definitions/Registry`,
      ex('containerregistry', 'examples', '2025-04-01', 'RegistryGet.json')['200'].body,
      'RegistryGet.json (2025-04-01)',
    );
    check(
      `${CR}#/definitions/Registry`,
      ex('containerregistry', 'examples', '2023-07-01', 'RegistryGet.json')['200'].body,
      'RegistryGet.json (2023-07-01)',
    );
    check(
      `${CR}#/definitions/RegistryListCredentialsResult`,
      ex('containerregistry', 'examples', '2025-04-01', 'RegistryListCredentials.json')['200'].body,
      'RegistryListCredentials.json',
    );
    check(`${CR}#/definitions/ScopeMap`, ex('containerregistry', '2023-07-01-examples', 'ScopeMapCreate.json')['201'].body, 'ScopeMapCreate.json');
    check(`${CR}#/definitions/Token`, ex('containerregistry', '2023-07-01-examples', 'TokenCreate.json')['201'].body, 'TokenCreate.json');
    check(
      `${CR}#/definitions/GenerateCredentialsResult`,
      ex('containerregistry', '2023-07-01-examples', 'RegistryGenerateCredentials.json')['200'].body,
      'RegistryGenerateCredentials.json',
    );
    check(
      `${AKS}#/definitions/ManagedCluster`,
      ex('containerservice', '2026-02-01', 'examples', 'ManagedClustersGet.json')['200'].body,
      'ManagedClustersGet.json',
    );
    check(
      `${AUTHZ}#/definitions/RoleAssignment`,
      ex('authorization', '2022-04-01', 'examples', 'RoleAssignments_Get.json')['200'].body,
      'RoleAssignments_Get.json',
    );
    check(
      `${AUTHZ}#/definitions/RoleAssignmentListResult`,
      ex('authorization', '2022-04-01', 'examples', 'RoleAssignments_ListForScope.json')['200'].body,
      'RoleAssignments_ListForScope.json',
    );
  });

  test('the real role assignment recorded by azure-cli validates (nulls included)', () => {
    const yaml = readFileSync(join(SPECS, '..', 'azure-cli', 'test_role_assignment_no_graph.yaml'), 'utf8');
    const m = /string: '(\{"properties":\{"roleDefinitionId"[^\n]*\})'\n/.exec(yaml);
    assert.ok(m, 'recorded PUT response not found');
    check(`${AUTHZ}#/definitions/RoleAssignment`, JSON.parse(m[1].replace(/''/g, "'")), 'recorded role assignment');
  });

  test('a field the spec does not define fails; so does a wrong type or enum value', () => {
    const reg = readJson('containerregistry', 'examples', '2025-04-01', 'RegistryGet.json').responses['200'].body;
    assert.match(rejectsSchema(`${CR}#/definitions/Registry`, { ...reg, emulatorOnly: true }), /additionalProperties/);
    assert.match(rejectsSchema(`${CR}#/definitions/Registry`, { ...reg, properties: { ...reg.properties, secret: 'x' } }), /additionalProperties/);
    assert.match(rejectsSchema(`${CR}#/definitions/Registry`, { ...reg, properties: { ...reg.properties, adminUserEnabled: 'no' } }), /boolean/);
    assert.match(rejectsSchema(`${CR}#/definitions/Registry`, { ...reg, properties: { ...reg.properties, roleAssignmentMode: 'Abac' } }), /enum/);
    const cluster = readJson('containerservice', '2026-02-01', 'examples', 'ManagedClustersGet.json').responses['200'].body;
    rejectsSchema(`${AKS}#/definitions/ManagedCluster`, {
      ...cluster,
      properties: { ...cluster.properties, servicePrincipalProfile: { clientId: 'x', password: 'y' } },
    });
    rejectsSchema(`${AKS}#/definitions/ManagedCluster`, { ...cluster, location: undefined });
    rejectsSchema(`${AUTHZ}#/definitions/RoleAssignment`, {
      id: 'x',
      name: 'y',
      type: 'z',
      properties: { roleDefinitionId: 'r', principalId: 'p', principalType: 'Robot' },
    });
    rejectsSchema(`${CR}#/definitions/GenerateCredentialsResult`, {
      username: 'u',
      passwords: [{ name: 'password1', value: 'v', expiry: 'tomorrow' }],
    });
  });
});

describe('emulator responses match the specs', () => {
  test('registries: GET, list, listCredentials, ARM errors', async () => {
    const reg = await arm('GET', registryId('contosoacr'));
    assert.equal(reg.status, 200);
    check(`${CR}#/definitions/Registry`, reg.json, 'registry GET');
    const list = await arm('GET', `/subscriptions/${ids.SUB_1}/providers/Microsoft.ContainerRegistry/registries`);
    assert.equal(list.json.value.length, 3);
    check(`${CR}#/definitions/RegistryListResult`, list.json, 'registry list');
    const creds = await arm('POST', `${registryId('adminacr')}/listCredentials`);
    assert.equal(creds.status, 200);
    check(`${CR}#/definitions/RegistryListCredentialsResult`, creds.json, 'listCredentials');
    const disabled = await arm('POST', `${registryId('contosoacr')}/listCredentials`);
    assert.equal(disabled.status, 400);
    check(`${COMMON}#/definitions/ErrorResponse`, disabled.json, 'listCredentials error');
    const missing = await arm('GET', registryId('nosuchacr'));
    assert.equal(missing.status, 404);
    check(`${COMMON}#/definitions/ErrorResponse`, missing.json, 'registry 404');
  });

  test('scope maps, tokens and generateCredentials (PUT bodies, GETs, lists, the LRO result)', async () => {
    const map = await arm('PUT', `${registryId('contosoacr')}/scopeMaps/schema-map`, {
      properties: { actions: ['repositories/app/*/content/read'], description: 'd' },
    });
    assert.equal(map.status, 201);
    check(`${CR}#/definitions/ScopeMap`, map.json, 'scope map PUT');
    check(`${CR}#/definitions/ScopeMap`, (await arm('GET', `${registryId('contosoacr')}/scopeMaps/schema-map`)).json, 'scope map GET');
    check(`${CR}#/definitions/ScopeMap`, (await arm('GET', `${registryId('contosoacr')}/scopeMaps/_repositories_pull`)).json, 'system scope map GET');
    check(`${CR}#/definitions/ScopeMapListResult`, (await arm('GET', `${registryId('contosoacr')}/scopeMaps`)).json, 'scope map list');

    const tokenId = `${registryId('contosoacr')}/tokens/schema-token`;
    const tok = await arm('PUT', tokenId, { properties: { scopeMapId: map.json.id } });
    assert.equal(tok.status, 201);
    check(`${CR}#/definitions/Token`, tok.json, 'token PUT');

    const gen = await arm('POST', `${registryId('contosoacr')}/generateCredentials`, { tokenId, expiry: '2099-01-01T00:00:00Z' });
    assert.equal(gen.status, 202);
    const asyncUrl = gen.headers.get('azure-asyncoperation')!;
    let status = '';
    for (let i = 0; i < 5 && status !== 'Succeeded'; i += 1) status = (await arm('GET', asyncUrl)).json.status;
    assert.equal(status, 'Succeeded');
    const result = await arm('GET', gen.headers.get('location')!);
    assert.equal(result.status, 200);
    assert.equal(result.json.passwords.length, 2);
    check(`${CR}#/definitions/GenerateCredentialsResult`, result.json, 'generateCredentials result');

    const after = await arm('GET', tokenId);
    check(`${CR}#/definitions/Token`, after.json, 'token GET with passwords');
    assert.equal(after.json.properties.credentials.passwords.length, 2);
    check(`${CR}#/definitions/TokenListResult`, (await arm('GET', `${registryId('contosoacr')}/tokens`)).json, 'token list');
    const patched = await arm('PATCH', tokenId, { properties: { status: 'disabled' } });
    check(`${CR}#/definitions/Token`, patched.json, 'token PATCH');
  });

  test('managed clusters: GET (both kinds) and list', async () => {
    for (const name of ['aks-mi', 'aks-sp']) {
      const r = await arm('GET', clusterId(name));
      assert.equal(r.status, 200);
      check(`${AKS}#/definitions/ManagedCluster`, r.json, `managed cluster ${name}`);
    }
    const list = await arm('GET', `/subscriptions/${ids.SUB_1}/providers/Microsoft.ContainerService/managedClusters`);
    check(`${AKS}#/definitions/ManagedClusterListResult`, list.json, 'managed cluster list');
    const reset = await arm('POST', `${clusterId('aks-mi')}/resetServicePrincipalProfile`, { clientId: 'x', secret: 'y' });
    assert.equal(reset.status, 400);
    check(`${COMMON}#/definitions/ErrorResponse`, reset.json, 'reset refusal');
  });

  test('role assignments: PUT, GET, list, and the 409', async () => {
    const scope = registryId('contosoacr');
    const path = `${scope}/providers/Microsoft.Authorization/roleAssignments/9a9a9a9a-0000-4000-8000-000000000001`;
    const body = {
      properties: {
        roleDefinitionId: `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`,
        principalId: ids.KUBELET_OID,
        principalType: 'ServicePrincipal',
      },
    };
    const put = await arm('PUT', path, body);
    assert.equal(put.status, 201);
    check(`${AUTHZ}#/definitions/RoleAssignment`, put.json, 'role assignment PUT');
    check(`${AUTHZ}#/definitions/RoleAssignment`, (await arm('GET', path)).json, 'role assignment GET');
    const list = await arm(
      'GET',
      `/subscriptions/${ids.SUB_1}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${ids.KUBELET_OID}'`)}`,
    );
    assert.equal(list.json.value.length, 1);
    check(`${AUTHZ}#/definitions/RoleAssignmentListResult`, list.json, 'role assignment list');
    const dup = await arm('PUT', path.replace('9a9a9a9a-0000-4000-8000-000000000001', '9a9a9a9a-0000-4000-8000-000000000002'), body);
    assert.equal(dup.status, 409);
    check(`${COMMON}#/definitions/ErrorResponse`, dup.json, 'RoleAssignmentExists');
  });
});
