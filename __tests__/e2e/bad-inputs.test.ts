// Bad and hostile inputs: each ends in exit code 1 with a single `::error::` line naming the input,
// no stack trace, and the emulator receives no request (inputs are checked before any network call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mapLimit } from '../../src/pool.ts';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { SUB_1 } from '../../emulator/ids.ts';
import { useEmulator } from '../helpers/emulator.ts';

const emu = useEmulator({ reset: false });

const dir = mkdtempSync(join(tmpdir(), 'acr-bad-'));
const noContext = join(dir, 'no-context.yaml');
writeFileSync(
  noContext,
  'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n',
);

type Case = [name: string, input: string, inputs: Record<string, string>];
const ps = (extra: Record<string, string>) => ({ registry: 'contosoacr', 'credential-type': 'basic', username: 'u', password: 'p', ...extra });
const aks = (extra: Record<string, string>) => ({ registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', ...extra });
const guid = '00000000-0000-4000-8000-000000000000';

const CASES: Case[] = [
  ['registry missing', 'registry', { registry: '' }],
  ['registry with symbols', 'registry', { registry: 'bad_name!' }],
  ['registry too short', 'registry', { registry: 'abc' }],
  ['registry name too long', 'registry', { registry: 'a'.repeat(51) }],
  [
    'registry resource id with a bad subscription',
    'registry',
    { registry: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg12' },
  ],
  ['registry login server outside the cloud suffix', 'registry', { registry: 'myreg.example.com' }],
  ['registry with a newline', 'registry', { registry: 'contosoacr\nevil' }],
  ['registry path traversal', 'registry', { registry: '../../etc/passwd' }],
  ['registry with a semicolon', 'registry', { registry: 'contoso;rm -rf' }],
  ['cluster-type unknown', 'cluster-type', { 'cluster-type': 'eks' }],
  ['auth-method unknown', 'auth-method', { 'auth-method': 'magic' }],
  ['operation unknown', 'operation', { operation: 'delete' }],
  ['dry-run not a boolean', 'dry-run', { 'dry-run': 'maybe' }],
  ['cluster-name together with clusters', 'clusters', aks({ clusters: 'rg-aks/aks-sp' })],
  ['cluster-name uppercase with spaces', 'cluster-name', aks({ 'cluster-name': 'Bad Name;' })],
  ['cluster-name too long', 'cluster-name', aks({ 'cluster-name': 'a'.repeat(64) })],
  ['cluster-name without resource group', 'cluster-resource-group', { registry: 'contosoacr', 'cluster-name': 'aks-mi' }],
  ['cluster-resource-group without cluster-name', 'cluster-resource-group', { 'cluster-resource-group': 'rg-aks' }],
  ['clusters line that is not a cluster', 'clusters', { clusters: 'not a cluster' }],
  ['clusters with ../', 'clusters', { clusters: '../rg/aks' }],
  ['clusters listing one twice', 'clusters', { clusters: 'rg-aks/aks-mi\nrg-aks/aks-mi' }],
  ['max-parallel zero', 'max-parallel', { 'max-parallel': '0' }],
  ['max-parallel not a number', 'max-parallel', { 'max-parallel': 'ten' }],
  ['max-parallel too large', 'max-parallel', { 'max-parallel': '1000' }],
  ['role with a semicolon', 'role', aks({ role: 'Acr;Pull' })],
  ['repositories uppercase', 'repositories', { repositories: 'App/Web' }],
  ['repositories with ../', 'repositories', { repositories: 'app/../x' }],
  ['client-id not a GUID', 'client-id', { 'client-id': 'not-a-guid' }],
  ['tenant-id with spaces', 'tenant-id', { 'tenant-id': 'bad tenant' }],
  ['client-secret without client-id', 'client-id', { 'client-id': '', 'client-secret': 's3cret' }],
  ['creds not JSON', 'creds', { 'client-id': '', 'client-secret': '', creds: '{clientId: oops' }],
  ['creds without tenantId', 'creds', { 'client-id': '', 'client-secret': '', creds: JSON.stringify({ clientId: guid, clientSecret: 'x' }) }],
  ['creds that is an array', 'creds', { 'client-id': '', 'client-secret': '', creds: '[1,2]' }],
  ['creds together with client-id', 'creds', { creds: JSON.stringify({ clientId: guid, clientSecret: 'x', tenantId: guid }) }],
  ['environment unknown', 'environment', { environment: 'AzureMars' }],
  [
    'environment custom cloud over http',
    'environment',
    {
      environment: JSON.stringify({
        endpoints: { resourceManager: 'http://127.0.0.1:1/', activeDirectory: 'http://127.0.0.1:1', microsoftGraphResourceId: 'http://127.0.0.1:1/' },
        suffixes: { acrLoginServerEndpoint: '.azurecr.io' },
      }),
    },
  ],
  [
    'environment custom cloud without ACR suffix',
    'environment',
    {
      environment: JSON.stringify({
        endpoints: { resourceManager: 'https://a/', activeDirectory: 'https://b', microsoftGraphResourceId: 'https://c/' },
      }),
    },
  ],
  ['environment invalid JSON', 'environment', { environment: '{"endpoints":' }],
  [
    'service-principal-client-id not a GUID',
    'service-principal-client-id',
    aks({ 'auth-method': 'service-principal', 'service-principal-client-id': 'xyz' }),
  ],
  ['create-secret not a boolean', 'create-secret', { 'create-secret': 'si' }],
  ['secret-expiry unknown unit', 'secret-expiry', { 'secret-expiry': '5y' }],
  ['secret-expiry too short', 'secret-expiry', { 'secret-expiry': '10m' }],
  ['secret-expiry too long', 'secret-expiry', { 'secret-expiry': 'P1000D' }],
  ['secret-expiry negative', 'secret-expiry', { 'secret-expiry': '-5d' }],
  ['registry-tenant-id not a GUID', 'registry-tenant-id', { 'registry-tenant-id': 'abc' }],
  [
    'reset-cluster-credentials without a secret',
    'reset-cluster-credentials',
    aks({ 'auth-method': 'service-principal', 'reset-cluster-credentials': 'true' }),
  ],
  ['reset-cluster-credentials on the pull-secret path', 'reset-cluster-credentials', ps({ 'reset-cluster-credentials': 'true' })],
  ['credential-type unknown', 'credential-type', { 'credential-type': 'oauth' }],
  ['basic without password', 'password', ps({ password: '' })],
  ['basic without username', 'username', ps({ username: '' })],
  ['username with credential-type token', 'username', { username: 'u' }],
  ['token-name too short', 'token-name', { 'token-name': 'ab' }],
  ['namespaces uppercase', 'namespaces', ps({ namespaces: 'Team-A' })],
  ['namespaces with a semicolon', 'namespaces', ps({ namespaces: 'a;b' })],
  ['namespaces too long', 'namespaces', ps({ namespaces: 'n'.repeat(64) })],
  ['namespaces with ../', 'namespaces', ps({ namespaces: '../kube-system' })],
  ['secret-name with underscore', 'secret-name', ps({ 'secret-name': 'My_Secret' })],
  ['secret-name too long', 'secret-name', ps({ 'secret-name': 's'.repeat(254) })],
  ['service-accounts with ../', 'service-accounts', ps({ 'service-accounts': 'default\n../x' })],
  ['apply not a boolean', 'apply', ps({ apply: 'nope' })],
  ['apply false with verify', 'apply', ps({ apply: 'false', operation: 'verify' })],
  ['kubeconfig that does not exist', 'kubeconfig', ps({ kubeconfig: '/nonexistent/kubeconfig' })],
  ['kubeconfig without a current context', 'kube-context', ps({ kubeconfig: noContext })],
  ['kube-context not in the kubeconfig', 'kube-context', ps({ 'kube-context': 'nope' })],
  ['kubeconfig inline that is not YAML', 'kubeconfig', ps({ kubeconfig: 'apiVersion: v1\nclusters: [oops' })],
  ['managed-identity on a plain cluster', 'auth-method', { 'cluster-type': 'kubernetes', 'auth-method': 'managed-identity' }],
  ['create-secret with managed-identity', 'create-secret', aks({ 'auth-method': 'managed-identity', 'create-secret': 'true' })],
  [
    'service-principal credentials without the client id',
    'service-principal-client-id',
    { 'credential-type': 'service-principal', 'service-principal-secret': 'x' },
  ],
  [
    'service-principal credentials without a secret',
    'service-principal-secret',
    { 'credential-type': 'service-principal', 'service-principal-client-id': guid },
  ],
  [
    'create-secret together with a given secret',
    'create-secret',
    aks({ 'auth-method': 'service-principal', 'create-secret': 'true', 'service-principal-secret': 'x' }),
  ],
  ['aks without a cluster', 'cluster-name', { 'cluster-type': 'aks' }],
  [
    'registry-resource-group with a resource id',
    'registry-resource-group',
    {
      registry: `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`,
      'registry-resource-group': 'rg',
    },
  ],
  ['registry-subscription-id not a GUID', 'registry-subscription-id', { 'registry-subscription-id': 'x' }],
  ['cluster-subscription-id not a GUID', 'cluster-subscription-id', aks({ 'cluster-subscription-id': 'x' })],
  ['cluster-resource-group ending in a period', 'cluster-resource-group', aks({ 'cluster-resource-group': 'rg.' })],
  [
    'cluster given as rg/name without any subscription',
    'subscription-id',
    { registry: 'contosoacr', clusters: 'rg-aks/aks-mi', 'subscription-id': '' },
  ],
];

test(`${CASES.length} bad inputs fail with one error naming the input and no request`, async () => {
  assert.ok(CASES.length >= 40);
  const outcomes = await mapLimit(CASES, 4, async ([name, input, inputs]) => {
    const r = await runAction(emu, { ...azureInputs(emu), registry: 'contosoacr', ...inputs });
    return { name, input, r };
  });
  const failures: string[] = [];
  for (const o of outcomes) {
    if (o.status === 'rejected') {
      failures.push(String(o.reason));
      continue;
    }
    const { name, input, r } = o.value;
    const why: string[] = [];
    if (r.code !== 1) why.push(`exit code ${r.code}`);
    if (r.errors.length !== 1) why.push(`${r.errors.length} ::error:: lines`);
    else if (!r.errors[0].includes(`Input '${input}'`)) why.push(`error does not name '${input}': ${r.errors[0]}`);
    if (/\n\s+at /.test(r.stdout + r.stderr)) why.push('printed a stack trace');
    if (why.length) failures.push(`${name}: ${why.join(', ')}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(emu.requests.length, 0, `the emulator received requests: ${emu.requests.map((q) => `${q.method} ${q.path}`).join(', ')}`);
  recordFigure('bad inputs', {
    text: `${CASES.length - failures.length} of ${CASES.length} rejected with exit code 1, one ::error:: line naming the input, and ${emu.requests.length} requests to the emulator`,
  });
});
