// The ACR data plane (emulator/acr.ts): /oauth2/exchange, /oauth2/token and the registry API's
// authentication for every credential kind, plus emulator/resolve-hook.mjs.
//
// CA trust: tls.setDefaultCACertificates() (see emulator-core.test.ts). Name resolution of
// *.azurecr.localhost: this process imports emulator/resolve-hook.mjs; one test checks the hook as
// a real `node --import` preload in a child process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';
import { namespaceOf, supportedApiVersions } from '../emulator/arm/swagger.ts';

const HOOK = join(import.meta.dirname, '..', 'emulator', 'resolve-hook.mjs');
const ARM_SCOPE = 'https://management.core.windows.net//.default';
const ACR_PULL = '7f951dda-4ed3-4680-a7ca-43fe172d538d';
const REPO_READER = 'b93aa761-3e63-49ed-ac28-beffa264f7ac';
const NULL_GUID = '00000000-0000-0000-0000-000000000000';

let emu: Emulator;
let deployerA: TokenCredential;

const registryId = (name: string, sub = ids.SUB_1, rg = 'rg-acr'): string =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;
const server = (name: string): string => `${name}.azurecr.localhost:${emu.port}`;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string | string[]>; json?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.form) {
    const f = new URLSearchParams();
    for (const [k, v] of Object.entries(init.form)) for (const x of Array.isArray(v) ? v : [v]) f.append(k, x);
    body = f.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] = 'application/json';
  }
  const r = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}

/** GET /oauth2/token with Basic credentials (Token-BasicAuth.md). */
function basicToken(registry: string, user: string, password: string, scope: string | string[]): Promise<Reply> {
  const q = new URLSearchParams({ service: server(registry) });
  for (const s of Array.isArray(scope) ? scope : [scope]) q.append('scope', s);
  return call(`https://${server(registry)}/oauth2/token?${q}`, { headers: { authorization: basic(user, password) } });
}

const v2 = (registry: string, path: string, authorization?: string): Promise<Reply> =>
  call(`https://${server(registry)}/v2/${path}`, { headers: authorization ? { authorization } : {} });

async function armToken(cred: TokenCredential = deployerA): Promise<string> {
  return (await cred.getToken(ARM_SCOPE))!.token;
}

/** ARM call as the deployer; follows a 202's Location until it answers 200. */
async function arm(method: string, path: string, json?: unknown): Promise<Reply> {
  const authorization = `Bearer ${await armToken()}`;
  const version = supportedApiVersions(namespaceOf(path) ?? '')?.[0] ?? '2022-12-01';
  let r = await call(`${emu.url}${path}${path.includes('?') ? '&' : '?'}api-version=${version}`, { method, headers: { authorization }, json });
  const location = r.headers.get('location');
  if (r.status === 202 && location) {
    for (let i = 0; i < 10 && r.status === 202; i += 1) r = await call(location, { headers: { authorization } });
  }
  return r;
}

async function assign(scope: string, roleGuid: string, principalId: string, condition?: string): Promise<string> {
  const name = crypto.randomUUID();
  const sub = scope.split('/')[2];
  const r = await arm('PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, {
    properties: {
      roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId,
      principalType: 'ServicePrincipal',
      ...(condition ? { condition, conditionVersion: '2.0' } : {}),
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
}

function assertUnauthorized(r: Reply): void {
  assert.equal(r.status, 401, JSON.stringify(r.json));
  assert.equal(r.json.errors[0].code, 'UNAUTHORIZED');
}

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
  await import(pathToFileURL(HOOK).href);
  deployerA = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, {
    authorityHost: emu.url,
    disableInstanceDiscovery: true,
  });
});
after(async () => {
  await emu?.close();
});

describe('GET /v2/ challenge', () => {
  test('answers 401 with the Bearer challenge naming the realm and service', async () => {
    const r = await v2('contosoacr', '');
    assertUnauthorized(r);
    assert.equal(r.headers.get('www-authenticate'), `Bearer realm="https://${server('contosoacr')}/oauth2/token",service="${server('contosoacr')}"`);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  test('an unknown registry host is 404; a forged bearer is 401', async () => {
    const r = await v2('nosuchacr', '');
    assert.equal(r.status, 404);
    assertUnauthorized(await v2('contosoacr', '', `Bearer ${await armToken()}`));
  });
});

describe('admin user', () => {
  test('password and password2 give access tokens; wrong passwords, other registries and disabled admin do not', async () => {
    const admin = emu.state.registrySecrets.admin[registryId('adminacr').toLowerCase()];
    assert.ok(admin);
    for (const pw of [admin.password, admin.password2]) {
      const t = await basicToken('adminacr', admin.username, pw, 'repository:app/web:pull,push');
      assert.equal(t.status, 200);
      const claims = claimsOf(t.json.access_token);
      assert.equal(claims.iss, 'Azure Container Registry');
      assert.deepEqual(claims.access, [{ type: 'repository', name: 'app/web', actions: ['pull', 'push'] }]);
      assert.equal((await v2('adminacr', '', `Bearer ${t.json.access_token}`)).status, 200);
      const manifest = await v2('adminacr', 'app/web/manifests/v1', `Bearer ${t.json.access_token}`);
      assert.equal(manifest.status, 404);
      assert.equal(manifest.json.errors[0].code, 'NAME_UNKNOWN');
    }
    assert.equal((await v2('adminacr', '', basic(admin.username, admin.password))).status, 200);
    assertUnauthorized(await basicToken('adminacr', admin.username, 'wrong', 'repository:app/web:pull'));
    assertUnauthorized(await basicToken('contosoacr', admin.username, admin.password, 'repository:app/web:pull'));
    emu.state.resources[registryId('adminacr').toLowerCase()].properties.adminUserEnabled = false;
    try {
      assertUnauthorized(await basicToken('adminacr', admin.username, admin.password, 'repository:app/web:pull'));
    } finally {
      emu.state.resources[registryId('adminacr').toLowerCase()].properties.adminUserEnabled = true;
    }
  });
});

describe('ACR token + scope map', () => {
  let password1 = '';
  const tokenId = `${registryId('contosoacr')}/tokens/kube-pull-app`;

  before(async () => {
    const map = await arm('PUT', `${registryId('contosoacr')}/scopeMaps/pull-app`, { properties: { actions: ['repositories/app/*/content/read'] } });
    assert.ok(map.status === 200 || map.status === 201, JSON.stringify(map.json));
    const tok = await arm('PUT', tokenId, { properties: { scopeMapId: map.json.id, status: 'enabled' } });
    assert.equal(tok.status, 201, JSON.stringify(tok.json));
    const gen = await arm('POST', `${registryId('contosoacr')}/generateCredentials`, {
      tokenId,
      name: 'password1',
      expiry: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(gen.status, 200, JSON.stringify(gen.json));
    password1 = gen.json.passwords[0].value;
  });

  test('grants pull only on repositories the scope map allows (app/*)', async () => {
    const t = await basicToken('contosoacr', 'kube-pull-app', password1, ['repository:app/web:pull,push', 'repository:other/web:pull']);
    assert.equal(t.status, 200);
    assert.deepEqual(claimsOf(t.json.access_token).access, [{ type: 'repository', name: 'app/web', actions: ['pull'] }]);
    const bearer = `Bearer ${t.json.access_token}`;
    assert.equal((await v2('contosoacr', '', bearer)).status, 200);
    assert.equal((await v2('contosoacr', 'app/web/manifests/latest', bearer)).status, 404);
    const denied = await v2('contosoacr', 'other/web/manifests/latest', bearer);
    assertUnauthorized(denied);
    assert.match(denied.headers.get('www-authenticate') ?? '', /scope="repository:other\/web:pull"/);
    // Basic straight at the registry API follows the same scope map
    assert.equal((await v2('contosoacr', 'app/api/manifests/v1', basic('kube-pull-app', password1))).status, 404);
    assertUnauthorized(await v2('contosoacr', 'other/web/manifests/latest', basic('kube-pull-app', password1)));
    assertUnauthorized(await v2('contosoacr', '_catalog', basic('kube-pull-app', password1)));
  });

  test('POST /oauth2/token grant_type=password works too; wrong, expired and disabled credentials are refused', async () => {
    const form = {
      grant_type: 'password',
      service: server('contosoacr'),
      scope: 'repository:app/web:pull',
      username: 'kube-pull-app',
      password: password1,
    };
    const ok = await call(`https://${server('contosoacr')}/oauth2/token`, { form });
    assert.equal(ok.status, 200);
    assert.ok(ok.json.access_token);
    assertUnauthorized(await call(`https://${server('contosoacr')}/oauth2/token`, { form: { ...form, password: 'nope' } }));
    assertUnauthorized(await basicToken('contosoacr', 'kube-pull-app', 'nope', 'repository:app/web:pull'));

    const secrets = emu.state.registrySecrets.tokenPasswords[tokenId.toLowerCase()]!;
    const expiry = secrets.password1!.expiry;
    secrets.password1!.expiry = new Date(Date.now() - 1000).toISOString();
    assertUnauthorized(await basicToken('contosoacr', 'kube-pull-app', password1, 'repository:app/web:pull'));
    secrets.password1!.expiry = expiry;

    const token = emu.state.resources[tokenId.toLowerCase()];
    token.properties.status = 'disabled';
    assertUnauthorized(await basicToken('contosoacr', 'kube-pull-app', password1, 'repository:app/web:pull'));
    token.properties.status = 'enabled';
    assert.equal((await basicToken('contosoacr', 'kube-pull-app', password1, 'repository:app/web:pull')).status, 200);
  });
});

describe('service principal (appId + client secret)', () => {
  test('needs a pull role on the registry; expired secrets never work', async () => {
    assertUnauthorized(await basicToken('contosoacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, 'repository:app/web:pull'));
    const a = await assign(registryId('contosoacr'), ACR_PULL, ids.CLUSTER_SP_OID_A);
    try {
      const t = await basicToken('contosoacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, 'repository:any/repo:pull,push');
      assert.equal(t.status, 200);
      assert.deepEqual(claimsOf(t.json.access_token).access, [{ type: 'repository', name: 'any/repo', actions: ['pull'] }]);
      assert.equal((await v2('contosoacr', 'any/repo/manifests/v1', basic(ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET))).status, 404);
      assertUnauthorized(await basicToken('contosoacr', ids.CLUSTER_SP_APP_ID, 'old-cluster-sp-secret-Value~12345', 'repository:app/web:pull'));
      assertUnauthorized(await basicToken('contosoacr', ids.CLUSTER_SP_APP_ID, 'wrong', 'repository:app/web:pull'));
      // the role is on contosoacr only
      assertUnauthorized(await basicToken('adminacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, 'repository:app/web:pull'));
    } finally {
      await arm('DELETE', a);
    }
    assertUnauthorized(await basicToken('contosoacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, 'repository:app/web:pull'));
  });

  test('ABAC registry: AcrPull is not honoured; Repository Reader is, within its condition', async () => {
    const pull = await assign(registryId('abacacr'), ACR_PULL, ids.CLUSTER_SP_OID_A);
    assertUnauthorized(await basicToken('abacacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, 'repository:app/web:pull'));
    await arm('DELETE', pull);
    const condition =
      "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'app/'))";
    const reader = await assign(registryId('abacacr'), REPO_READER, ids.CLUSTER_SP_OID_A, condition);
    try {
      const t = await basicToken('abacacr', ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, ['repository:app/web:pull', 'repository:other/web:pull']);
      assert.equal(t.status, 200);
      assert.deepEqual(claimsOf(t.json.access_token).access, [{ type: 'repository', name: 'app/web', actions: ['pull'] }]);
      assertUnauthorized(await v2('abacacr', '_catalog', basic(ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET)));
    } finally {
      await arm('DELETE', reader);
    }
  });
});

describe('Entra exchange: /oauth2/exchange, refresh tokens, null-GUID user', () => {
  async function exchange(registry: string, accessToken: string, extra: Record<string, string> = {}): Promise<Reply> {
    return call(`https://${server(registry)}/oauth2/exchange`, {
      form: { grant_type: 'access_token', service: server(registry), tenant: ids.TENANT_A, access_token: accessToken, ...extra },
    });
  }

  test('an ARM token of an identity with rights yields a ~3 h JWT refresh token that works at /oauth2/token and as a password', async () => {
    const r = await exchange('contosoacr', await armToken());
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const rt: string = r.json.refresh_token;
    const claims = claimsOf(rt);
    assert.equal(claims.iss, 'Azure Container Registry');
    assert.equal(claims.grant_type, 'refresh_token');
    assert.ok(Math.abs(claims.exp - claims.iat - 3 * 3600) <= 5);
    assert.ok(emu.state.registrySecrets.refreshTokens[rt]);

    const t = await call(`https://${server('contosoacr')}/oauth2/token`, {
      form: { grant_type: 'refresh_token', service: server('contosoacr'), scope: 'repository:app/web:pull', refresh_token: rt },
    });
    assert.equal(t.status, 200);
    assert.deepEqual(claimsOf(t.json.access_token).access, [{ type: 'repository', name: 'app/web', actions: ['pull'] }]);
    assert.equal((await v2('contosoacr', '', `Bearer ${t.json.access_token}`)).status, 200);

    // docker login -u 00000000-0000-0000-0000-000000000000 -p <refresh token>
    assert.equal((await v2('contosoacr', '', basic(NULL_GUID, rt))).status, 200);
    assert.equal((await basicToken('contosoacr', NULL_GUID, rt, 'repository:app/web:pull')).status, 200);
    // a refresh token is bound to its registry
    assertUnauthorized(await basicToken('adminacr', NULL_GUID, rt, 'repository:app/web:pull'));
    assertUnauthorized(await basicToken('contosoacr', NULL_GUID, `${rt}x`, 'repository:app/web:pull'));
  });

  test('refused: no rights, wrong audience, wrong tenant, garbage, and Owner on an ABAC registry', async () => {
    const limited = new ClientSecretCredential(ids.TENANT_A, ids.LIMITED_APP_ID, ids.LIMITED_SECRET, {
      authorityHost: emu.url,
      disableInstanceDiscovery: true,
    });
    assertUnauthorized(await exchange('contosoacr', await armToken(limited)));
    const graph = (await deployerA.getToken(`${emu.url}/graph/.default`))!.token;
    assertUnauthorized(await exchange('contosoacr', graph));
    assertUnauthorized(await exchange('tenantbacr', await armToken()));
    assertUnauthorized(await exchange('contosoacr', 'not-a-jwt'));
    assertUnauthorized(await exchange('abacacr', await armToken()));
    const bad = await exchange('contosoacr', await armToken(), { grant_type: 'password' });
    assert.equal(bad.status, 400);

    // the limited identity gains access with a role assignment
    const a = await assign(registryId('contosoacr'), ACR_PULL, ids.LIMITED_OID_A);
    try {
      assert.equal((await exchange('contosoacr', await armToken(limited))).status, 200);
    } finally {
      await arm('DELETE', a);
    }
  });
});

describe('resolve-hook.mjs', () => {
  test('as a --import preload, https.request and fetch to <name>.azurecr.localhost reach the emulator', async () => {
    const script = [
      "import https from 'node:https';",
      "import { lookup } from 'node:dns/promises';",
      `const port = ${emu.port};`,
      "const all = await lookup('contosoacr.azurecr.localhost', { all: true });",
      "const status = await new Promise((resolve, reject) => https.get(`https://contosoacr.azurecr.localhost:${port}/v2/`, (res) => { res.resume(); resolve([res.statusCode, res.headers['www-authenticate']]); }).on('error', reject));",
      'const f = await fetch(`https://adminacr.azurecr.localhost:${port}/v2/`);',
      'console.log(JSON.stringify({ all, status, fetch: f.status }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, [`--import=${pathToFileURL(HOOK).href}`, '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: emu.caCertPath, NODE_OPTIONS: '' },
      timeout: 20_000,
    });
    const out = JSON.parse(stdout.trim());
    assert.deepEqual(out.all, [{ address: '127.0.0.1', family: 4 }]);
    assert.equal(out.status[0], 401);
    assert.equal(out.status[1], `Bearer realm="https://${server('contosoacr')}/oauth2/token",service="${server('contosoacr')}"`);
    assert.equal(out.fetch, 401);
    // every request reached this emulator
    assert.ok(emu.requests.some((r) => r.host === server('contosoacr') && r.path === '/v2/'));
  });

  test('leaves other names to the real resolver', async () => {
    const dns = await import('node:dns');
    const other = await dns.promises.lookup('localhost');
    assert.ok(other.address);
    await assert.rejects(dns.promises.lookup('azurecr.localhost.invalid'), { code: 'ENOTFOUND' });
  });
});
