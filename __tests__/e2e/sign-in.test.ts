// Azure sign-in through dist/index.js: OIDC (default), client secret, creds JSON, environment
// variables, an Azure CLI session; and errors that say what to fix. Each run is a read-only
// dry-run attach, so a green run proves the sign-in and the ARM reads worked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { azureInputs, oidcInputs, runAction } from '../helpers/harness.ts';
import { DEPLOYER_APP_ID, DEPLOYER_SECRET, SUB_1, TENANT_A } from '../../emulator/ids.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator();

const target = { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', 'dry-run': 'true' };
const tokenRequests = () => emu.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/oauth2/v2.0/token'));

test('OIDC is the default with client-id and tenant-id: the GitHub token is the client assertion', async () => {
  const r = await runAction(emu, oidcInputs(emu, target));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // one GitHub request per run: MSAL asks for the assertion twice, the credential keeps it
  assert.equal(emu.requests.filter((q) => q.path === '/_github/oidc/token').length, 1, 'asked GitHub for an OIDC token once');
  assert.ok(tokenRequests().length >= 1);
  assert.ok(!r.stdout.includes(DEPLOYER_SECRET));
});

test('client-secret and creds JSON sign in without OIDC', async () => {
  const a = await runAction(emu, azureInputs(emu, target));
  assert.equal(a.code, 0, a.stdout);
  const creds = JSON.stringify({ clientId: DEPLOYER_APP_ID, clientSecret: DEPLOYER_SECRET, tenantId: TENANT_A, subscriptionId: SUB_1 });
  emu.reset();
  const b = await runAction(emu, { environment: JSON.stringify(emu.cloud()), creds, ...target });
  assert.equal(b.code, 0, b.stdout);
  assert.ok(!emu.requests.some((q) => q.path.startsWith('/_github')), 'no OIDC request with a secret');
  assert.ok(b.masks.includes(DEPLOYER_SECRET), 'the clientSecret in creds is masked');
});

test('with no login inputs: the environment variables', async () => {
  const r = await runAction(
    emu,
    { environment: JSON.stringify(emu.cloud()), 'subscription-id': SUB_1, ...target },
    {
      env: { AZURE_CLIENT_ID: DEPLOYER_APP_ID, AZURE_TENANT_ID: TENANT_A, AZURE_CLIENT_SECRET: DEPLOYER_SECRET },
    },
  );
  assert.equal(r.code, 0, r.stdout);
});

test('with no login inputs and no environment: an Azure CLI session (az account get-access-token)', async () => {
  // A stand-in `az` on PATH that answers as the CLI does after azure/login, with a real token from the emulator.
  const bin = mkdtempSync(join(tmpdir(), 'fake-az-'));
  const script = `#!${process.execPath}
const args = process.argv.slice(2);
if (args[0] !== 'account' || args[1] !== 'get-access-token') { console.error('unexpected az ' + args.join(' ')); process.exit(2); }
const arg = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const resource = arg('--resource') ?? '';
const scope = arg('--scope') ?? (resource.endsWith('/') ? resource.slice(0, -1) : resource) + '/.default';
const tenant = arg('--tenant') ?? '${TENANT_A}';
const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: '${DEPLOYER_APP_ID}', client_secret: '${DEPLOYER_SECRET}', scope });
const res = await fetch('${emu.url}/' + tenant + '/oauth2/v2.0/token', { method: 'POST', body });
const j = await res.json();
if (!j.access_token) { console.error(JSON.stringify(j)); process.exit(1); }
const exp = Math.floor(Date.now() / 1000) + j.expires_in;
console.log(JSON.stringify({ accessToken: j.access_token, expiresOn: new Date(exp * 1000).toISOString().replace('T', ' ').slice(0, 19), expires_on: exp, subscription: '${SUB_1}', tenant, tokenType: 'Bearer' }));
`;
  writeFileSync(join(bin, 'az'), script);
  chmodSync(join(bin, 'az'), 0o755);
  const r = await runAction(
    emu,
    { environment: JSON.stringify(emu.cloud()), 'subscription-id': SUB_1, ...target },
    { env: { PATH: `${bin}:${process.env.PATH}` } },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('OIDC without the id-token permission says to add `id-token: write`', async () => {
  const r = await runAction(emu, oidcInputs(emu, target), {
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
  });
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /id-token: write/);
});

test('a federated credential mismatch names the token’s iss, sub and aud (AADSTS700213)', async () => {
  emu.state.githubOidc.subject = 'repo:contoso/app:pull_request';
  const r = await runAction(emu, oidcInputs(emu, target));
  assert.equal(r.code, 1);
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /AADSTS700213/);
  assert.match(r.errors[0], /iss 'https:\/\/token\.actions\.githubusercontent\.com'/);
  assert.match(r.errors[0], /sub 'repo:contoso\/app:pull_request'/);
  assert.match(r.errors[0], /aud 'api:\/\/AzureADTokenExchange'/);
});

test('a wrong client secret says so (AADSTS7000215) and never prints it', async () => {
  const r = await runAction(emu, azureInputs(emu, { ...target, 'client-secret': 'wrong-Secret~000' }));
  assert.equal(r.code, 1);
  assert.match(r.errors[0], /AADSTS7000215/);
  assert.match(r.errors[0], /client secret/);
  assert.ok(!r.errors[0].includes('wrong-Secret~000'));
});
