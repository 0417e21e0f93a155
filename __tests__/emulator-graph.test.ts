// The emulator's Microsoft Graph: service principals (get, filter, provision cross-tenant) and
// applications (home tenant only, addPassword), with real tokens from the emulator's token endpoint.
// CA trust: tls.setDefaultCACertificates() adds the emulator's CA to this process (see emulator-core.test.ts).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { ClientSecretCredential } from '@azure/identity';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';

let emu: Emulator;
const tokens = new Map<string, string>();

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
});
after(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

/** A token from the emulator's token endpoint (client secret), cached per caller, tenant and scope. */
async function token(tenant: string, appId: string, secret: string, scope = `${emu.url}/graph/.default`): Promise<string> {
  const key = `${tenant}|${appId}|${scope}`;
  const cached = tokens.get(key);
  if (cached) return cached;
  const r = await fetch(`${emu.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope }),
  });
  const body = (await r.json()) as { access_token?: string };
  assert.equal(r.status, 200, JSON.stringify(body));
  tokens.set(key, body.access_token!);
  return body.access_token!;
}
const deployer = (tenant: string): Promise<string> => token(tenant, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET);
const limited = (tenant: string): Promise<string> => token(tenant, ids.LIMITED_APP_ID, ids.LIMITED_SECRET);

async function graph(
  method: string,
  path: string,
  bearer: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { 'client-request-id': 'test-client-request-id' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${emu.url}/graph/v1.0${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

function assertGraphError(res: { status: number; body: any }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
  assert.equal(res.body.error.innerError['client-request-id'], 'test-client-request-id');
  assert.match(res.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
  assert.match(res.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
}

describe('authentication', () => {
  test('no token, or a token for another audience, is refused with InvalidAuthenticationToken', async () => {
    assertGraphError(await graph('GET', '/servicePrincipals', undefined), 401, 'InvalidAuthenticationToken');
    const arm = await token(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, 'https://management.core.windows.net//.default');
    const res = await graph('GET', '/servicePrincipals', arm);
    assertGraphError(res, 401, 'InvalidAuthenticationToken');
    assert.match(res.body.error.message, /audience/i);
    assertGraphError(await graph('GET', '/servicePrincipals', 'not-a-jwt'), 401, 'InvalidAuthenticationToken');
  });

  test('a token for url/graph/ (trailing slash) is accepted too', async () => {
    const t = await token(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, `${emu.url}/graph//.default`);
    const res = await graph('GET', `/servicePrincipals(appId='${ids.DEPLOYER_APP_ID}')`, t);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-ms-request-id'));
    assert.equal(res.headers.get('client-request-id'), 'test-client-request-id');
  });
});

describe('service principals', () => {
  test('GET by appId alternate key, by id, and by $filter, in the token tenant', async () => {
    const t = await deployer(ids.TENANT_A);
    const byAppId = await graph('GET', `/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID}')`, t);
    assert.equal(byAppId.status, 200);
    assert.equal(byAppId.body['@odata.context'], `${emu.url}/graph/v1.0/$metadata#servicePrincipals/$entity`);
    assert.equal(byAppId.body.id, ids.CLUSTER_SP_OID_A);
    assert.equal(byAppId.body.appId, ids.CLUSTER_SP_APP_ID);
    assert.equal(byAppId.body.appOwnerOrganizationId, ids.TENANT_A);
    assert.equal(byAppId.body.servicePrincipalType, 'Application');

    const byId = await graph('GET', `/servicePrincipals/${ids.KUBELET_OID}`, t);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.servicePrincipalType, 'ManagedIdentity');

    const list = await graph('GET', `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${ids.CLUSTER_SP_APP_ID}'`)}`, t);
    assert.equal(list.status, 200);
    assert.equal(list.body['@odata.context'], `${emu.url}/graph/v1.0/$metadata#servicePrincipals`);
    assert.deepEqual(
      list.body.value.map((s: { id: string }) => s.id),
      [ids.CLUSTER_SP_OID_A],
    );

    const sel = await graph('GET', `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${ids.DEPLOYER_APP_ID}'`)}&$select=id,appId`, t);
    assert.deepEqual(sel.body.value, [{ id: ids.DEPLOYER_OID_A, appId: ids.DEPLOYER_APP_ID }]);
  });

  test('the cluster SP is absent in tenant B: 404 Request_ResourceNotFound and an empty filter result', async () => {
    const t = await deployer(ids.TENANT_B);
    assertGraphError(await graph('GET', `/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID}')`, t), 404, 'Request_ResourceNotFound');
    const list = await graph('GET', `/servicePrincipals?$filter=appId eq '${ids.CLUSTER_SP_APP_ID}'`, t);
    assert.deepEqual(list.body.value, []);
    const b = await graph('GET', `/servicePrincipals(appId='${ids.DEPLOYER_APP_ID}')`, t);
    assert.equal(b.body.id, ids.DEPLOYER_OID_B, 'each tenant has its own object id');
  });

  test('provisioning across tenants: 403 for a caller without rights, 201 for the deployer, then 409', async () => {
    assertGraphError(
      await graph('POST', '/servicePrincipals', await limited(ids.TENANT_B), { appId: ids.CLUSTER_SP_APP_ID }),
      403,
      'Authorization_RequestDenied',
    );
    assert.ok(!emu.state.tenants[ids.TENANT_B]!.servicePrincipals.some((s) => s.appId === ids.CLUSTER_SP_APP_ID));

    const t = await deployer(ids.TENANT_B);
    const created = await graph('POST', '/servicePrincipals', t, { appId: ids.CLUSTER_SP_APP_ID });
    assert.equal(created.status, 201);
    assert.equal(created.body.appId, ids.CLUSTER_SP_APP_ID);
    assert.equal(created.body.appOwnerOrganizationId, ids.TENANT_A);
    assert.notEqual(created.body.id, ids.CLUSTER_SP_OID_A);
    assert.match(created.headers.get('location') ?? '', new RegExp(created.body.id));

    const got = await graph('GET', `/servicePrincipals(appId='${ids.CLUSTER_SP_APP_ID}')`, t);
    assert.equal(got.body.id, created.body.id);
    assertGraphError(await graph('POST', '/servicePrincipals', t, { appId: ids.CLUSTER_SP_APP_ID }), 409, 'Request_MultipleObjectsWithSameKeyValue');

    // the cluster SP can now sign in to tenant B (it could not before: AADSTS700016)
    const cred = new ClientSecretCredential(ids.TENANT_B, ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    const armToken = await cred.getToken('https://management.core.windows.net//.default');
    const claims = JSON.parse(Buffer.from(armToken.token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.oid, created.body.id);
    assert.equal(claims.tid, ids.TENANT_B);
  });

  test('provisioning an unknown or single-tenant app from another tenant: 400', async () => {
    const t = await deployer(ids.TENANT_B);
    assertGraphError(await graph('POST', '/servicePrincipals', t, { appId: '99999999-0000-4000-8000-000000000001' }), 400, 'Request_BadRequest');
    emu.state.tenants[ids.TENANT_A]!.applications.push({
      id: '99999999-0000-4000-8000-000000000002',
      appId: '99999999-0000-4000-8000-000000000003',
      displayName: 'single-tenant',
      signInAudience: 'AzureADMyOrg',
      passwordCredentials: [],
      federatedIdentityCredentials: [],
    });
    const res = await graph('POST', '/servicePrincipals', t, { appId: '99999999-0000-4000-8000-000000000003' });
    assertGraphError(res, 400, 'Request_BadRequest');
    assert.equal(emu.state.tenants[ids.TENANT_B]!.servicePrincipals.length, 2);
  });
});

describe('applications', () => {
  test('GET in the home tenant lists password credentials without secretText', async () => {
    const t = await deployer(ids.TENANT_A);
    for (const path of [`/applications(appId='${ids.CLUSTER_SP_APP_ID}')`, `/applications/${ids.CLUSTER_SP_APP_OBJECT_ID}`]) {
      const res = await graph('GET', path, t);
      assert.equal(res.status, 200);
      assert.equal(res.body['@odata.context'], `${emu.url}/graph/v1.0/$metadata#applications/$entity`);
      assert.equal(res.body.id, ids.CLUSTER_SP_APP_OBJECT_ID);
      assert.equal(res.body.signInAudience, 'AzureADMultipleOrgs');
      assert.deepEqual(
        res.body.passwordCredentials.map((p: Record<string, unknown>) => [p.keyId, p.hint, p.secretText]),
        [
          [ids.CLUSTER_SP_EXPIRED_KEY_ID, 'old', null],
          [ids.CLUSTER_SP_VALID_KEY_ID, 'clu', null],
        ],
      );
      assert.ok(!JSON.stringify(res.body).includes(ids.CLUSTER_SP_SECRET));
    }
  });

  test('applications are visible only in their home tenant; a caller with Application.Read.All reads them', async () => {
    assertGraphError(
      await graph('GET', `/applications(appId='${ids.CLUSTER_SP_APP_ID}')`, await deployer(ids.TENANT_B)),
      404,
      'Request_ResourceNotFound',
    );
    const read = await graph('GET', `/applications(appId='${ids.CLUSTER_SP_APP_ID}')`, await limited(ids.TENANT_A));
    assert.equal(read.status, 200);
    assert.equal(read.body.appId, ids.CLUSTER_SP_APP_ID);
  });

  test('addPassword returns the secret once, stores it, and the new secret signs in', async () => {
    const t = await deployer(ids.TENANT_A);
    const end = new Date(Date.now() + 90 * 86400_000).toISOString();
    const res = await graph('POST', `/applications(appId='${ids.CLUSTER_SP_APP_ID}')/addPassword`, t, {
      passwordCredential: { displayName: 'acr-kube-auth', endDateTime: end },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body['@odata.context'], `${emu.url}/graph/v1.0/$metadata#microsoft.graph.passwordCredential`);
    assert.equal(res.body.displayName, 'acr-kube-auth');
    assert.equal(res.body.endDateTime, end);
    assert.equal(typeof res.body.secretText, 'string');
    assert.equal(res.body.secretText.length, 40);
    assert.equal(res.body.hint, res.body.secretText.slice(0, 3));
    assert.match(res.body.keyId, /^[0-9a-f-]{36}$/);

    const app = await graph('GET', `/applications/${ids.CLUSTER_SP_APP_OBJECT_ID}`, t);
    const stored = app.body.passwordCredentials.find((p: { keyId: string }) => p.keyId === res.body.keyId);
    assert.deepEqual([stored.hint, stored.secretText, stored.displayName], [res.body.hint, null, 'acr-kube-auth']);

    const cred = new ClientSecretCredential(ids.TENANT_A, ids.CLUSTER_SP_APP_ID, res.body.secretText, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    const at = await cred.getToken('https://management.core.windows.net//.default');
    assert.equal(JSON.parse(Buffer.from(at.token.split('.')[1]!, 'base64url').toString()).oid, ids.CLUSTER_SP_OID_A);

    // by object id too, with the default lifetime; removePassword deletes a credential
    const byId = await graph('POST', `/applications/${ids.CLUSTER_SP_APP_OBJECT_ID}/addPassword`, t, {});
    assert.equal(byId.status, 200);
    assert.ok(Date.parse(byId.body.endDateTime) > Date.now() + 365 * 86400_000);
    const removed = await graph('POST', `/applications/${ids.CLUSTER_SP_APP_OBJECT_ID}/removePassword`, t, { keyId: byId.body.keyId });
    assert.equal(removed.status, 204);
    assert.equal(emu.state.tenants[ids.TENANT_A]!.applications.find((a) => a.appId === ids.CLUSTER_SP_APP_ID)!.passwordCredentials.length, 3);
  });

  test('addPassword outside the home tenant is 404, without rights 403, and nothing is stored', async () => {
    const path = `/applications(appId='${ids.CLUSTER_SP_APP_ID}')/addPassword`;
    assertGraphError(await graph('POST', path, await deployer(ids.TENANT_B), { passwordCredential: {} }), 404, 'Request_ResourceNotFound');
    assertGraphError(await graph('POST', path, await limited(ids.TENANT_A), { passwordCredential: {} }), 403, 'Authorization_RequestDenied');
    assert.equal(emu.state.tenants[ids.TENANT_A]!.applications.find((a) => a.appId === ids.CLUSTER_SP_APP_ID)!.passwordCredentials.length, 2);
  });
});
