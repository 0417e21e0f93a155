// The pull-secret scenario in-process over in-memory fakes (helpers/fakes.ts), table-driven:
// credential sources × namespace states × secret states × service accounts × operations. For
// every case the dry run writes nothing and plans exactly the writes the real run makes (a prefix
// of them when the real run fails part-way), Result.writes is what the fake clients saw, each
// namespace's changed/ok agree between the two runs, the end state is the one asked for, and a
// second real run writes nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readSettings } from '../src/inputs/index.ts';
import { scenario } from '../src/main.ts';
import type { Result, Write } from '../src/result.ts';
import { MANAGER, parseDockerConfig, renderSecret, stableJson, withRegistry } from '../src/kube/render.ts';
import { registryRecord } from '../src/scenarios/pull-secret/secret-entry.ts';
import { MANAGED_SCOPE_MAP_DESCRIPTION, scopeMapActions } from '../src/scenarios/pull-secret/sources/token.ts';
import {
  KUBECONFIG,
  LOGIN_TENANT,
  SUB,
  addSecret,
  addServiceAccount,
  azureWorld,
  fakeDeps,
  kubeWorld,
  managedEntry,
  secretPaths,
  registry,
  type AzureWorld,
  type KubeWorld,
  type LoggedWrite,
} from './helpers/fakes.ts';

const LOGIN = { 'client-id': 'd0000000-0000-4000-8000-000000000001', 'tenant-id': LOGIN_TENANT, 'client-secret': 's', 'subscription-id': SUB };
const REG = registry('contosoacr');
const SERVER = REG.loginServer;
const APP = 'c0000000-0000-4000-8000-000000000001';
const TOKEN = 'kube-pull-ci';
const NOW = new Date('2025-06-01T00:00:00Z');
const KEPT_PASSWORD = 'pw-kept-password1';
const KEPT_EXPIRY = '2025-08-29T00:00:00.000Z';
const DOCKER = 'kubernetes.io/dockerconfigjson';
type LiveSecretLike = { data?: Record<string, string> };
/** The same object, but for its resourceVersion (the fakes count them across worlds). */
const sameObject = (a: { metadata: object } | undefined, b: { metadata: object } | undefined) => {
  const strip = (x: { metadata: object } | undefined) => x && { ...x, metadata: { ...x.metadata, resourceVersion: '' } };
  return stableJson(strip(a)) === stableJson(strip(b));
};

type Source = 'basic' | 'token-new' | 'token-ours' | 'token-foreign' | 'token-narrower' | 'admin' | 'sp-given' | 'sp-create';
type SecretState =
  | 'missing-namespace'
  | 'absent'
  | 'ours-same'
  | 'ours-older'
  | 'other-registry'
  | 'wrong-type'
  /** made by the action (its create: an Update entry), with this registry's entry and another registry's */
  | 'ours-shared'
  /** `kubectl create secret docker-registry` for another registry, then a label and a key by kubectl */
  | 'kubectl-other'
  /** `kubectl create secret docker-registry` for this registry: an entry the action did not write */
  | 'kubectl-entry'
  /** applied server-side by field manager helm, with Helm's labels and annotations, for another registry */
  | 'helm-other'
  /** the same, rendering an entry for this registry */
  | 'helm-entry'
  /** Opaque, with a .dockerconfigjson key holding this registry */
  | 'opaque-entry';

/** Another party's entry for this registry (the action did not write it): detach leaves it. */
const FOREIGN_ENTRY: SecretState[] = ['kubectl-entry', 'helm-entry'];
/** Refused by attach (and, where it would write, by detach): a declarative tool's or another type. */
const REFUSED: Record<'attach' | 'detach', SecretState[]> = {
  attach: ['wrong-type', 'helm-other', 'helm-entry', 'opaque-entry'],
  detach: ['wrong-type', 'opaque-entry'],
};

const sourceInputs: Record<Source, Record<string, string>> = {
  basic: { 'credential-type': 'basic', username: 'puller', password: 'Pa55word' },
  'token-new': { 'token-name': TOKEN },
  'token-ours': { 'token-name': TOKEN },
  'token-foreign': { 'token-name': TOKEN },
  'token-narrower': { 'token-name': TOKEN, repositories: 'app/web' },
  admin: { 'credential-type': 'admin' },
  'sp-given': { 'credential-type': 'service-principal', 'service-principal-client-id': APP, 'service-principal-secret': 'sp-secret' },
  'sp-create': { 'credential-type': 'service-principal', 'service-principal-client-id': APP, 'create-secret': 'true' },
};

/** The credential a live secret holds when it is "ours-same": what this source would write again. */
function sameCredential(source: Source): { username: string; password: string; type: string; expiresOn?: string; slot?: string } | undefined {
  if (source === 'basic') return { username: 'puller', password: 'Pa55word', type: 'basic' };
  if (source === 'token-ours') return { username: TOKEN, password: KEPT_PASSWORD, type: 'token', expiresOn: KEPT_EXPIRY, slot: 'password1' };
  if (source === 'admin') return { username: 'contosoacr', password: 'admin-pw', type: 'admin' };
  if (source === 'sp-given') return { username: APP, password: 'sp-secret', type: 'service-principal' };
  return undefined;
}

function azureFor(source: Source): AzureWorld {
  const w = azureWorld({
    registries: [REG],
    admin: { [REG.id]: { username: 'contosoacr', password: 'admin-pw' } },
    principals: { '': [{ id: 'c1000000-0000-4000-8000-000000000001', appId: APP, appOwnerOrganizationId: LOGIN_TENANT }] },
    applications: [{ id: 'c9', appId: APP, passwordCredentials: [] }],
  });
  const mapId = `${REG.id}/scopeMaps/${TOKEN}-scope`;
  if (source === 'token-ours' || source === 'token-narrower') {
    w.scopeMaps[REG.id] = {
      [`${TOKEN}-scope`]: { id: mapId, name: `${TOKEN}-scope`, description: MANAGED_SCOPE_MAP_DESCRIPTION, actions: scopeMapActions([]) },
    };
    w.tokens[REG.id] = {
      [TOKEN]: {
        id: `${REG.id}/tokens/${TOKEN}`,
        name: TOKEN,
        scopeMapId: mapId,
        status: 'enabled',
        passwords: [{ name: 'password1', creationTime: '2025-05-31T00:00:00.000Z', expiry: KEPT_EXPIRY }],
      },
    };
  }
  if (source === 'token-foreign') {
    w.tokens[REG.id] = {
      [TOKEN]: {
        id: `${REG.id}/tokens/${TOKEN}`,
        name: TOKEN,
        scopeMapId: `${REG.id}/scopeMaps/_repositories_pull`,
        status: 'disabled',
        passwords: [],
      },
    };
  }
  return w;
}

function kubeFor(source: Source, states: SecretState[], sa: boolean): KubeWorld {
  const namespaces = states.map((_, i) => `ns-${i}`);
  const w = kubeWorld(namespaces.filter((_, i) => states[i] !== 'missing-namespace'));
  states.forEach((state, i) => {
    const ns = namespaces[i];
    const name = 'acr-contosoacr';
    if (sa && state !== 'missing-namespace' && i % 2 === 1) addServiceAccount(w, ns, 'default', [name]);
    const put = (config: ReturnType<typeof withRegistry>, registries: Record<string, ReturnType<typeof registryRecord>>) => {
      const s = renderSecret({ name, namespace: ns, config, registries });
      addSecret(w, { type: s.type, data: s.data, metadata: { name, namespace: ns, labels: s.metadata.labels, annotations: s.metadata.annotations } });
    };
    const same = sameCredential(source);
    if (state === 'ours-same' && same)
      put(withRegistry(undefined, SERVER, same.username, same.password), { [SERVER]: registryRecord(same.type, same) });
    if (state === 'ours-same' && !same)
      put(withRegistry(undefined, SERVER, 'someone', 'old'), { [SERVER]: { credentialType: 'token', username: 'someone' } });
    if (state === 'ours-older')
      put(withRegistry(undefined, SERVER, 'puller', 'old-password'), { [SERVER]: { credentialType: 'basic', username: 'puller' } });
    if (state === 'other-registry') put(withRegistry(undefined, 'other.example.com', 'u', 'p'), {});
    if (state === 'wrong-type') addSecret(w, { type: 'Opaque', data: { '.dockerconfigjson': 'e30=' }, metadata: { name, namespace: ns } });
    const base64 = (config: ReturnType<typeof withRegistry>) => Buffer.from(JSON.stringify(config)).toString('base64');
    if (state === 'ours-shared') {
      const entry = same ?? { username: 'puller', password: 'old-password', type: 'basic' };
      const s = renderSecret({
        name,
        namespace: ns,
        config: withRegistry(withRegistry(undefined, 'other.example.com', 'u', 'p'), SERVER, entry.username, entry.password),
        registries: { [SERVER]: registryRecord(entry.type, entry) },
      });
      addSecret(w, {
        type: s.type,
        data: s.data,
        metadata: { ...s.metadata, managedFields: [managedEntry(MANAGER, 'Update', secretPaths(s))] },
      });
    }
    if (state === 'kubectl-other' || state === 'kubectl-entry') {
      const server = state === 'kubectl-other' ? 'ghcr.io' : SERVER;
      const data = { '.dockerconfigjson': base64(withRegistry(undefined, server, 'octo', 'octo-pw')), 'ca.crt': 'bm90IGEgc2VjcmV0' };
      addSecret(w, {
        type: DOCKER,
        data,
        metadata: {
          name,
          namespace: ns,
          labels: { team: 'a' },
          managedFields: [
            managedEntry('kubectl-create', 'Update', [['f:type'], ['f:data', 'f:.dockerconfigjson']]),
            managedEntry('kubectl-label', 'Update', [['f:metadata', 'f:labels', 'f:team']]),
            managedEntry('kubectl-patch', 'Update', [['f:data', 'f:ca.crt']]),
          ],
        },
      });
    }
    if (state === 'helm-other' || state === 'helm-entry') {
      const config = withRegistry(undefined, 'ghcr.io', 'chart', 'chart-pw');
      const labels = { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'web' };
      const annotations = { 'meta.helm.sh/release-name': 'web', 'meta.helm.sh/release-namespace': ns };
      const secret = {
        type: DOCKER,
        data: { '.dockerconfigjson': base64(state === 'helm-entry' ? withRegistry(config, SERVER, 'chart', 'chart-pw') : config) },
      };
      addSecret(w, {
        ...secret,
        metadata: {
          name,
          namespace: ns,
          labels,
          annotations,
          managedFields: [managedEntry('helm', 'Apply', secretPaths({ ...secret, metadata: { labels, annotations } }))],
        },
      });
    }
    if (state === 'opaque-entry')
      addSecret(w, {
        type: 'Opaque',
        data: { '.dockerconfigjson': base64(withRegistry(undefined, SERVER, 'u', 'p')) },
        metadata: { name, namespace: ns },
      });
  });
  return w;
}

interface Case {
  name: string;
  inputs: Record<string, string>;
  source: Source;
  states: SecretState[];
  sa: boolean;
  /** the real run mints a new secret each time (a second run would ask the registry, out of reach here) */
  mints?: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  const stateSets: SecretState[][] = [
    ['absent'],
    ['ours-same'],
    ['ours-older'],
    ['other-registry'],
    ['wrong-type'],
    ['missing-namespace'],
    ['absent', 'ours-same'],
    ['missing-namespace', 'other-registry'],
    ['ours-same', 'ours-same'],
    ['wrong-type', 'absent'],
    ['ours-shared'],
    ['kubectl-other'],
    ['kubectl-entry'],
    ['helm-other'],
    ['helm-entry'],
    ['opaque-entry', 'kubectl-other'],
  ];
  for (const source of Object.keys(sourceInputs) as Source[])
    for (const states of stateSets)
      for (const sa of [false, true])
        for (const operation of ['attach', 'detach'] as const) {
          const namespaces = states.map((_, i) => `ns-${i}`).join(',');
          out.push({
            name: `${source} ${operation} [${states.join(', ')}]${sa ? ' service-accounts: default' : ''}`,
            source,
            states,
            sa,
            mints: source === 'sp-create',
            inputs: {
              registry: 'contosoacr',
              namespaces,
              kubeconfig: KUBECONFIG,
              operation,
              ...(states.includes('missing-namespace') ? { 'create-namespaces': 'true' } : {}),
              ...(sa ? { 'service-accounts': 'default' } : {}),
              ...sourceInputs[source],
              ...(source === 'basic' ? {} : LOGIN),
            },
          });
        }
  for (const source of ['basic', 'token-new', 'token-ours', 'admin'] as Source[])
    out.push({
      name: `${source} render`,
      source,
      states: [],
      sa: false,
      inputs: { registry: 'contosoacr', namespaces: 'a,b', apply: 'false', ...sourceInputs[source], ...(source === 'basic' ? {} : LOGIN) },
    });
  return out;
}

async function run(c: Case, azure: AzureWorld, kube: KubeWorld, dryRun: boolean): Promise<Result> {
  const inputs: Record<string, string> = { ...c.inputs, 'dry-run': String(dryRun) };
  const deps = fakeDeps({ inputs, azure, kube, now: NOW });
  return scenario(
    readSettings((n) => inputs[n] ?? ''),
    deps,
  );
}

const effective = (logs: readonly LoggedWrite[][]) => logs.flatMap((l) => l.filter((x) => x.effective).map((x) => x.write));
/**
 * Namespaces are written concurrently: the Azure writes in order, then each namespace's writes in
 * order, namespaces in input order (a stable sort by namespace keeps each one's own order).
 */
function ordered(writes: readonly Write[]): Write[] {
  const ns = (w: Write) => ('namespace' in w ? w.namespace : '');
  return [...writes].sort((a, b) => ns(a).localeCompare(ns(b)));
}
/** grants to a principal provisioned in the run, and generated slots, are written as the plan names them */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('pull-secret plan = writes (in-process, fakes)', () => {
  const all = cases();
  test(`${all.length} cases: the dry run plans exactly what the real run writes`, async () => {
    assert.ok(all.length >= 300, `${all.length} cases`);
    const problems: string[] = [];
    for (const c of all) {
      const fail = (what: string) => problems.push(`${c.name}: ${what}`);
      const [dryAzure, dryKube] = [azureFor(c.source), kubeFor(c.source, c.states, c.sa)];
      const dry = await run(c, dryAzure, dryKube, true);
      const [azure, kube] = [azureFor(c.source), kubeFor(c.source, c.states, c.sa)];
      const real = await run(c, azure, kube, false);
      if (dryAzure.log.length || dryKube.log.length) fail(`the dry run wrote ${JSON.stringify([...dryAzure.log, ...dryKube.log])}`);
      // Azure writes come first, then each namespace's, in input order
      const made = effective([azure.log, kube.log]);
      const realOk = real.results.every((r) => r.ok);
      const dryOk = dry.results.every((r) => r.ok);
      if (realOk !== dryOk) fail(`dry ok=${dryOk} but real ok=${realOk}: ${JSON.stringify(real.results.map((r) => r.error))}`);
      if (realOk && !same(ordered(dry.writes), ordered(made))) fail(`planned ${JSON.stringify(dry.writes)} but wrote ${JSON.stringify(made)}`);
      if (!same(ordered(real.writes), ordered(made)))
        fail(`Result.writes ${JSON.stringify(real.writes)} but the clients saw ${JSON.stringify(made)}`);
      for (const l of [...azure.log, ...kube.log].filter((x) => !x.effective)) if (l.write.kind !== 'grant') fail(`an ineffective ${l.write.kind}`);
      dry.results.forEach((d, i) => {
        const r = real.results[i];
        if (d.ok !== r.ok) fail(`${d.target}: dry ok=${d.ok}, real ok=${r.ok} (${r.error ?? d.error})`);
        if (d.ok && r.ok && d.changed !== r.changed)
          fail(`${d.target}: dry changed=${d.changed} (${d.action}), real changed=${r.changed} (${r.action})`);
      });
      if (realOk && dry.changed !== real.changed) fail(`changed: dry ${dry.changed}, real ${real.changed}`);
      // ownership: what is someone else's is as it was; a refused Secret is not written at all
      const op = (c.inputs.operation ?? 'attach') as 'attach' | 'detach';
      const initial = kubeFor(c.source, c.states, c.sa);
      c.states.forEach((state, i) => {
        if (c.inputs.apply === 'false') return;
        const key = `ns-${i}/acr-contosoacr`;
        const was = initial.secrets.get(key);
        const now = kube.secrets.get(key);
        const result = real.results.find((r) => r.target === `ns-${i}`);
        if (REFUSED[op].includes(state)) {
          if (result?.ok) fail(`${op} into ${state} was not refused`);
          if (!sameObject(now, was)) fail(`${op} wrote into the refused ${state} secret`);
          return;
        }
        if (!was) return;
        const ours = was.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGER;
        if (!ours && !now) fail(`${op} deleted ${state}, a secret it did not make`);
        if (!now) return;
        const theirs = (m?: Record<string, string>) =>
          Object.fromEntries(
            Object.entries(m ?? {}).filter(([k]) => !k.startsWith('acr-kube-auth.github.io/') && !(ours && k === 'app.kubernetes.io/managed-by')),
          );
        if (JSON.stringify(theirs(now.metadata.labels)) !== JSON.stringify(theirs(was.metadata.labels))) fail(`${op} changed the labels of ${state}`);
        if (!ours && now.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGER) fail(`${op} marked ${state} as its own`);
        if (JSON.stringify(theirs(now.metadata.annotations)) !== JSON.stringify(theirs(was.metadata.annotations)))
          fail(`${op} changed the annotations of ${state}`);
        const otherKeys = (d?: Record<string, string>) => Object.entries(d ?? {}).filter(([k]) => k !== '.dockerconfigjson');
        if (JSON.stringify(otherKeys(now.data)) !== JSON.stringify(otherKeys(was.data))) fail(`${op} changed the other keys of ${state}`);
        const others = (x: LiveSecretLike) =>
          Object.entries(parseDockerConfig(x.data?.['.dockerconfigjson'])?.auths ?? {}).filter(([k]) => k !== SERVER);
        if (stableJson(others(now)) !== stableJson(others(was))) fail(`${op} changed other registries' entries in ${state}`);
        if (op === 'detach' && FOREIGN_ENTRY.includes(state)) {
          if (!sameObject(now, was)) fail(`detach wrote into ${state}`);
          if (!real.notices.some((n) => n.includes('that acr-kube-auth did not write')) || !dry.notices.some((n) => n.includes('did not write')))
            fail(`detach left the entry of ${state} without a notice`);
        }
      });
      if (!realOk) continue;
      // the end state asked for
      for (const ns of (c.inputs.namespaces ?? '').split(',').filter(() => c.inputs.apply !== 'false')) {
        const s = kube.secrets.get(`${ns}/acr-contosoacr`);
        const entry = parseDockerConfig(s?.data?.['.dockerconfigjson'])?.auths[SERVER];
        const listed = kube.serviceAccounts.get(`${ns}/default`)?.imagePullSecrets?.some((x) => x.name === 'acr-contosoacr');
        if (op === 'attach' && !entry) fail(`after attach ${ns} has no entry for ${SERVER}`);
        if (op === 'attach' && c.sa && !listed) fail(`after attach ${ns}/default does not list the secret`);
        const foreign = FOREIGN_ENTRY.includes(c.states[Number(ns.slice(3))]);
        if (op === 'detach' && entry && !foreign) fail(`after detach ${ns} still has the entry`);
        if (op === 'detach' && !entry && foreign) fail(`detach removed another party's entry in ${ns}`);
        if (op === 'detach' && c.sa && listed && !s) fail(`after detach ${ns}/default lists a secret that is gone`);
      }
      if (!c.mints && c.inputs.apply !== 'false') {
        const before = [azure.log.length, kube.log.length];
        const again = await run(c, azure, kube, false);
        const rewritten = effective([azure.log.slice(before[0]), kube.log.slice(before[1])]);
        if (rewritten.length || again.changed) fail(`a second run wrote ${JSON.stringify(rewritten)} (changed ${again.changed})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('a token whose password is good is kept: nothing is written anywhere', async () => {
    const c = all.find((x) => x.name === 'token-ours attach [ours-same]')!;
    const [azure, kube] = [azureFor(c.source), kubeFor(c.source, c.states, c.sa)];
    const r = await run(c, azure, kube, false);
    assert.equal(r.changed, false);
    assert.deepEqual(effective([azure.log, kube.log]), []);
    assert.match(r.plan.join('\n'), /kept the secret's password: password1 of token kube-pull-ci is valid until 2025-08-29/);
    const dry = await run(c, azureFor(c.source), kubeFor(c.source, c.states, c.sa), true);
    assert.match(dry.plan.join('\n'), /would keep the secret's password/);
    assert.match(dry.plan.join('\n'), /Secret ns-0\/acr-contosoacr already holds this credential/);
  });

  test('a secret of another type is refused by the dry run as by the real run, and left alone', async () => {
    const c = all.find((x) => x.name === 'basic attach [wrong-type, absent]')!;
    for (const dryRun of [true, false]) {
      const kube = kubeFor(c.source, c.states, c.sa);
      const r = await run(c, azureFor(c.source), kube, dryRun);
      assert.deepEqual(
        r.results.map((x) => x.ok),
        [false, true],
      );
      assert.match(r.results[0].error!, /exists with type 'Opaque'.*left alone/);
      assert.equal(kube.secrets.get('ns-0/acr-contosoacr')!.type, 'Opaque');
    }
  });

  test('credential-type service-principal without the right to provision: every namespace fails and consent-url is set', async () => {
    const c = all.find((x) => x.name === 'sp-given attach [absent]')!;
    const azure = azureFor(c.source);
    azure.principals = {};
    azure.canProvisionIn = [];
    const kube = kubeFor(c.source, c.states, c.sa);
    const r = await run({ ...c, inputs: { ...c.inputs } }, azure, kube, false);
    assert.deepEqual(
      r.results.map((x) => [x.target, x.ok]),
      [['ns-0', false]],
    );
    assert.match(r.results[0].error!, /must consent/);
    assert.equal(r.consentUrl, `https://login.microsoftonline.com/${LOGIN_TENANT}/adminconsent?client_id=${APP}`);
    assert.deepEqual(effective([azure.log, kube.log]), []);
  });
});
