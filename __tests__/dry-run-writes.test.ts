// The dry run plans exactly the writes the real run makes, held to the emulator's request log:
// for every scenario that writes (managed-identity and service-principal attach/detach, with
// create-secret and reset; pull-secret attach/detach for each credential type), the scenario runs
// in-process twice from the same state (the dry run writes nothing), once with dry-run and once
// without, with the real clients (src/azure/, src/kube/) pointed at the emulator. Then:
//   - the dry run sent no write at all;
//   - each planned write (Result.writes) is matched, in order, by the one request that makes it
//     (method and path, mapped here from the services' REST APIs, not from src/), and the real
//     run sent no other write;
//   - the real run reports the same writes it planned.
// The one request the plan does not list is the idempotent PUT of a role assignment that is
// already there (an unconditioned grant is one PUT, without reading first); the test names it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSettings } from '../src/inputs/index.ts';
import { scenario } from '../src/main.ts';
import type { Deps } from '../src/deps.ts';
import type { Result, Write } from '../src/result.ts';
import type { RequestLogEntry } from '../emulator/types.ts';
import { assignmentName } from '../src/roles.ts';
import { sleep } from '../src/retry.ts';
import { CLUSTER_SP_APP_ID, CLUSTER_SP_SECRET, TENANT_B, SUB_B } from '../emulator/ids.ts';
import { azureInputs } from './helpers/harness.ts';
import { useEmulator } from './helpers/emulator.ts';
import { fakeRunner } from './helpers/fakes.ts';

// <registry>.azurecr.localhost -> the emulator (the data-plane checks and the exchange)
await import(pathToFileURL(join(import.meta.dirname, '..', 'emulator', 'resolve-hook.mjs')).href);

const emu = useEmulator({ reset: false });

function deps(inputs: Record<string, string>): Deps {
  const env = { ...emu.env(), ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS: '20' };
  const runner = fakeRunner(inputs);
  return {
    runner,
    env,
    now: () => new Date(),
    sleep,
    azure: async (settings) => {
      const { createSession } = await import('../src/azure/session.ts');
      const session = createSession(settings, runner, env, undefined);
      const { createAzureClients } = await import('../src/azure/index.ts');
      return createAzureClients(settings, runner, env, session);
    },
    kube: async (source) => (await import('../src/kube/client.ts')).createKubeClient(source, { debug: () => undefined }),
  };
}

async function runOnce(inputs: Record<string, string>): Promise<{ result: Result; log: RequestLogEntry[] }> {
  const first = emu.requests.length;
  const result = await scenario(
    readSettings((n) => inputs[n] ?? ''),
    deps(inputs),
  );
  return { result, log: emu.requests.slice(first) };
}

/** Requests that change something: not reads, not token services, not LRO polls; listCredentials only reads. */
const isWrite = (q: RequestLogEntry) =>
  q.method !== 'GET' &&
  !/\/oauth2\//.test(q.path) &&
  !/\/oauth2\/v2\.0\/token$/.test(q.path) &&
  !q.path.endsWith('/listCredentials') &&
  q.service !== 'github';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The request a planned write is made with, from the services' REST APIs. */
function request(w: Write): { method: string[]; path: RegExp } {
  const at = (p: string) => new RegExp(`^${p}$`, 'i');
  switch (w.kind) {
    case 'provision-principal':
      return { method: ['POST'], path: at('(/graph)?/v1\\.0/servicePrincipals') };
    case 'grant':
      return {
        method: ['PUT'],
        path: at(
          `${esc(w.scope)}/providers/Microsoft\\.Authorization/roleAssignments/${w.principalId ? assignmentName(w.scope, w.roleGuid, w.principalId) : '[0-9a-f-]{36}'}`,
        ),
      };
    case 'revoke':
      return { method: ['DELETE'], path: at(esc(w.id)) };
    case 'add-client-secret':
      return { method: ['POST'], path: at(`(/graph)?/v1\\.0/applications\\(appId='${w.appId}'\\)/addPassword`) };
    case 'reset-credentials':
      return { method: ['POST'], path: at(`${esc(w.clusterId)}/resetServicePrincipalProfile`) };
    case 'put-scope-map':
      return { method: ['PUT'], path: at(`${esc(w.registryId)}/scopeMaps/${w.name}`) };
    case 'create-token':
      return { method: ['PUT'], path: at(`${esc(w.registryId)}/tokens/${w.name}`) };
    case 'update-token':
      return { method: ['PATCH'], path: at(`${esc(w.registryId)}/tokens/${w.name}`) };
    case 'generate-password':
      return { method: ['POST'], path: at(`${esc(w.registryId)}/generateCredentials`) };
    case 'delete-token':
      return { method: ['DELETE'], path: at(`${esc(w.registryId)}/tokens/${w.name}`) };
    case 'delete-scope-map':
      return { method: ['DELETE'], path: at(`${esc(w.registryId)}/scopeMaps/${w.name}`) };
    case 'create-namespace':
      return { method: ['POST'], path: at('/api/v1/namespaces') };
    case 'create-secret':
      return { method: ['POST'], path: at(`/api/v1/namespaces/${w.namespace}/secrets`) };
    case 'apply-secret':
      return { method: ['PATCH'], path: at(`/api/v1/namespaces/${w.namespace}/secrets/${w.name}`) };
    case 'delete-secret':
      return { method: ['DELETE'], path: at(`/api/v1/namespaces/${w.namespace}/secrets/${w.name}`) };
    case 'set-image-pull-secrets':
      return { method: ['PATCH'], path: at(`/api/v1/namespaces/${w.namespace}/serviceaccounts/${w.serviceAccount}`) };
  }
}

const label = (q: RequestLogEntry) => `${q.method} ${q.path} (${q.status})`;
/** Namespaces are written concurrently: compare each one's writes in order, Azure's first. */
const scopeOf = (w: Write) => ('namespace' in w ? w.namespace : '');
const scopeOfRequest = (q: RequestLogEntry) => /^\/api\/v1\/namespaces\/([^/]+)\//.exec(q.path)?.[1] ?? (q.path === '/api/v1/namespaces' ? '?' : '');

/**
 * Matches the planned writes to the write requests, in order per namespace (a namespace create is
 * matched to the first POST /api/v1/namespaces left); returns what did not match.
 */
function match(planned: readonly Write[], requests: RequestLogEntry[]): { unplanned: RequestLogEntry[]; missing: Write[] } {
  const left = [...requests];
  const missing: Write[] = [];
  for (const w of planned) {
    const want = request(w);
    const scope = scopeOf(w);
    const i = left.findIndex(
      (q) => want.method.includes(q.method) && want.path.test(q.path) && (scope === '' || [scope, '?'].includes(scopeOfRequest(q))),
    );
    // nothing of the same scope may come before it unmatched
    const earlier = left.slice(0, Math.max(i, 0)).filter((q) => scopeOfRequest(q) === scope && scope !== '');
    if (i < 0 || earlier.length) missing.push(w);
    else left.splice(i, 1);
  }
  return { unplanned: left, missing };
}

interface Scenario {
  name: string;
  inputs: Record<string, string>;
  /** runs first, from the seed (e.g. an attach before a detach) */
  setup?: Record<string, string>[];
  /** the real run's idempotent role-assignment PUTs that the plan rightly leaves out */
  idempotentPuts?: number;
}

const MI = { 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' };
const SP = { 'cluster-name': 'aks-sp', 'cluster-resource-group': 'rg-aks', 'auth-method': 'service-principal' };
const CROSS = { registry: 'tenantbacr', 'registry-subscription-id': SUB_B, 'registry-tenant-id': TENANT_B };
const PS = { registry: 'contosoacr', namespaces: 'team-a,team-b', 'service-accounts': 'default' };
const SOURCES: Record<string, Record<string, string>> = {
  token: {},
  'service-principal': {
    'credential-type': 'service-principal',
    'service-principal-client-id': CLUSTER_SP_APP_ID,
    'service-principal-secret': CLUSTER_SP_SECRET,
  },
  'service-principal (create-secret)': {
    'credential-type': 'service-principal',
    'service-principal-client-id': CLUSTER_SP_APP_ID,
    'create-secret': 'true',
  },
  admin: { 'credential-type': 'admin', registry: 'adminacr' },
  exchange: { 'credential-type': 'exchange' },
  basic: { 'credential-type': 'basic', username: 'puller', password: 'Pa55word~1' },
};

/** the inputs as given, signed in to the emulator when the test runs (azureInputs needs it started) */
const az = (inputs: Record<string, string>) => ({ ...inputs, [AZURE]: 'yes' });
const AZURE = '(sign in to the emulator)';
const withLogin = (inputs: Record<string, string>) => {
  const { [AZURE]: azure, ...rest } = inputs;
  return azure ? azureInputs(emu, rest) : rest;
};

const scenarios = (): Scenario[] => [
  { name: 'managed-identity attach', inputs: az({ registry: 'contosoacr', ...MI }) },
  { name: 'managed-identity attach, ABAC with repositories', inputs: az({ registry: 'abacacr', repositories: 'app/*', ...MI }) },
  {
    name: 'managed-identity attach, ABAC with other repositories (the condition is updated)',
    setup: [az({ registry: 'abacacr', repositories: 'team/*', ...MI })],
    inputs: az({ registry: 'abacacr', repositories: 'app/*', ...MI }),
  },
  {
    name: 'managed-identity attach again (the one idempotent PUT)',
    setup: [az({ registry: 'contosoacr', ...MI })],
    inputs: az({ registry: 'contosoacr', ...MI }),
    idempotentPuts: 1,
  },
  {
    name: 'managed-identity detach',
    setup: [az({ registry: 'contosoacr', ...MI })],
    inputs: az({ registry: 'contosoacr', operation: 'detach', ...MI }),
  },
  { name: 'service-principal attach', inputs: az({ registry: 'contosoacr', ...SP }) },
  { name: 'service-principal attach across tenants (provisions the principal)', inputs: az({ ...CROSS, ...SP }) },
  {
    name: 'service-principal attach with create-secret and reset',
    inputs: az({ registry: 'contosoacr', ...SP, 'create-secret': 'true', 'reset-cluster-credentials': 'true' }),
  },
  {
    name: 'service-principal attach with the given secret and reset',
    inputs: az({ registry: 'contosoacr', ...SP, 'service-principal-secret': CLUSTER_SP_SECRET, 'reset-cluster-credentials': 'true' }),
  },
  { name: 'service-principal detach', setup: [az({ ...CROSS, ...SP })], inputs: az({ ...CROSS, ...SP, operation: 'detach' }) },
  ...Object.entries(SOURCES).flatMap(([type, extra]): Scenario[] => [
    { name: `pull-secret ${type} attach`, inputs: az({ ...PS, ...extra }) },
    {
      name: `pull-secret ${type} attach into a new namespace`,
      inputs: az({ ...PS, namespaces: 'team-a,fresh-ns', 'create-namespaces': 'true', ...extra }),
    },
    { name: `pull-secret ${type} detach`, setup: [az({ ...PS, ...extra })], inputs: az({ ...PS, ...extra, operation: 'detach' }) },
  ]),
];

describe('the dry run plans exactly the writes the real run makes (emulator request log)', () => {
  for (const s of scenarios()) {
    test(s.name, async () => {
      tls.setDefaultCACertificates([...tls.getCACertificates('default'), emu.caCertPem]);
      emu.reset();
      for (const inputs of s.setup ?? []) {
        const { result } = await runOnce(withLogin(inputs));
        assert.ok(
          result.results.every((r) => r.ok),
          `setup: ${JSON.stringify(result.results.map((r) => r.error))}`,
        );
      }
      const dry = await runOnce({ ...withLogin(s.inputs), 'dry-run': 'true' });
      assert.ok(
        dry.result.results.every((r) => r.ok),
        JSON.stringify(dry.result.results),
      );
      // so the real run starts from the very state the dry run planned from
      assert.deepEqual(dry.log.filter(isWrite).map(label), [], 'the dry run writes nothing');

      const real = await runOnce(withLogin(s.inputs));
      assert.ok(
        real.result.results.every((r) => r.ok),
        JSON.stringify(real.result.results.map((r) => r.error)),
      );
      const writes = real.log.filter(isWrite);
      const { unplanned, missing } = match(dry.result.writes, writes);
      assert.deepEqual(missing, [], `planned but not sent (or out of order); sent: ${writes.map(label).join(', ')}`);
      const idempotent = unplanned.filter((q) => q.method === 'PUT' && /roleAssignments\//.test(q.path) && q.status === 200);
      assert.equal(idempotent.length, s.idempotentPuts ?? 0, `idempotent PUTs: ${idempotent.map(label).join(', ')}`);
      assert.deepEqual(unplanned.filter((q) => !idempotent.includes(q)).map(label), [], 'sent but not planned');
      // what the real run reports having written is what it planned (a provisioned principal's id is new)
      const plain = (ws: readonly Write[]) => ws.map((w) => (w.kind === 'grant' ? { ...w, principalId: undefined } : w));
      assert.deepEqual(
        plain(real.result.writes)
          .map((w) => JSON.stringify(w))
          .sort(),
        plain(dry.result.writes)
          .map((w) => JSON.stringify(w))
          .sort(),
      );
      assert.ok(dry.result.writes.length > 0 || s.idempotentPuts, 'the scenario writes something');
    });
  }
});
