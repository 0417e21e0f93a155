// The emulator's core: TLS, Entra ID (with the real @azure/identity), GitHub OIDC, faults, the
// request log, admin routes, seed/reset, cloud()/env() and the kubeconfig.
//
// CA trust: NODE_EXTRA_CA_CERTS is read only at process start, so this process adds the
// emulator's CA with tls.setDefaultCACertificates() (Node >= 24.5) right after start; fetch and
// @azure/core-rest-pipeline then trust it. One test runs a child process with env() instead, as
// the action will be run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { createJwtSigner, startEmulator } from '../emulator/server.ts';
import type { Emulator } from '../emulator/server.ts';
import * as ids from '../emulator/ids.ts';
import { loadSeed, substitutePort } from '../emulator/seed.ts';

const execFileP = promisify(execFile);
const NODE = process.execPath;
const ARM_SCOPE = 'https://management.core.windows.net//.default';

let emu: Emulator;

function claimsOf(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

function credOpts(): { authorityHost: string; disableInstanceDiscovery: true } {
  return { authorityHost: emu.url, disableInstanceDiscovery: true };
}

async function oidcToken(audience = ids.OIDC_AUDIENCE): Promise<string> {
  const r = await fetch(`${emu.url}/_github/oidc/token?api-version=2.0&audience=${encodeURIComponent(audience)}`, {
    headers: { authorization: `Bearer ${ids.GITHUB_RUNTIME_TOKEN}` },
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as { value: string }).value;
}

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, re);
    return err as Error;
  }
  assert.fail(`expected a rejection matching ${re}`);
}

before(async () => {
  emu = await startEmulator({ quiet: true });
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
});
after(async () => {
  await emu.close();
});

describe('ids and seed', () => {
  test('every well-known id is a GUID and identity.json agrees with ids.ts', () => {
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const guids = Object.entries(ids).filter(([name]) => /^(TENANT_|SUB_|.*_APP_ID$|.*_OID(_[AB])?$|.*_OBJECT_ID$|.*_KEY_ID$|KUBELET_)/.test(name));
    assert.ok(guids.length >= 20, `found ${guids.length} ids`);
    for (const [name, value] of guids) assert.match(value, guid, name);
    const seed = loadSeed();
    assert.deepEqual(Object.keys(seed.tenants).sort(), [ids.TENANT_A, ids.TENANT_B]);
    assert.equal(seed.subscriptions[ids.SUB_1]?.tenantId, ids.TENANT_A);
    assert.equal(seed.subscriptions[ids.SUB_2]?.tenantId, ids.TENANT_A);
    assert.equal(seed.subscriptions[ids.SUB_B]?.tenantId, ids.TENANT_B);
    const a = seed.tenants[ids.TENANT_A]!;
    const b = seed.tenants[ids.TENANT_B]!;
    const deployer = a.applications.find((x) => x.appId === ids.DEPLOYER_APP_ID)!;
    assert.equal(deployer.signInAudience, 'AzureADMultipleOrgs');
    assert.equal(deployer.passwordCredentials[0]?.secretText, ids.DEPLOYER_SECRET);
    assert.deepEqual(deployer.federatedIdentityCredentials, [
      { issuer: ids.GITHUB_ISSUER, subject: ids.GITHUB_SUBJECT, audiences: [ids.OIDC_AUDIENCE] },
    ]);
    const cluster = a.applications.find((x) => x.appId === ids.CLUSTER_SP_APP_ID)!;
    assert.equal(cluster.passwordCredentials.length, 2);
    assert.equal(cluster.passwordCredentials.filter((p) => Date.parse(p.endDateTime) < Date.now()).length, 1);
    assert.equal(cluster.passwordCredentials.find((p) => Date.parse(p.endDateTime) > Date.now())?.secretText, ids.CLUSTER_SP_SECRET);
    assert.ok(a.servicePrincipals.some((s) => s.id === ids.DEPLOYER_OID_A));
    assert.ok(b.servicePrincipals.some((s) => s.id === ids.DEPLOYER_OID_B));
    assert.ok(b.servicePrincipals.some((s) => s.id === ids.LIMITED_OID_B));
    assert.ok(a.servicePrincipals.some((s) => s.id === ids.KUBELET_OID && s.servicePrincipalType === 'ManagedIdentity'));
    assert.ok(!b.servicePrincipals.some((s) => s.appId === ids.CLUSTER_SP_APP_ID));
    // Graph application permissions: the deployer may read and write applications in both tenants, the limited deployer only read
    assert.deepEqual(a.graphAppRoles, { [ids.DEPLOYER_OID_A]: ['Application.ReadWrite.All'], [ids.LIMITED_OID_A]: ['Application.Read.All'] });
    assert.deepEqual(b.graphAppRoles, { [ids.DEPLOYER_OID_B]: ['Application.ReadWrite.All'], [ids.LIMITED_OID_B]: ['Application.Read.All'] });
    assert.deepEqual(cluster.owners, [ids.DEPLOYER_OID_A]);
    for (const t of [a, b]) assert.equal(t.canProvisionServicePrincipals, undefined, 'no test override in the default world');
    assert.deepEqual(seed.roleAssignmentWriters.sort(), [ids.DEPLOYER_OID_A, ids.DEPLOYER_OID_B]);
  });

  test('substitutePort replaces {PORT} in values and keys without touching the input', () => {
    const input = { a: 'x.azurecr.localhost:{PORT}', list: ['{PORT}', 3], nested: { 'k{PORT}': true } };
    const out = substitutePort(input, 4433);
    assert.deepEqual(out, { a: 'x.azurecr.localhost:4433', list: ['4433', 3], nested: { k4433: true } });
    assert.equal(input.a, 'x.azurecr.localhost:{PORT}');
  });

  test('a seed file is merged over the default and {PORT} is substituted after listen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-seed-'));
    const file = join(dir, 'seed.json');
    writeFileSync(
      file,
      JSON.stringify({
        githubOidc: { subject: 'repo:o/r:environment:prod', repository: 'o/r', enabled: true },
        resources: { x: { loginServer: 'r.azurecr.localhost:{PORT}' } },
      }),
    );
    const other = await startEmulator({ seed: file, quiet: true });
    try {
      assert.equal(other.state.githubOidc.subject, 'repo:o/r:environment:prod');
      assert.equal(other.state.resources.x?.loginServer, `r.azurecr.localhost:${other.port}`);
      assert.ok(other.state.tenants[ids.TENANT_A], 'the default identity seed is kept');
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS', () => {
  test('the server certificate chains to the CA and names 127.0.0.1, localhost and *.azurecr.localhost', async () => {
    const cert = await new Promise<X509Certificate>((resolve, reject) => {
      const req = httpsRequest(`${emu.url}/_emulator/info`, { ca: emu.caCertPem, agent: false }, (res) => {
        const peer = (res.socket as tls.TLSSocket).getPeerX509Certificate();
        res.resume();
        resolve(peer!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.ok(cert.verify(new X509Certificate(emu.caCertPem).publicKey));
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.match(cert.subjectAltName ?? '', /DNS:\*\.azurecr\.localhost/);
    assert.ok(cert.checkHost('myreg.azurecr.localhost'), 'a registry host matches the wildcard');
    assert.equal(cert.checkHost('example.com'), undefined);
  });

  test('a client that trusts only the public roots refuses the emulator', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = httpsRequest(`${emu.url}/_emulator/info`, { ca: [...tls.rootCertificates], agent: false }, resolve);
        req.on('error', reject);
        req.end();
      }),
      /unable to verify the first certificate|self-signed|unable to get local issuer/i,
    );
  });

  test('kubectl (Go TLS) accepts the kubeconfig: CA data, server and bearer token', async () => {
    const { stdout } = await execFileP('kubectl', ['--kubeconfig', emu.kubeconfigPath, 'get', '--raw', '/_emulator/info'], { timeout: 20_000 });
    assert.equal(JSON.parse(stdout).url, emu.url);
    const { stdout: view } = await execFileP('kubectl', ['--kubeconfig', emu.kubeconfigPath, 'config', 'view', '--raw', '-o', 'json']);
    const cfg = JSON.parse(view);
    assert.equal(cfg['current-context'], 'emulator');
    assert.equal(cfg.clusters[0].cluster.server, emu.url);
    assert.equal(Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), emu.caCertPem);
    assert.equal(cfg.users[0].user.token, emu.state.kube.token);
  });
});

describe('Entra ID with @azure/identity', () => {
  test('ClientSecretCredential gets an ARM token whose claims name the caller in the requested tenant', async () => {
    const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts());
    const t = await cred.getToken(ARM_SCOPE);
    assert.ok(t.expiresOnTimestamp > Date.now() + 50 * 60_000);
    const c = claimsOf(t.token);
    assert.equal(c.aud, 'https://management.core.windows.net/');
    assert.equal(c.tid, ids.TENANT_A);
    assert.equal(c.oid, ids.DEPLOYER_OID_A);
    assert.equal(c.sub, ids.DEPLOYER_OID_A);
    assert.equal(c.appid, ids.DEPLOYER_APP_ID);
    assert.equal(c.azp, ids.DEPLOYER_APP_ID);
    assert.equal(c.iss, `${emu.url}/${ids.TENANT_A}/v2.0`);
    assert.equal(c.ver, '2.0');
    assert.equal(c.exp - c.iat, 3600);

    const inB = await new ClientSecretCredential(ids.TENANT_B, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts()).getToken(ARM_SCOPE);
    assert.equal(claimsOf(inB.token).oid, ids.DEPLOYER_OID_B, 'a multitenant app gets its SP object id in the other tenant');
    assert.equal(claimsOf(inB.token).tid, ids.TENANT_B);
  });

  test('a Graph scope gives a token for url/graph, verifiable with the JWKS the discovery document names', async () => {
    const cred = new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts());
    // the cloud's microsoftGraphResourceId ends with '/', so `${id}.default` is the usual scope
    const t2 = await cred.getToken(`${emu.cloud().endpoints.microsoftGraphResourceId}.default`);
    assert.equal(claimsOf(t2.token).aud, `${emu.url}/graph`);
    // the resource is kept as given (as Entra does for ARM's 'https://management.core.windows.net/')
    const t = await cred.getToken(`${emu.url}/graph//.default`);
    assert.equal(claimsOf(t.token).aud, `${emu.url}/graph/`);

    const conf = (await (await fetch(`${emu.url}/${ids.TENANT_A}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(conf.issuer, `${emu.url}/${ids.TENANT_A}/v2.0`);
    assert.equal(conf.token_endpoint, `${emu.url}/${ids.TENANT_A}/oauth2/v2.0/token`);
    const jwks = (await (await fetch(conf.jwks_uri!)).json()) as { keys: Array<Record<string, string>> };
    const [h, p, s] = t2.token.split('.') as [string, string, string];
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert.ok(jwk, 'the token kid is in the JWKS');
    const key = createPublicKey({ key: { kty: jwk.kty!, n: jwk.n!, e: jwk.e! }, format: 'jwk' });
    assert.ok(cryptoVerify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')));
  });

  test('ClientAssertionCredential with the GitHub OIDC token (federated credential) gets a token', async () => {
    const cred = new ClientAssertionCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, () => oidcToken(), credOpts());
    const t = await cred.getToken(ARM_SCOPE);
    const c = claimsOf(t.token);
    assert.equal(c.oid, ids.DEPLOYER_OID_A);
    assert.equal(c.appidacr, '2');
  });

  test('wrong secret: AADSTS7000215; expired secret: AADSTS7000222', async () => {
    await rejectsWith(new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, 'nope', credOpts()).getToken(ARM_SCOPE), /AADSTS7000215/);
    await rejectsWith(
      new ClientSecretCredential(ids.TENANT_A, ids.CLUSTER_SP_APP_ID, 'old-cluster-sp-secret-Value~12345', credOpts()).getToken(ARM_SCOPE),
      /AADSTS7000222/,
    );
  });

  test('unknown tenant: AADSTS90002; unknown app or no SP in the tenant: AADSTS700016', async () => {
    const nowhere = '33333333-3333-4333-8333-333333333333';
    // Entra refuses the discovery document; MSAL then reports that it cannot resolve the endpoints
    const conf = await fetch(`${emu.url}/${nowhere}/v2.0/.well-known/openid-configuration`);
    assert.equal(conf.status, 400);
    const confBody = (await conf.json()) as { error: string; error_codes: number[]; error_description: string };
    assert.equal(confBody.error, 'invalid_tenant');
    assert.deepEqual(confBody.error_codes, [90002]);
    assert.match(confBody.error_description, new RegExp(`^AADSTS90002: Tenant '${nowhere}' not found`));
    const tok = await fetch(`${emu.url}/${nowhere}/oauth2/v2.0/token`, { method: 'POST', body: 'grant_type=client_credentials' });
    assert.deepEqual(((await tok.json()) as { error_codes: number[] }).error_codes, [90002]);
    await rejectsWith(
      new ClientSecretCredential(nowhere, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts()).getToken(ARM_SCOPE),
      /endpoints_resolution_error/,
    );
    await rejectsWith(new ClientSecretCredential(ids.TENANT_A, nowhere, 'x', credOpts()).getToken(ARM_SCOPE), /AADSTS700016/);
    await rejectsWith(
      new ClientSecretCredential(ids.TENANT_B, ids.CLUSTER_SP_APP_ID, ids.CLUSTER_SP_SECRET, credOpts()).getToken(ARM_SCOPE),
      /AADSTS700016.*Application with identifier 'c0000000/,
    );
  });

  test('an assertion whose subject matches no federated credential: AADSTS700213 naming the subject (as Entra does)', async () => {
    emu.state.githubOidc.subject = 'repo:contoso/app:pull_request';
    try {
      const cred = new ClientAssertionCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, () => oidcToken(), credOpts());
      const err = await rejectsWith(cred.getToken(ARM_SCOPE), /AADSTS700213/);
      assert.match(err.message, /presented assertion subject 'repo:contoso\/app:pull_request'/);
    } finally {
      emu.state.githubOidc.subject = ids.GITHUB_SUBJECT;
    }
    const wrongAud = new ClientAssertionCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, () => oidcToken('api://Other'), credOpts());
    // issuer and subject match, the audience does not: AADSTS700212 naming the audience
    await rejectsWith(wrongAud.getToken(ARM_SCOPE), /AADSTS700212.*api:\/\/Other/s);
  });

  test('expired or foreign-signed assertions: AADSTS700024', async () => {
    const signer = await createJwtSigner(); // same process-wide key as the emulator
    const now = Math.floor(Date.now() / 1000);
    const expired = signer.sign({
      iss: ids.GITHUB_ISSUER,
      sub: ids.GITHUB_SUBJECT,
      aud: ids.OIDC_AUDIENCE,
      iat: now - 900,
      nbf: now - 900,
      exp: now - 600,
    });
    const form = (assertion: string): URLSearchParams =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: ids.DEPLOYER_APP_ID,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: ARM_SCOPE,
      });
    const r1 = await fetch(`${emu.url}/${ids.TENANT_A}/oauth2/v2.0/token`, { method: 'POST', body: form(expired) });
    const b1 = (await r1.json()) as Record<string, any>;
    assert.equal(r1.status, 400);
    assert.deepEqual(b1.error_codes, [700024]);
    assert.equal(b1.error, 'invalid_client');
    assert.match(b1.error_description, /^AADSTS700024: Client assertion is not within its valid time range/);
    for (const k of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof b1[k], 'string', k);

    const good = await oidcToken();
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.from('not-a-signature').toString('base64url')}`;
    const r2 = await fetch(`${emu.url}/${ids.TENANT_A}/oauth2/v2.0/token`, { method: 'POST', body: form(forged) });
    assert.deepEqual(((await r2.json()) as { error_codes: number[] }).error_codes, [700024]);
  });

  test('instance discovery answers in Entra shape', async () => {
    const r = await fetch(`${emu.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${emu.url}/common/oauth2/v2.0/authorize`);
    const body = (await r.json()) as Record<string, any>;
    assert.equal(body.tenant_discovery_endpoint, `${emu.url}/{tenant}/v2.0/.well-known/openid-configuration`);
    assert.deepEqual(body.metadata[0].aliases, [`127.0.0.1:${emu.port}`]);
  });
});

describe('GitHub OIDC endpoint', () => {
  test('issues a 5-minute token with the configured subject; default audience is the owner URL', async () => {
    const r = await fetch(`${emu.url}/_github/oidc/token?api-version=2.0`, { headers: { authorization: `Bearer ${ids.GITHUB_RUNTIME_TOKEN}` } });
    assert.equal(r.status, 200);
    const c = claimsOf(((await r.json()) as { value: string }).value);
    assert.equal(c.iss, 'https://token.actions.githubusercontent.com');
    assert.equal(c.sub, ids.GITHUB_SUBJECT);
    assert.equal(c.aud, 'https://github.com/contoso');
    assert.equal(c.repository, 'contoso/app');
    assert.equal(c.exp - c.iat, 300);
    assert.equal(claimsOf(await oidcToken('api://X')).aud, 'api://X');
  });

  test('401 without the runtime token, 403 when id-token is not permitted', async () => {
    assert.equal((await fetch(`${emu.url}/_github/oidc/token?api-version=2.0`)).status, 401);
    assert.equal((await fetch(`${emu.url}/_github/oidc/token`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    emu.state.githubOidc.enabled = false;
    try {
      const r = await fetch(`${emu.url}/_github/oidc/token`, { headers: { authorization: `Bearer ${ids.GITHUB_RUNTIME_TOKEN}` } });
      assert.equal(r.status, 403);
    } finally {
      emu.state.githubOidc.enabled = true;
    }
  });
});

describe('faults and the request log', () => {
  const probe = (path = '/_github/oidc/token', init: RequestInit = {}): Promise<Response> =>
    fetch(`${emu.url}${path}`, { headers: { authorization: `Bearer ${ids.GITHUB_RUNTIME_TOKEN}` }, ...init });

  test('429 with Retry-After, bounded by times, then normal answers', async () => {
    emu.reset();
    emu.addFault({ kind: 'status', status: 429, retryAfter: 7, pathPattern: '/_github/oidc', times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await probe();
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.ok(r.headers.get('x-ms-request-id'));
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'TooManyRequests');
    }
    assert.equal((await probe()).status, 200);
    assert.deepEqual(
      emu.requests.map((e) => [e.status, e.fault ?? null, e.service]),
      [
        [429, 'status:429', 'github'],
        [429, 'status:429', 'github'],
        [200, null, 'github'],
      ],
    );
  });

  test('500 and armError answer ARM error bodies; a rule matches only its method and host+path', async () => {
    emu.reset();
    emu.addFault({ kind: 'status', status: 500, method: 'POST', pathPattern: '^127\\.0\\.0\\.1/.*/oauth2/v2\\.0/token$' });
    emu.addFault({
      kind: 'armError',
      status: 409,
      code: 'Conflict',
      message: 'Another operation is in progress.',
      pathPattern: 'discovery/v2\\.0/keys',
    });
    const r = await probe(`/${ids.TENANT_A}/oauth2/v2.0/token`, { method: 'POST', body: 'grant_type=client_credentials' });
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { error: { code: 'InternalServerError', message: 'Injected fault: 500 InternalServerError.' } });
    const ok = await probe(`/${ids.TENANT_A}/v2.0/.well-known/openid-configuration`);
    assert.equal(ok.status, 200, 'GET on another path is untouched');
    const c = await probe(`/${ids.TENANT_A}/discovery/v2.0/keys`);
    assert.equal(c.status, 409);
    assert.deepEqual(await c.json(), { error: { code: 'Conflict', message: 'Another operation is in progress.' } });
  });

  test('the real SDK retries a faulted token request (429 with Retry-After, then 503) and succeeds', async () => {
    emu.reset();
    emu.addFault({ kind: 'status', status: 429, retryAfter: 0, method: 'POST', pathPattern: '/oauth2/v2\\.0/token$', times: 1 });
    emu.addFault({ kind: 'status', status: 503, method: 'POST', pathPattern: '/oauth2/v2\\.0/token$', times: 1 });
    const t = await new ClientSecretCredential(ids.TENANT_A, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts()).getToken(ARM_SCOPE);
    assert.equal(claimsOf(t.token).oid, ids.DEPLOYER_OID_A);
    const tokenCalls = emu.requests.filter((e) => e.path.endsWith('/oauth2/v2.0/token'));
    assert.deepEqual(
      tokenCalls.map((e) => [e.status, e.fault ?? null, e.service]),
      [
        [429, 'status:429', 'entra'],
        [503, 'status:503', 'entra'],
        [200, null, 'entra'],
      ],
    );
  });

  test('reset destroys the connection without an answer, once', async () => {
    emu.reset();
    emu.addFault({ kind: 'reset', pathPattern: '/_github/', times: 1 });
    await assert.rejects(probe(), (err: Error) =>
      /fetch failed|socket|ECONNRESET/i.test(`${err.message} ${String((err as { cause?: unknown }).cause)}`),
    );
    assert.equal((await probe()).status, 200);
    assert.equal(emu.requests[0]?.fault, 'reset');
    assert.equal(emu.requests[0]?.status, 0);
  });

  test('latency delays and then answers; stall outlasts a client timeout', async () => {
    emu.reset();
    emu.addFault({ kind: 'latency', ms: 250, pathPattern: '/_github/', times: 1 });
    const t0 = performance.now();
    assert.equal((await probe()).status, 200);
    assert.ok(performance.now() - t0 >= 240, 'the answer came after the latency');
    assert.equal(emu.requests[0]?.fault, 'latency:250');
    assert.ok(emu.requests[0]!.durationMs >= 240);

    emu.addFault({ kind: 'stall', ms: 5000, pathPattern: '/_github/', times: 1 });
    const t1 = performance.now();
    await assert.rejects(probe('/_github/oidc/token', { signal: AbortSignal.timeout(200) }), /abort|timeout/i);
    assert.ok(performance.now() - t1 < 2000);
  });

  test('the log records tenant and app of the token, and admin routes are not logged', async () => {
    emu.reset();
    const t = await new ClientSecretCredential(ids.TENANT_B, ids.DEPLOYER_APP_ID, ids.DEPLOYER_SECRET, credOpts()).getToken(ARM_SCOPE);
    await fetch(`${emu.url}/graph/v1.0/servicePrincipals`, { headers: { authorization: `Bearer ${t.token}` } });
    await fetch(`${emu.url}/_emulator/requests`);
    await fetch(`${emu.url}/no/such/route`);
    const last = emu.requests.at(-2)!;
    assert.equal(last.service, 'graph');
    assert.equal(last.status, 401, 'an ARM token is refused by Graph');
    assert.equal(last.tid, ids.TENANT_B);
    assert.equal(last.appid, ids.DEPLOYER_APP_ID);
    const nf = emu.requests.at(-1)!;
    assert.deepEqual([nf.service, nf.status, nf.path], ['none', 404, '/no/such/route']);
    assert.ok(!emu.requests.some((e) => e.path.startsWith('/_emulator/')));
    assert.deepEqual(
      emu.requests.map((e) => e.seq),
      [...emu.requests.map((e) => e.seq)].sort((a, b) => a - b),
    );
  });
});

describe('admin routes, reset, cloud() and env()', () => {
  test('faults, requests and state can be driven over HTTP', async () => {
    emu.reset();
    const add = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'status', status: 503, pathPattern: '/_github/' }),
    });
    assert.equal(add.status, 201);
    const bad = await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'explode' }) });
    assert.equal(bad.status, 400);
    const gh = () => fetch(`${emu.url}/_github/oidc/token`, { headers: { authorization: `Bearer ${ids.GITHUB_RUNTIME_TOKEN}` } });
    assert.equal((await gh()).status, 503);
    assert.equal((await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' })).status, 204);
    assert.equal((await gh()).status, 200);
    const log = (await (await fetch(`${emu.url}/_emulator/requests`)).json()) as Array<{ status: number }>;
    assert.deepEqual(
      log.map((e) => e.status),
      [503, 200],
    );
    assert.equal((await fetch(`${emu.url}/_emulator/requests`, { method: 'DELETE' })).status, 204);
    assert.equal(emu.requests.length, 0);

    const state = (await (await fetch(`${emu.url}/_emulator/state`)).json()) as typeof emu.state;
    state.githubOidc.enabled = false;
    assert.equal((await fetch(`${emu.url}/_emulator/state`, { method: 'PUT', body: JSON.stringify(state) })).status, 204);
    assert.equal(emu.state.githubOidc.enabled, false);
    assert.equal((await gh()).status, 403);
    assert.equal((await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' })).status, 204);
    assert.equal(emu.state.githubOidc.enabled, true);
    const info = (await (await fetch(`${emu.url}/_emulator/info`)).json()) as Record<string, unknown>;
    assert.equal(info.url, emu.url);
    assert.equal(info.kubeconfigPath, emu.kubeconfigPath);
  });

  test('reset() restores the seed, clears log and faults; reset(state) installs a given state', () => {
    emu.state.tenants[ids.TENANT_A]!.servicePrincipals.length = 0;
    emu.addFault({ kind: 'reset' });
    emu.reset();
    assert.ok(emu.state.tenants[ids.TENANT_A]!.servicePrincipals.length > 0);
    assert.equal(emu.requests.length, 0);
    const custom = structuredClone(emu.state);
    custom.kube.token = 'another-token';
    emu.reset(custom);
    assert.match(readFileSync(emu.kubeconfigPath, 'utf8'), /token: "another-token"/);
    emu.reset();
  });

  test('cloud() points every endpoint here', () => {
    assert.deepEqual(emu.cloud(), {
      name: 'AzureEmulator',
      endpoints: {
        resourceManager: `${emu.url}/`,
        activeDirectory: emu.url,
        activeDirectoryResourceId: 'https://management.core.windows.net/',
        microsoftGraphResourceId: `${emu.url}/graph/`,
      },
      suffixes: { acrLoginServerEndpoint: '.azurecr.localhost' },
    });
  });

  test('env() is enough for a child process: @actions/core getIDToken + ClientAssertionCredential', async () => {
    const env = emu.env();
    assert.equal(env.ACTIONS_ID_TOKEN_REQUEST_URL, `${emu.url}/_github/oidc/token?api-version=2.0`);
    const script = `
      import * as core from '@actions/core';
      import { ClientAssertionCredential } from '@azure/identity';
      const cred = new ClientAssertionCredential(${JSON.stringify(ids.TENANT_B)}, ${JSON.stringify(ids.DEPLOYER_APP_ID)},
        () => core.getIDToken('api://AzureADTokenExchange'), { authorityHost: ${JSON.stringify(emu.url)}, disableInstanceDiscovery: true });
      const t = await cred.getToken('https://management.core.windows.net//.default');
      console.log(JSON.parse(Buffer.from(t.token.split('.')[1], 'base64url')).oid);
    `;
    const { stdout } = await execFileP(NODE, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      timeout: 30_000,
    });
    // @actions/core prints ::debug:: and ::add-mask:: commands first
    assert.equal(stdout.trim().split('\n').at(-1), ids.DEPLOYER_OID_B);
    assert.match(stdout, /::add-mask::ey/);
  });
});

describe('cli', () => {
  test('prints EMULATOR_READY with url/port/CA/kubeconfig, serves, and exits cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(NODE, [join(import.meta.dirname, '..', 'emulator', 'cli.ts'), '--quiet', '--latency', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const ready = await new Promise<{ url: string; port: number; caCertPath: string; kubeconfigPath: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no EMULATOR_READY line in: ${out}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^EMULATOR_READY (.+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(JSON.parse(m[1]!));
          }
        });
        child.once('exit', (code) => reject(new Error(`cli exited early (${code}): ${out}`)));
      });
      assert.match(ready.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(ready.url, `https://127.0.0.1:${ready.port}`);
      assert.match(out, /export NODE_EXTRA_CA_CERTS=/);
      assert.match(out, /INPUT_AUTH-METHOD=pull-secret/);
      assert.match(out, /"microsoftGraphResourceId": "https:\/\/127\.0\.0\.1:\d+\/graph\/"/);
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${ready.url}/_emulator/faults`, { ca: readFileSync(ready.caCertPath, 'utf8'), agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), [{ kind: 'latency', ms: 1 }]);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
