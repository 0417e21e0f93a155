// src/azure/graph.ts: the Graph client over a fake HttpClient (URLs, tenants, error mapping,
// masking) and its pure helpers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import type { HttpClient, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { appIdKey, createGraphClient, graphErrorInfo } from '../src/azure/graph.ts';
import { createClientSecret, describeSecrets, newestFirst } from '../src/scenarios/steps/client-secret.ts';
import { adminConsentUrl } from '../src/scenarios/steps/tenant-principal.ts';
import type { AzureSession } from '../src/azure/types.ts';
import { ApiError } from '../src/errors.ts';
import type { Cloud } from '../src/settings.ts';

const CLOUD: Cloud = {
  name: 'Test',
  resourceManager: 'https://arm.example',
  armAudience: 'https://arm.example/',
  authorityHost: 'https://login.example',
  graph: 'https://graph.example/',
  acrSuffix: '.azurecr.io',
  acrAudience: 'https://containerregistry.azure.net',
  custom: true,
};

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

function fake(routes: (req: Seen) => { status: number; body?: unknown }) {
  const seen: Seen[] = [];
  const tokens: Array<[string, string | undefined]> = [];
  const http: HttpClient = {
    async sendRequest(req: PipelineRequest): Promise<PipelineResponse> {
      const s: Seen = {
        method: req.method,
        url: req.url,
        auth: req.headers.get('authorization'),
        body: req.body ? JSON.parse(String(req.body)) : undefined,
      };
      seen.push(s);
      const r = routes(s);
      return {
        request: req,
        status: r.status,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        bodyAsText: r.body === undefined ? '' : JSON.stringify(r.body),
      };
    },
  };
  const session: AzureSession = {
    cloud: CLOUD,
    tenantId: 'tenant-a',
    credential: { getToken: async () => null },
    async token(scope, tenant) {
      tokens.push([scope, tenant]);
      return `tok-${tenant ?? 'login'}`;
    },
    trace: () => {},
  };
  const masked: string[] = [];
  const graph = createGraphClient(session, { mask: (v) => masked.push(v), httpClient: http });
  return { graph, seen, tokens, masked };
}

describe('Graph client', () => {
  test('gets a service principal by appId with a token for the named tenant', async () => {
    const f = fake(() => ({ status: 200, body: { id: 'sp-1', appId: 'app-1', appOwnerOrganizationId: 'tenant-a', displayName: 'x' } }));
    const sp = await f.graph.servicePrincipal('app-1', 'tenant-b');
    assert.deepEqual(sp, { id: 'sp-1', appId: 'app-1', appOwnerOrganizationId: 'tenant-a', displayName: 'x', servicePrincipalType: undefined });
    assert.equal(f.seen[0].method, 'GET');
    assert.match(f.seen[0].url, /^https:\/\/graph\.example\/v1\.0\/servicePrincipals\(appId='app-1'\)\?/);
    assert.equal(f.seen[0].auth, 'Bearer tok-tenant-b');
    assert.deepEqual(f.tokens, [['https://graph.example/.default', 'tenant-b']]);
  });

  test('404 is "not there", not an error', async () => {
    const f = fake(() => ({ status: 404, body: { error: { code: 'Request_ResourceNotFound', message: 'nope' } } }));
    assert.equal(await f.graph.servicePrincipal('app-1', 'tenant-b'), undefined);
    assert.equal(await f.graph.application('app-1'), undefined);
  });

  test('403 on provisioning is an ApiError naming Graph, the operation, the tenant and the code', async () => {
    const f = fake(() => ({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } },
    }));
    await assert.rejects(f.graph.provisionServicePrincipal('app-1', 'tenant-b'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.service, 'Microsoft Graph');
      assert.equal(e.status, 403);
      assert.equal(e.code, 'Authorization_RequestDenied');
      assert.match(
        e.message,
        /create service principal of app app-1 \(tenant tenant-b\) failed \(HTTP 403 Authorization_RequestDenied\): Insufficient privileges/,
      );
      return true;
    });
    assert.deepEqual(f.seen[0].body, { appId: 'app-1' });
    assert.equal(f.seen[0].method, 'POST');
  });

  test('409 on provisioning (created concurrently) reads the principal back', async () => {
    const f = fake((r) =>
      r.method === 'POST'
        ? { status: 409, body: { error: { code: 'Request_MultipleObjectsWithSameKeyValue', message: 'in use' } } }
        : { status: 200, body: { id: 'sp-9', appId: 'app-1' } },
    );
    const sp = await f.graph.provisionServicePrincipal('app-1', 'tenant-b');
    assert.equal(sp.id, 'sp-9');
  });

  test('application returns passwordCredentials', async () => {
    const f = fake(() => ({
      status: 200,
      body: {
        id: 'o',
        appId: 'app-1',
        passwordCredentials: [
          { keyId: 'k1', endDateTime: '2030-01-01T00:00:00Z', startDateTime: '2024-01-01T00:00:00Z', hint: 'abc', displayName: 'd' },
        ],
      },
    }));
    const app = await f.graph.application('app-1', 'tenant-a');
    assert.equal(app?.passwordCredentials.length, 1);
    assert.equal(app?.passwordCredentials[0].keyId, 'k1');
    assert.match(f.seen[0].url, /\/applications\(appId='app-1'\)\?\$select=.*passwordCredentials/);
  });

  test('addPassword masks the secret before returning it', async () => {
    const f = fake(() => ({
      status: 200,
      body: { keyId: 'k2', secretText: 's3cr3t-value', startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2025-04-01T00:00:00Z' },
    }));
    const s = await f.graph.addPassword('app-1', { displayName: 'n', endDateTime: '2025-04-01T00:00:00Z' }, 'tenant-a');
    assert.equal(s.secretText, 's3cr3t-value');
    assert.deepEqual(f.masked, ['s3cr3t-value']);
    assert.deepEqual(f.seen[0].body, { passwordCredential: { displayName: 'n', endDateTime: '2025-04-01T00:00:00Z' } });
    assert.match(f.seen[0].url, /\/applications\(appId='app-1'\)\/addPassword$/);
  });

  test("createClientSecret adds the secret in the app's home tenant with the given lifetime", async () => {
    const f = fake((r) =>
      r.method === 'GET'
        ? { status: 200, body: { id: 'sp-b', appId: 'app-1', appOwnerOrganizationId: 'tenant-home' } }
        : { status: 200, body: { keyId: 'k3', secretText: 'v', endDateTime: (r.body as any).passwordCredential.endDateTime } },
    );
    const now = new Date('2025-01-01T00:00:00Z');
    const s = await createClientSecret(f.graph, { appId: 'app-1', tenantId: 'tenant-b', lifetimeMs: 90 * 86400e3, now });
    assert.equal(s.tenantId, 'tenant-home');
    assert.equal(s.endDateTime, '2025-04-01T00:00:00.000Z');
    assert.deepEqual(
      f.tokens.map((t) => t[1]),
      ['tenant-b', 'tenant-home'],
    );
  });
});

describe('Graph helpers', () => {
  test('appIdKey quotes and escapes', () => {
    assert.equal(appIdKey("a'b c"), "'a''b%20c'");
  });

  test('graphErrorInfo reads Graph error bodies and tolerates others', () => {
    assert.deepEqual(graphErrorInfo(403, JSON.stringify({ error: { code: 'X', message: 'line1\n line2' } })), {
      status: 403,
      code: 'X',
      message: 'line1 line2',
    });
    assert.deepEqual(graphErrorInfo(502, '<html>'), { status: 502, code: undefined, message: 'HTTP 502' });
  });

  test('adminConsentUrl uses the authority host', () => {
    assert.equal(
      adminConsentUrl('https://login.microsoftonline.us/', 'tid', 'app'),
      'https://login.microsoftonline.us/tid/adminconsent?client_id=app',
    );
  });

  test('newestFirst and describeSecrets', () => {
    const creds = [
      { keyId: 'old', displayName: 'old', startDateTime: '2022-01-01T00:00:00Z', endDateTime: '2023-01-01T00:00:00Z' },
      { keyId: 'new', displayName: 'new', startDateTime: '2024-01-01T00:00:00Z', endDateTime: '2099-01-01T00:00:00Z' },
    ];
    assert.deepEqual(
      newestFirst(creds).map((c) => c.keyId),
      ['new', 'old'],
    );
    const now = new Date('2025-01-01T00:00:00Z');
    assert.equal(
      describeSecrets(creds, now, 'x'),
      "2 other client secrets remain (left alone): 'new' expires 2099-01-01T00:00:00Z; 'old' expired 2023-01-01T00:00:00Z",
    );
    assert.equal(describeSecrets(creds, now, 'new'), "1 other client secret remains (left alone): 'old' expired 2023-01-01T00:00:00Z");
    assert.equal(describeSecrets([], now), 'no client secrets remain');
  });
});
