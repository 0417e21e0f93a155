// Azure's rules the emulator enforces (issue #14 item 1), each against the emulator's HTTP API and,
// where an SDK exists, the unmodified SDK: role-assignment uniqueness, Graph application permissions
// from the token's roles claim, Entra's AADSTS answers for federated credentials, the ACR audience
// policy, the pull-role table per registry mode, cross-tenant rules, the password validity delay,
// the data plane's token scope, api-versions and request and response validation.
// Each rule's source is cited beside its code in emulator/; the tests hold the answers to it.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ContainerRegistryManagementClient } from '@azure/arm-containerregistry';
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { RESOLVE_HOOK_PATH, createJwtSigner, startEmulator } from '../emulator/server.ts';
import type { Emulator, JwtSigner } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';
import { PULL_ROLES } from '../emulator/acr.ts';
import { ROLES } from '../emulator/arm/authorization.ts';
import { specViolations } from '../emulator/arm/contract.ts';
import { OWNED_BY_FOREIGN_APP } from '../emulator/graph.ts';

const ARM_SCOPE = 'https://management.core.windows.net//.default';
const ACR_SCOPE = 'https://containerregistry.azure.net/.default';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emu: Emulator;
let signer: JwtSigner;

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
  signer = await createJwtSigner(); // the process-wide key the emulator signs with
  await import(pathToFileURL(RESOLVE_HOOK_PATH).href); // <registry>.azurecr.localhost -> 127.0.0.1
});
after(async () => {
  await emu?.close();
});
beforeEach(() => emu.reset());

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string>; json?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.form) {
    body = new URLSearchParams(init.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] = 'application/json';
  }
  const r = await fetch(url.startsWith('https://') ? url : `${emu.url}${url}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}

/** The token endpoint's answer for a client secret (no caching: roles are read at issuance). */
function tokenReply(tenant: string, appId: string, secret: string, scope: string): Promise<Reply> {
  return call(`/${tenant}/oauth2/v2.0/token`, { form: { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope } });
}

async function accessToken(tenant: string, appId: string, secret: string, scope: string): Promise<string> {
  const r = await tokenReply(tenant, appId, secret, scope);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.access_token as string;
}

const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
const deployerArm = (tenant = ids.TENANT_A): Promise<string> => accessToken(tenant, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, ARM_SCOPE);
const limitedArm = (tenant = ids.TENANT_A): Promise<string> => accessToken(tenant, ids.LIMITED_APP_ID, ids.LIMITED_SECRET, ARM_SCOPE);
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

async function arm(method: string, path: string, opts: { token?: string; body?: unknown; version: string }): Promise<Reply> {
  const sep = path.includes('?') ? '&' : '?';
  return call(`${path}${sep}api-version=${opts.version}`, { method, headers: bearer(opts.token ?? (await deployerArm())), json: opts.body });
}

const registryId = (name: string, sub = ids.SUB_1, group = 'rg-acr'): string =>
  `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.ContainerRegistry/registries/${name}`;
const assignmentPath = (scope: string, name: string): string => `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
const roleId = (sub: string, guid: string): string => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const REPO_CONDITION = (repo: string): string =>
  `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringLikeIgnoreCase '${repo}'))`;

function assign(scope: string, name: string, roleGuid: string, principalId: string, condition?: string, token?: string): Promise<Reply> {
  const sub = scope.split('/')[2]!;
  return arm('PUT', assignmentPath(scope, name), {
    version: '2022-04-01',
    token,
    body: {
      properties: {
        roleDefinitionId: roleId(sub, roleGuid),
        principalId,
        principalType: 'ServicePrincipal',
        ...(condition ? { condition, conditionVersion: '2.0' } : {}),
      },
    },
  });
}

// ---------------------------------------------------------------- role assignments

describe('role assignments are unique by scope + role + principal (not name, not condition)', () => {
  const scope = registryId('abacacr');
  const first = '1a000000-0000-4000-8000-000000000001';
  const other = '1a000000-0000-4000-8000-000000000002';

  const cases: Array<{ name: string; firstCondition?: string; secondCondition?: string }> = [
    { name: 'both unconditioned' },
    { name: 'the existing one unconditioned, the new one narrowed', secondCondition: REPO_CONDITION('app/*') },
    { name: 'another condition', firstCondition: REPO_CONDITION('web/*'), secondCondition: REPO_CONDITION('app/*') },
    { name: 'the same condition', firstCondition: REPO_CONDITION('app/*'), secondCondition: REPO_CONDITION('app/*') },
  ];
  for (const c of cases) {
    test(`a second assignment under another name is 409 RoleAssignmentExists naming the first: ${c.name}`, async () => {
      assert.equal((await assign(scope, first, ROLES.repositoryReader, ids.KUBELET_OID, c.firstCondition)).status, 201);
      const dup = await assign(scope, other, ROLES.repositoryReader, ids.KUBELET_OID, c.secondCondition);
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.json, {
        error: {
          code: 'RoleAssignmentExists',
          message: `The role assignment already exists. The ID of the existing role assignment is ${first.replace(/-/g, '')}.`,
        },
      });
      assert.equal(emu.state.roleAssignments[assignmentPath(scope, other).toLowerCase()], undefined);
    });
  }

  test('another role, another principal or another scope is another key; the same name updates its condition in place', async () => {
    assert.equal((await assign(scope, first, ROLES.repositoryReader, ids.KUBELET_OID)).status, 201);
    assert.equal((await assign(scope, other, ROLES.repositoryWriter, ids.KUBELET_OID)).status, 201);
    assert.equal((await assign(scope, '1a000000-0000-4000-8000-000000000003', ROLES.repositoryReader, ids.CLUSTER_SP_OID_A)).status, 201);
    assert.equal(
      (await assign(`/subscriptions/${ids.SUB_1}`, '1a000000-0000-4000-8000-000000000004', ROLES.repositoryReader, ids.KUBELET_OID)).status,
      201,
    );
    const narrowed = await assign(scope, first, ROLES.repositoryReader, ids.KUBELET_OID, REPO_CONDITION('app/*'));
    assert.equal(narrowed.status, 200);
    assert.equal(narrowed.json.properties.condition, REPO_CONDITION('app/*'));
  });

  test('@azure/arm-authorization surfaces the 409 as RestError RoleAssignmentExists', async () => {
    const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    const client = new AuthorizationManagementClient(cred, ids.SUB_1, { endpoint: emu.url, credentialScopes: [ARM_SCOPE] });
    const sdkScope = scope.slice(1);
    const params = { roleDefinitionId: roleId(ids.SUB_1, ROLES.acrPull), principalId: ids.KUBELET_OID, principalType: 'ServicePrincipal' as const };
    await client.roleAssignments.create(sdkScope, first, params);
    await assert.rejects(
      client.roleAssignments.create(sdkScope, other, { ...params, condition: REPO_CONDITION('app/*'), conditionVersion: '2.0' }),
      (e: any) => {
        assert.equal(e.statusCode, 409);
        assert.equal(e.code, 'RoleAssignmentExists');
        assert.match(e.message, new RegExp(first.replace(/-/g, '')));
        return true;
      },
    );
  });
});

// ---------------------------------------------------------------- Graph

const graphScope = (): string => `${emu.url}/graph/.default`;
const GRAPH = (path: string): string => `/graph/v1.0${path}`;

async function graphAs(tenant: string, roles: string[] | undefined, method: string, path: string, body?: unknown): Promise<Reply> {
  // the limited deployer with exactly `roles` (undefined: the seed's grants)
  const spId = tenant === ids.TENANT_A ? ids.LIMITED_OID_A : ids.LIMITED_OID_B;
  if (roles) emu.state.tenants[tenant]!.graphAppRoles = { ...emu.state.tenants[tenant]!.graphAppRoles, [spId]: roles };
  const t = await accessToken(tenant, ids.LIMITED_APP_ID, ids.LIMITED_SECRET, graphScope());
  return call(GRAPH(path), { method, headers: bearer(t), json: body });
}

function assertGraphError(r: Reply, status: number, code: string, message?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error.code, code);
  if (message) assert.equal(r.json.error.message, message);
  assert.match(r.json.error.innerError['request-id'], GUID);
  assert.match(r.json.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
}

const DENIED = 'Insufficient privileges to complete the operation.';

describe('Graph authorizes app-only calls by the roles claim Entra issues', () => {
  test("Entra puts the service principal's Graph app roles in roles, for Graph tokens only, and none when there are none", async () => {
    assert.deepEqual(claimsOf(await accessToken(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, graphScope())).roles, [
      'Application.ReadWrite.All',
    ]);
    assert.deepEqual(claimsOf(await accessToken(ids.TENANT_B, ids.LIMITED_APP_ID, ids.LIMITED_SECRET, graphScope())).roles, ['Application.Read.All']);
    assert.equal(claimsOf(await deployerArm()).roles, undefined);
    emu.state.tenants[ids.TENANT_A]!.graphAppRoles = {};
    assert.equal(claimsOf(await accessToken(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, graphScope())).roles, undefined);
  });

  const read: Array<[string[], number]> = [
    [[], 403],
    [['Application.Read.All'], 200],
    [['Application.ReadWrite.OwnedBy'], 200],
    [['Application.ReadWrite.All'], 200],
    [['Directory.Read.All'], 200],
    [['Directory.ReadWrite.All'], 200],
    [['User.Read.All'], 403],
  ];
  for (const [roles, status] of read) {
    test(`GET servicePrincipals(appId=…) and the list with [${roles.join(', ')}]: ${status}`, async () => {
      const one = await graphAs(ids.TENANT_A, roles, 'GET', `/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID}')`);
      if (status === 200) assert.equal(one.json.id, ids.CLUSTER_SP_OID_A);
      else assertGraphError(one, 403, 'Authorization_RequestDenied', DENIED);
      const list = await graphAs(
        ids.TENANT_A,
        undefined,
        'GET',
        `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${ids.CLUSTER_SP_APP_ID}'`)}`,
      );
      assert.equal(list.status, status);
    });
  }

  test('a service principal reads its own service principal and application without any permission; an unknown one is 404', async () => {
    assert.equal((await graphAs(ids.TENANT_A, [], 'GET', `/servicePrincipals(appId='${ids.LIMITED_APP_ID}')`)).json.id, ids.LIMITED_OID_A);
    assert.equal((await graphAs(ids.TENANT_A, [], 'GET', `/servicePrincipals/${ids.LIMITED_OID_A}`)).status, 200);
    assert.equal((await graphAs(ids.TENANT_A, [], 'GET', `/applications(appId='${ids.LIMITED_APP_ID}')`)).status, 200);
    assertGraphError(
      await graphAs(ids.TENANT_A, [], 'GET', `/applications(appId='${ids.CLUSTER_SP_APP_ID}')`),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    assertGraphError(
      await graphAs(ids.TENANT_A, ['Application.Read.All'], 'GET', `/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID.replace('c0', 'c9')}')`),
      404,
      'Request_ResourceNotFound',
      `Resource '${ids.CLUSTER_SP_APP_ID.replace('c0', 'c9')}' does not exist or one of its queried reference-property objects are not present.`,
    );
  });

  // provisioning the cluster's app (home tenant A) in tenant B
  const foreign: Array<[string[], number, string | undefined]> = [
    [[], 403, DENIED],
    [['Application.Read.All'], 403, DENIED],
    [['Application.ReadWrite.OwnedBy'], 403, OWNED_BY_FOREIGN_APP],
    [['Application.ReadWrite.All'], 201, undefined],
    [['Directory.ReadWrite.All'], 201, undefined],
  ];
  for (const [roles, status, message] of foreign) {
    test(`POST /servicePrincipals for another tenant's app with [${roles.join(', ')}]: ${status}`, async () => {
      const r = await graphAs(ids.TENANT_B, roles, 'POST', '/servicePrincipals', { appId: ids.CLUSTER_SP_APP_ID });
      if (status !== 201) {
        assertGraphError(r, status, 'Authorization_RequestDenied', message);
        assert.ok(!emu.state.tenants[ids.TENANT_B]!.servicePrincipals.some((s) => s.appId === ids.CLUSTER_SP_APP_ID));
        return;
      }
      assert.equal(r.status, 201);
      assert.equal(r.json.appOwnerOrganizationId, ids.TENANT_A);
      // a second create is 409, with Graph's body
      const again = await graphAs(ids.TENANT_B, undefined, 'POST', '/servicePrincipals', { appId: ids.CLUSTER_SP_APP_ID });
      assertGraphError(
        again,
        409,
        'Request_MultipleObjectsWithSameKeyValue',
        `The service principal cannot be created, updated, or restored because the service principal name ${ids.CLUSTER_SP_APP_ID} is already in use.`,
      );
    });
  }

  test('OwnedBy provisions an app of its own tenant that it owns, not one it does not own', async () => {
    const tenant = emu.state.tenants[ids.TENANT_A]!;
    const app = (id: string, owners: string[]) => ({
      id: `a9000000-0000-4000-8000-00000000000${id}`,
      appId: `a0000000-0000-4000-8000-00000000000${id}`,
      displayName: `app-${id}`,
      signInAudience: 'AzureADMyOrg' as const,
      passwordCredentials: [],
      federatedIdentityCredentials: [],
      owners,
    });
    tenant.applications.push(app('1', [ids.LIMITED_OID_A]), app('2', [ids.DEPLOYER_OID_A]));
    const owned = await graphAs(ids.TENANT_A, ['Application.ReadWrite.OwnedBy'], 'POST', '/servicePrincipals', {
      appId: 'a0000000-0000-4000-8000-000000000001',
    });
    assert.equal(owned.status, 201, JSON.stringify(owned.json));
    const notOwned = await graphAs(ids.TENANT_A, undefined, 'POST', '/servicePrincipals', { appId: 'a0000000-0000-4000-8000-000000000002' });
    assertGraphError(notOwned, 403, 'Authorization_RequestDenied', OWNED_BY_FOREIGN_APP);
  });

  const addPassword: Array<[string, string[], boolean, number]> = [
    ['no permission', [], false, 403],
    ['Application.Read.All', ['Application.Read.All'], false, 403],
    ['OwnedBy on an app it does not own', ['Application.ReadWrite.OwnedBy'], false, 403],
    ['OwnedBy on an app it owns', ['Application.ReadWrite.OwnedBy'], true, 200],
    ['Application.ReadWrite.All', ['Application.ReadWrite.All'], false, 200],
  ];
  for (const [label, roles, owner, status] of addPassword) {
    test(`addPassword on the cluster's app with ${label}: ${status}`, async () => {
      if (owner) emu.state.tenants[ids.TENANT_A]!.applications.find((a) => a.appId === ids.CLUSTER_SP_APP_ID)!.owners!.push(ids.LIMITED_OID_A);
      const r = await graphAs(ids.TENANT_A, roles, 'POST', `/applications(appId='${ids.CLUSTER_SP_APP_ID}')/addPassword`, { passwordCredential: {} });
      const stored = emu.state.tenants[ids.TENANT_A]!.applications.find((a) => a.appId === ids.CLUSTER_SP_APP_ID)!.passwordCredentials.length;
      if (status === 200) {
        assert.equal(r.status, 200);
        assert.equal(typeof r.json.secretText, 'string');
        assert.equal(stored, 3);
      } else {
        assertGraphError(r, 403, 'Authorization_RequestDenied', DENIED);
        assert.equal(stored, 2);
      }
    });
  }

  test('the deployer keeps what it needs: read and provision in both tenants, add a password in the home tenant', async () => {
    const t = (tenant: string) => accessToken(tenant, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, graphScope());
    assert.equal((await call(GRAPH(`/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID}')`), { headers: bearer(await t(ids.TENANT_A)) })).status, 200);
    assert.equal(
      (await call(GRAPH('/servicePrincipals'), { headers: bearer(await t(ids.TENANT_B)), json: { appId: ids.CLUSTER_SP_APP_ID } })).status,
      201,
    );
    const pw = await call(GRAPH(`/applications(appId='${ids.CLUSTER_SP_APP_ID}')/addPassword`), { headers: bearer(await t(ids.TENANT_A)), json: {} });
    assert.equal(pw.status, 200);
  });

  test('the test overrides (TenantState.can*) still deny where present', async () => {
    emu.state.tenants[ids.TENANT_B]!.canProvisionServicePrincipals = [];
    const t = await accessToken(ids.TENANT_B, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, graphScope());
    assertGraphError(
      await call(GRAPH('/servicePrincipals'), { headers: bearer(t), json: { appId: ids.CLUSTER_SP_APP_ID } }),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    assert.equal((await call(GRAPH(`/servicePrincipals(appId='${ids.DEPLOYER_APP_ID}')`), { headers: bearer(t) })).status, 200);
  });
});

// ---------------------------------------------------------------- Entra AADSTS

function assertion(claims: { iss?: string; sub?: string; aud?: string }): string {
  const now = Math.floor(Date.now() / 1000);
  return signer.sign({
    iss: claims.iss ?? ids.GITHUB_ISSUER,
    sub: claims.sub ?? ids.GITHUB_SUBJECT,
    aud: claims.aud ?? ids.OIDC_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 300,
  });
}

function federated(jwt: string): Promise<Reply> {
  return call(`/${ids.TENANT_A}/oauth2/v2.0/token`, {
    headers: { 'client-request-id': '0c000000-0000-4000-8000-000000000001' },
    form: {
      grant_type: 'client_credentials',
      client_id: ids.DEPLOYER_APP_ID,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      scope: ARM_SCOPE,
    },
  });
}

/** Entra's OAuth2 error body (entra/AADSTS.md): every field, and the description's trailer. */
function assertAadsts(r: Reply, status: number, error: string, code: number, text: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const b = r.json;
  assert.deepEqual(Object.keys(b).sort(), ['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
  assert.equal(b.error, error);
  assert.deepEqual(b.error_codes, [code]);
  assert.match(b.trace_id, GUID);
  assert.equal(b.correlation_id, '0c000000-0000-4000-8000-000000000001');
  assert.match(b.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.equal(b.error_uri, `${emu.url}/error?code=${code}`);
  assert.equal(b.error_description, `AADSTS${code}: ${text} Trace ID: ${b.trace_id} Correlation ID: ${b.correlation_id} Timestamp: ${b.timestamp}`);
}

const FIC_CHECK = 'Check your federated identity credential Subject, Audience and Issuer against the presented assertion.';
const FIC_PLEASE = 'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.';

describe("Entra's answers for federated-credential failures (entra/AADSTS.md)", () => {
  const wrongSub = 'repo:contoso/app:pull_request';
  const caseSub = 'repo:Contoso/App:ref:refs/heads/main';
  const cases: Array<{ name: string; claims: { iss?: string; sub?: string; aud?: string }; code: number; text: string }> = [
    {
      name: 'issuer',
      claims: { iss: 'https://token.example' },
      code: 700211,
      text: `No matching federated identity record found for presented assertion issuer 'https://token.example'. ${FIC_PLEASE}`,
    },
    {
      name: 'subject',
      claims: { sub: wrongSub },
      code: 700213,
      text: `No matching federated identity record found for presented assertion subject '${wrongSub}'. ${FIC_CHECK}`,
    },
    {
      name: 'subject, by letter case only',
      claims: { sub: caseSub },
      code: 7002138,
      text: `No matching federated identity record found for presented assertion subject '${caseSub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. ${FIC_CHECK} See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
    },
    {
      name: 'audience',
      claims: { aud: 'api://Other' },
      code: 700212,
      text: `No matching federated identity record found for presented assertion audience 'api://Other'. ${FIC_PLEASE}`,
    },
  ];
  for (const c of cases) {
    test(`a mismatched ${c.name}: AADSTS${c.code}, 401 invalid_client`, async () => {
      assertAadsts(await federated(assertion(c.claims)), 401, 'invalid_client', c.code, c.text);
    });
    test(`a mismatched ${c.name} with knobs.federatedErrors 'aadsts70021': AADSTS70021, 400 invalid_request`, async () => {
      emu.state.knobs = { federatedErrors: 'aadsts70021' };
      const a = { iss: ids.GITHUB_ISSUER, sub: ids.GITHUB_SUBJECT, aud: ids.OIDC_AUDIENCE, ...c.claims };
      assertAadsts(
        await federated(assertion(c.claims)),
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${a.iss}'. Assertion Subject: '${a.sub}'. Assertion Audience: '${a.aud}'.`,
      );
    });
  }

  test('a matching assertion signs in, in both modes', async () => {
    assert.equal((await federated(assertion({}))).status, 200);
    emu.state.knobs = { federatedErrors: 'aadsts70021' };
    assert.equal((await federated(assertion({}))).status, 200);
  });

  test('@azure/identity surfaces the code and the status', async () => {
    const cred = new ClientAssertionCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, async () => assertion({ sub: caseSub }), {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    await assert.rejects(cred.getToken(ARM_SCOPE), (e: any) => {
      assert.match(e.message, /AADSTS7002138/);
      assert.match(e.message, /invalid_client/);
      return true;
    });
  });
});

// ---------------------------------------------------------------- ACR data plane

const server = (name: string): string => `${name}.azurecr.localhost:${emu.port}`;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function exchange(registry: string, aad: string, tenant = ids.TENANT_A): Promise<Reply> {
  return call(`https://${server(registry)}/oauth2/exchange`, {
    form: { grant_type: 'access_token', service: server(registry), tenant, access_token: aad },
  });
}

function refreshToAccess(registry: string, refreshToken: string, scope: string): Promise<Reply> {
  return call(`https://${server(registry)}/oauth2/token`, {
    form: { grant_type: 'refresh_token', service: server(registry), scope, refresh_token: refreshToken },
  });
}

function setArmAudiencePolicy(registry: string, status: 'enabled' | 'disabled'): void {
  emu.state.resources[registryId(registry).toLowerCase()]!.properties.policies.azureADAuthenticationAsArmPolicy = { status };
}

describe('the ACR audience policy (azureADAuthenticationAsArmPolicy, acr-dataplane/AUDIENCES.md)', () => {
  test('Entra issues tokens for the ACR audience', async () => {
    const t = await accessToken(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, ACR_SCOPE);
    assert.equal(claimsOf(t).aud, 'https://containerregistry.azure.net');
  });

  const table: Array<['enabled' | 'disabled', 'ARM' | 'ACR', number]> = [
    ['enabled', 'ARM', 200],
    ['enabled', 'ACR', 200],
    ['disabled', 'ARM', 401],
    ['disabled', 'ACR', 200],
  ];
  for (const [policy, audience, status] of table) {
    test(`policy ${policy}, a token for the ${audience} audience: ${status}`, async () => {
      setArmAudiencePolicy('contosoacr', policy);
      const aad = await accessToken(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, audience === 'ARM' ? ARM_SCOPE : ACR_SCOPE);
      const r = await exchange('contosoacr', aad);
      assert.equal(r.status, status, JSON.stringify(r.json));
      if (status === 401) {
        assert.equal(r.json.errors[0].code, 'UNAUTHORIZED');
        assert.match(r.json.errors[0].message, /accepts only tokens for https:\/\/containerregistry\.azure\.net/);
      } else {
        const access = await refreshToAccess('contosoacr', r.json.refresh_token, 'repository:app/web:pull');
        assert.deepEqual(claimsOf(access.json.access_token).access, [{ type: 'repository', name: 'app/web', actions: ['pull'] }]);
      }
    });
  }

  test('ARM shows the policy on the registry at 2025-11-01', async () => {
    setArmAudiencePolicy('contosoacr', 'disabled');
    const r = await arm('GET', registryId('contosoacr'), { version: '2025-11-01' });
    assert.equal(r.json.properties.policies.azureADAuthenticationAsArmPolicy.status, 'disabled');
  });
});

describe('which roles grant pull, by registry mode', () => {
  const roles: Array<[string, string]> = [
    ['AcrPull', ROLES.acrPull],
    ['AcrPush', ROLES.acrPush],
    ['Owner', ROLES.owner],
    ['Contributor', ROLES.contributor],
    ['Reader', ROLES.reader],
    ['Container Registry Repository Reader', ROLES.repositoryReader],
    ['Container Registry Repository Writer', ROLES.repositoryWriter],
    ['Container Registry Repository Contributor', ROLES.repositoryContributor],
    ['User Access Administrator', ROLES.userAccessAdministrator],
  ];
  const pulls = {
    legacy: new Set<string>([ROLES.acrPull, ROLES.acrPush, ROLES.owner, ROLES.contributor, ROLES.reader]),
    abac: new Set<string>([ROLES.repositoryReader, ROLES.repositoryWriter, ROLES.repositoryContributor]),
  };

  test('the table the data plane uses is the documented one', () => {
    assert.deepEqual(new Set(PULL_ROLES.legacy), pulls.legacy);
    assert.deepEqual(new Set(PULL_ROLES.abac), pulls.abac);
  });

  for (const [mode, registry] of [
    ['legacy', 'contosoacr'],
    ['abac', 'abacacr'],
  ] as const) {
    for (const [name, guid] of roles) {
      const want = pulls[mode].has(guid);
      test(`${mode} registry, ${name}: ${want ? 'pulls' : 'no pull'}`, async () => {
        assert.equal((await assign(registryId(registry), '2b000000-0000-4000-8000-000000000001', guid, ids.LIMITED_OID_A)).status, 201);
        const r = await exchange(registry, await limitedArm());
        if (!want) {
          assert.equal(r.status, 401, JSON.stringify(r.json));
          return;
        }
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const access = await refreshToAccess(registry, r.json.refresh_token, 'repository:app/web:pull');
        assert.deepEqual(claimsOf(access.json.access_token).access, [{ type: 'repository', name: 'app/web', actions: ['pull'] }]);
      });
    }
  }

  test('on an ABAC registry a repository condition limits the pull', async () => {
    await assign(registryId('abacacr'), '2b000000-0000-4000-8000-000000000002', ROLES.repositoryReader, ids.LIMITED_OID_A, REPO_CONDITION('app/*'));
    const r = await exchange('abacacr', await limitedArm());
    assert.equal(r.status, 200);
    const inside = await refreshToAccess('abacacr', r.json.refresh_token, 'repository:app/web:pull');
    const outside = await refreshToAccess('abacacr', r.json.refresh_token, 'repository:other/web:pull');
    assert.equal(claimsOf(inside.json.access_token).access.length, 1);
    assert.deepEqual(claimsOf(outside.json.access_token).access, []);
  });
});

async function newTokenPassword(): Promise<{ username: string; password: string; tokenId: string }> {
  const reg = registryId('contosoacr');
  const map = await arm('PUT', `${reg}/scopeMaps/delay-map`, {
    version: '2025-11-01',
    body: { properties: { actions: ['repositories/app/web/content/read'] } },
  });
  const tokenId = `${reg}/tokens/delay-token`;
  await arm('PUT', tokenId, { version: '2025-11-01', body: { properties: { scopeMapId: map.json.id } } });
  emu.state.lroShapes = [{ pathPattern: 'generateCredentials', shape: 'sync' }];
  const gen = await arm('POST', `${reg}/generateCredentials`, { version: '2025-11-01', body: { tokenId, name: 'password1' } });
  assert.equal(gen.status, 200, JSON.stringify(gen.json));
  return { username: gen.json.username, password: gen.json.passwords[0].value, tokenId };
}

const tokenLogin = (user: string, password: string, scope = 'repository:app/web:pull'): Promise<Reply> =>
  call(`https://${server('contosoacr')}/oauth2/token?service=${server('contosoacr')}&scope=${encodeURIComponent(scope)}`, {
    headers: { authorization: basic(user, password) },
  });

describe('a new token password works only after knobs.acrPasswordDelayMs', () => {
  test('default 0: it works at once', async () => {
    const { username, password } = await newTokenPassword();
    assert.equal((await tokenLogin(username, password)).status, 200);
  });

  test('with a delay: 401 until the delay has passed since its creation, then it works', async () => {
    emu.state.knobs = { acrPasswordDelayMs: 60_000 };
    const { username, password, tokenId } = await newTokenPassword();
    const early = await tokenLogin(username, password);
    assert.equal(early.status, 401);
    assert.equal(early.json.errors[0].code, 'UNAUTHORIZED');
    const secret = emu.state.registrySecrets.tokenPasswords[tokenId.toLowerCase()]!.password1!;
    secret.created = new Date(Date.now() - 61_000).toISOString();
    assert.equal((await tokenLogin(username, password)).status, 200);
  });
});

describe("the data plane's /oauth2/token scope (required by its spec)", () => {
  test('default seed: a request without scope is 400 (knobs.acrTokenScopeRequired); with the knob off it gets a token without access', async () => {
    assert.equal(emu.state.knobs?.acrTokenScopeRequired, true, 'on in the default seed');
    const { username, password } = await newTokenPassword();
    const url = `https://${server('contosoacr')}/oauth2/token?service=${server('contosoacr')}`;
    const strict = await call(url, { headers: { authorization: basic(username, password) } });
    assert.equal(strict.status, 400);
    assert.equal(strict.json.errors[0].code, 'BAD_REQUEST');
    assert.equal((await tokenLogin(username, password)).status, 200);
    emu.state.knobs = { acrTokenScopeRequired: false };
    const lenient = await call(url, { headers: { authorization: basic(username, password) } });
    assert.equal(lenient.status, 200);
    assert.deepEqual(claimsOf(lenient.json.access_token).access, []);
  });
});

// ---------------------------------------------------------------- cross-tenant

describe('cross-tenant rules', () => {
  test("a kubelet managed identity cannot be granted on another tenant's registry: 400 PrincipalNotFound, principalType or not", async () => {
    const r = await assign(
      registryId('tenantbacr', ids.SUB_B, 'rg-b'),
      '3c000000-0000-4000-8000-000000000001',
      ROLES.acrPull,
      ids.KUBELET_OID,
      undefined,
      await deployerArm(ids.TENANT_B),
    );
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, {
      error: {
        code: 'PrincipalNotFound',
        message: `Principal ${ids.KUBELET_OID.replace(/-/g, '')} does not exist in the directory ${ids.TENANT_B}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
      },
    });
  });

  test('nor can its service principal be made in another tenant: it has no application (Graph 400)', async () => {
    const t = await accessToken(ids.TENANT_B, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, graphScope());
    const r = await call(GRAPH('/servicePrincipals'), { headers: bearer(t), json: { appId: ids.KUBELET_CLIENT_ID } });
    assertGraphError(
      r,
      400,
      'Request_BadRequest',
      `The appId '${ids.KUBELET_CLIENT_ID}' of the service principal does not reference a valid application object.`,
    );
  });

  test('a token of tenant A on a subscription of tenant B: 401 InvalidAuthenticationTokenTenant naming tenant B', async () => {
    const r = await arm('GET', registryId('tenantbacr', ids.SUB_B, 'rg-b'), { version: '2025-11-01' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'InvalidAuthenticationTokenTenant');
    assert.equal(
      r.json.error.message,
      `The access token is from the wrong issuer '${emu.url}/${ids.TENANT_A}/v2.0'. It must match the tenant '${emu.url}/${ids.TENANT_B}/v2.0' associated with this subscription. Please use the authority (URL) '${emu.url}/${ids.TENANT_B}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
    );
    const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    const client = new ContainerRegistryManagementClient(cred, ids.SUB_B, { endpoint: emu.url, credentials: { scopes: [ARM_SCOPE] } });
    await assert.rejects(
      client.registries.get('rg-b', 'tenantbacr'),
      (e: any) => e.statusCode === 401 && e.code === 'InvalidAuthenticationTokenTenant',
    );
  });
});

// ---------------------------------------------------------------- api-versions, request and response validation

describe('api-versions the held specs do not define are refused as ARM refuses them', () => {
  const cases: Array<[string, string, string, string]> = [
    ['registries', registryId('contosoacr'), 'registries', '2025-11-01, 2025-04-01'],
    ['token', `${registryId('contosoacr')}/tokens/nope`, 'registries/tokens', '2025-11-01, 2025-04-01'],
    [
      'managed clusters',
      `/subscriptions/${ids.SUB_1}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-sp`,
      'managedClusters',
      '2026-04-01, 2026-02-01',
    ],
    ['role assignments', `${registryId('contosoacr')}/providers/Microsoft.Authorization/roleAssignments`, 'roleAssignments', '2022-04-01'],
  ];
  for (const [label, path, type, supported] of cases) {
    test(`${label}: 400 NoRegisteredProviderFound listing ${supported}`, async () => {
      const r = await arm('GET', path, { version: '2019-05-01' });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'NoRegisteredProviderFound');
      assert.match(
        r.json.error.message,
        new RegExp(
          `^No registered resource provider found for location '[a-z]+' and API version '2019-05-01' for type '${type}'\\. The supported api-versions are '${supported}'\\. The supported locations are '[a-z, ]*'\\.$`,
        ),
      );
      assert.ok(r.headers.get('x-ms-request-id'));
    });
  }

  test('ARM itself (subscriptions, resource groups) is not checked: no spec of Microsoft.Resources is held', async () => {
    assert.equal((await arm('GET', `/subscriptions/${ids.SUB_1}/resourceGroups/rg-acr`, { version: '1' })).status, 200);
  });

  test('an SDK pinned to another api-version gets the RestError', async () => {
    const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    const client = new ContainerRegistryManagementClient(cred, ids.SUB_1, {
      endpoint: emu.url,
      credentials: { scopes: [ARM_SCOPE] },
      apiVersion: '2023-07-01',
    });
    await assert.rejects(client.registries.get('rg-acr', 'contosoacr'), (e: any) => e.statusCode === 400 && e.code === 'NoRegisteredProviderFound');
    const ok = new ContainerRegistryManagementClient(cred, ids.SUB_1, { endpoint: emu.url, credentials: { scopes: [ARM_SCOPE] } });
    assert.equal((await ok.registries.get('rg-acr', 'contosoacr')).name, 'contosoacr');
  });
});

describe('request bodies are validated against the operation at the api-version called', () => {
  const reg = registryId('contosoacr');
  const cases: Array<[string, string, string, unknown, RegExp]> = [
    [
      'a role assignment with an unknown property',
      'PUT',
      assignmentPath(reg, '4d000000-0000-4000-8000-000000000001'),
      { properties: { roleDefinitionId: roleId(ids.SUB_1, ROLES.acrPull), principalId: ids.KUBELET_OID, scopeX: 'y' } },
      /additional properties 'scopeX'/,
    ],
    [
      'a role assignment with an unknown principalType',
      'PUT',
      assignmentPath(reg, '4d000000-0000-4000-8000-000000000001'),
      { properties: { roleDefinitionId: roleId(ids.SUB_1, ROLES.acrPull), principalId: ids.KUBELET_OID, principalType: 'Robot' } },
      /principalType/,
    ],
    [
      'a token with an unknown status',
      'PUT',
      `${reg}/tokens/bad-token`,
      { properties: { scopeMapId: `${reg}/scopeMaps/_repositories_pull`, status: 'paused' } },
      /status/,
    ],
    ['generateCredentials without a body', 'POST', `${reg}/generateCredentials`, undefined, /the request body is required/],
    [
      'a reset whose secret is a number',
      'POST',
      `/subscriptions/${ids.SUB_1}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-sp/resetServicePrincipalProfile`,
      { clientId: ids.CLUSTER_SP_APP_ID, secret: 42 },
      /secret/,
    ],
  ];
  for (const [label, method, path, body, problem] of cases) {
    test(`${label}: 400 InvalidRequestContent`, async () => {
      const version = path.includes('ContainerService') ? '2026-04-01' : path.includes('Authorization') ? '2022-04-01' : '2025-11-01';
      const r = await arm(method, path, { version, body });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.error.code, 'InvalidRequestContent');
      assert.match(r.json.error.message, /^The request content was invalid and could not be deserialized: /);
      assert.match(r.json.error.message, problem);
      assert.equal(Object.keys(emu.state.roleAssignments).length, 0);
    });
  }
});

describe("the emulator's own answers are validated: a violation is a loud 500", () => {
  for (const version of ['2025-04-01', '2025-11-01']) {
    test(`a registry holding a field the spec (${version}) lacks: 500 EmulatorSpecViolation, recorded`, async () => {
      emu.state.resources[registryId('contosoacr').toLowerCase()]!.properties.emulatorOnly = true;
      const mark = specViolations.length;
      const r = await arm('GET', registryId('contosoacr'), { version });
      assert.equal(r.status, 500);
      assert.equal(r.json.error.code, 'EmulatorSpecViolation');
      assert.match(r.json.error.message, /additional properties 'emulatorOnly'/);
      assert.equal(specViolations.length, mark + 1);
      assert.equal(specViolations.at(-1)!.apiVersion, version);
    });
  }
});
