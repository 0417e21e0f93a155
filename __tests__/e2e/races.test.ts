// Races: separate processes against one emulator at once, as matrix jobs run. Every run must end
// green and nothing may be lost. Attach against detach also runs in-process, round after round
// (the scenario with the real Kubernetes client, src/kube/client.ts, against the emulator), where
// hundreds of rounds cost seconds, not minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureInputs, basicInputs, runAction } from '../helpers/harness.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { fakeRunner } from '../helpers/fakes.ts';
import { readSettings } from '../../src/inputs/index.ts';
import { scenario } from '../../src/main.ts';
import { mapLimit } from '../../src/pool.ts';
import { sleep } from '../../src/retry.ts';
import type { Deps } from '../../src/deps.ts';
import type { KubeClient } from '../../src/kube/types.ts';
import type { KubeObject } from '../../emulator/types.ts';
import type { Result } from '../../src/result.ts';

const emu = useEmulator();

const N = 20;
const basic = (registry: string, extra: Record<string, string> = {}) => ({
  registry,
  'credential-type': 'basic',
  username: 'puller',
  password: `Pw-${registry}-x`,
  namespaces: 'team-a',
  ...extra,
});
const auths = (ns: string, name: string) => {
  const s = emu.state.kube.secrets[ns]?.[name] as unknown as { data: Record<string, string> } | undefined;
  return s ? Object.keys(JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString()).auths).sort() : [];
};

test(`${N} runs write ${N} different registries into the same secret: all green, the secret holds all ${N}`, async () => {
  const registries = Array.from({ length: N }, (_, i) => `reg${String(i).padStart(2, '0')}x.azurecr.io`);
  const runs = await Promise.all(registries.map((r) => runAction(emu, basic(r, { 'secret-name': 'shared-pull', 'service-accounts': 'default' }))));
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(N).fill(0),
    runs.map((r) => r.errors.join()).join('\n'),
  );
  assert.deepEqual(auths('team-a', 'shared-pull'), registries);
  const sa = emu.state.kube.serviceaccounts['team-a'].default as { imagePullSecrets?: { name: string }[] };
  assert.deepEqual(sa.imagePullSecrets, [{ name: 'shared-pull' }]);
  const conflicts = emu.requests.filter((q) => q.status === 409).length;
  recordFigure('race', {
    text: `${N} registries into one secret: ${N}/${N} green, ${auths('team-a', 'shared-pull').length} entries kept, ${conflicts} conflicts retried`,
  });
});

test(`${N} runs with the same registry: all green, one secret`, async () => {
  const runs = await Promise.all(Array.from({ length: N }, () => runAction(emu, basic('contosoacr.azurecr.io'))));
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(N).fill(0),
  );
  assert.deepEqual(Object.keys(emu.state.kube.secrets['team-a']), ['acr-contosoacr']);
  assert.deepEqual(auths('team-a', 'acr-contosoacr'), ['contosoacr.azurecr.io']);
  recordFigure('race', { text: `${N} runs, same registry: ${runs.filter((r) => r.code === 0).length}/${N} green, 1 secret` });
});

test(`${N} runs add ${N} different secrets to the same service account: none is lost`, async () => {
  const runs = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      runAction(emu, basic('contosoacr.azurecr.io', { 'secret-name': `pull-${i}`, 'service-accounts': 'default' })),
    ),
  );
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(N).fill(0),
  );
  const sa = emu.state.kube.serviceaccounts['team-a'].default as { imagePullSecrets?: { name: string }[] };
  assert.deepEqual(sa.imagePullSecrets!.map((s) => s.name).sort(), Array.from({ length: N }, (_, i) => `pull-${i}`).sort());
  recordFigure('race', { text: `${N} secrets into one service account: ${N}/${N} green, ${sa.imagePullSecrets!.length} references kept` });
});

test('attach and detach of a pull secret racing end in one of the two clean states', async () => {
  // Another registry shares the secret, so detach must remove only this registry's entry.
  assert.equal((await runAction(emu, basic('other.azurecr.io', { 'secret-name': 'shared' }))).code, 0);
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      runAction(emu, basic('contosoacr.azurecr.io', { 'secret-name': 'shared', operation: i % 2 ? 'detach' : 'attach' })),
    ),
  );
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(10).fill(0),
    runs.map((r) => r.errors.join()).join('\n'),
  );
  const end = auths('team-a', 'shared');
  assert.ok(
    JSON.stringify(end) === JSON.stringify(['contosoacr.azurecr.io', 'other.azurecr.io']) ||
      JSON.stringify(end) === JSON.stringify(['other.azurecr.io']),
    `end state ${JSON.stringify(end)}`,
  );
  recordFigure('race', {
    text: `attach/detach racing (10 runs): all green, end state ${end.length === 2 ? 'attached' : 'detached'} with the other registry kept`,
  });
});

const attach = (extra: Record<string, string> = {}) =>
  azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks', ...extra });
const pullAssignments = () =>
  Object.values(emu.state.roleAssignments).filter((a) => /acrpull|7f951dda/i.test(String(a.properties?.roleDefinitionId)));

test(`${N} runs attach the same cluster to the same registry: all green, exactly one role assignment`, async () => {
  const runs = await Promise.all(Array.from({ length: N }, () => runAction(emu, attach())));
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(N).fill(0),
    runs.map((r) => r.errors.join()).join('\n'),
  );
  assert.equal(pullAssignments().length, 1);
  const changed = runs.filter((r) => r.outputs.changed === 'true').length;
  recordFigure('race', {
    text: `${N} runs attach one cluster to one registry: ${N}/${N} green, ${pullAssignments().length} role assignment, ${changed} run(s) reported a change`,
  });
});

test('managed-identity attach and detach racing end in one of the two clean states', async () => {
  const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => runAction(emu, attach(i % 2 ? { operation: 'detach' } : {}))));
  assert.deepEqual(
    runs.map((r) => r.code),
    Array(10).fill(0),
    runs.map((r) => r.errors.join()).join('\n'),
  );
  const n = pullAssignments().length;
  assert.ok(n === 0 || n === 1, `${n} role assignments`);
  const other = Object.keys(emu.state.roleAssignments).length - n;
  assert.equal(other, 0, 'nothing else was created');
  recordFigure('race', {
    text: `managed-identity attach/detach racing (10 runs): all green, end state ${n ? 'attached' : 'detached'} (${n} assignment)`,
  });
});

// ------------------------------------------------------------------ attach against detach, in-process, many rounds

/** A small deterministic PRNG (mulberry32): the same rounds interleave the same way on every run of the suite. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The real Kubernetes client with a random pause (0-6 ms) before each call: test-side only, so
 * that the two runs' requests interleave in many orders, not in the one the event loop favours.
 */
function jittered(kube: KubeClient, random: () => number): KubeClient {
  const pause = () => sleep(Math.floor(random() * 7));
  const wrapped: Record<string, unknown> = { server: kube.server };
  for (const key of Object.keys(kube) as (keyof KubeClient)[]) {
    const v = kube[key];
    if (typeof v === 'function') wrapped[key] = async (...args: unknown[]) => (await pause(), (v as (...a: unknown[]) => unknown)(...args));
  }
  return wrapped as unknown as KubeClient;
}

function inProcessDeps(inputs: Record<string, string>, random: () => number): Deps {
  const env = emu.env();
  return {
    runner: fakeRunner(inputs),
    env,
    now: () => new Date(),
    sleep,
    azure: async () => {
      throw new Error('basic credentials sign in to no Azure');
    },
    kube: async (source) => jittered((await import('../../src/kube/client.ts')).createKubeClient(source), random),
  };
}

function runInProcess(inputs: Record<string, string>, random: () => number): Promise<Result> {
  return scenario(
    readSettings((n) => inputs[n] ?? ''),
    inProcessDeps(inputs, random),
  );
}

/** A namespace with its `default` service account, as the emulator's seed has team-a's. */
function seedNamespace(ns: string) {
  const kube = emu.state.kube;
  const base = kube.namespaces['team-a'] as KubeObject;
  kube.namespaces[ns] = {
    ...structuredClone(base),
    metadata: { ...structuredClone(base.metadata), name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
  };
  const sa = kube.serviceaccounts['team-a'].default as KubeObject;
  kube.serviceaccounts[ns] = { default: { ...structuredClone(sa), metadata: { ...structuredClone(sa.metadata), namespace: ns } } };
  kube.secrets[ns] = {};
}

type EndState = 'attached' | 'detached' | string;

/** Which of the two clean states a namespace is in, or what is broken about it. */
function endStateOf(ns: string, loginServer: string, withAccounts: boolean): EndState {
  const s = emu.state.kube.secrets[ns]?.['acr-contosoacr'] as unknown as { data: Record<string, string> } | undefined;
  const entry = s ? !!JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString()).auths?.[loginServer] : false;
  const listed = ((emu.state.kube.serviceaccounts[ns]?.default?.imagePullSecrets as { name: string }[] | undefined) ?? []).some(
    (r) => r.name === 'acr-contosoacr',
  );
  if (entry && (!withAccounts || listed)) return 'attached';
  if (!s && !listed) return 'detached';
  if (s && !entry) return `a secret without the entry${listed ? ', listed' : ''}`;
  return s ? 'the secret without the service account reference' : 'a service account reference to a missing secret';
}

const ROUNDS = 100;

for (const withAccounts of [true, false]) {
  test(`attach racing detach, ${ROUNDS} rounds in-process${withAccounts ? ' with service-accounts: default' : ''}: every run green, every round in one of the two clean states`, async () => {
    const random = prng(withAccounts ? 15 : 4);
    const loginServer = `contosoacr.azurecr.localhost:${emu.port}`;
    const rounds = Array.from({ length: ROUNDS }, (_, i) => i);
    const namespaces = rounds.map((i) => `race-${withAccounts ? 'sa' : 'nosa'}-${i}`);
    for (const ns of namespaces) seedNamespace(ns);
    const inputs = (ns: string, operation: string) =>
      basicInputs(emu, { namespaces: ns, operation, ...(withAccounts ? { 'service-accounts': 'default' } : {}) });
    // half the rounds start attached (detach deletes while attach re-creates), half detached
    const starts = await mapLimit(rounds, 8, async (i) =>
      i % 2 === 0 ? (await runInProcess(inputs(namespaces[i], 'attach'), random)).results.every((r) => r.ok) : true,
    );
    assert.ok(starts.every((x) => x.status === 'fulfilled' && x.value));
    const raced = await mapLimit(rounds, 8, async (i) => {
      const ns = namespaces[i];
      const lead = Math.floor(random() * 15);
      const [a, d] = await Promise.all([
        sleep(random() < 0.5 ? lead : 0).then(() => runInProcess(inputs(ns, 'attach'), random)),
        sleep(random() < 0.5 ? 0 : lead).then(() => runInProcess(inputs(ns, 'detach'), random)),
      ]);
      return {
        ns,
        green: [a, d].every((r) => r.results.every((x) => x.ok)),
        errors: [a, d].flatMap((r) => r.results.map((x) => x.error ?? '')).filter(Boolean),
      };
    });
    const outcomes = raced.map((r) => {
      assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
      return (r as PromiseFulfilledResult<{ ns: string; green: boolean; errors: string[] }>).value;
    });
    const states = outcomes.map((o) => endStateOf(o.ns, loginServer, withAccounts));
    const tally: Record<string, number> = {};
    for (const s of states) tally[s] = (tally[s] ?? 0) + 1;
    assert.deepEqual(
      outcomes.filter((o) => !o.green).map((o) => `${o.ns}: ${o.errors.join('; ')}`),
      [],
    );
    assert.deepEqual(
      states.map((s, i) => [namespaces[i], s]).filter(([, s]) => s !== 'attached' && s !== 'detached'),
      [],
      JSON.stringify(tally),
    );
    recordFigure('race', {
      text: `attach racing detach in-process${withAccounts ? ' (service-accounts: default)' : ''}: ${ROUNDS} rounds, ${ROUNDS * 2} runs all green, end states ${Object.entries(
        tally,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    });
  });
}

test('attach racing detach as separate processes (dist/index.js), 8 rounds with service-accounts: default: every run green, every round clean', async () => {
  const loginServer = `contosoacr.azurecr.localhost:${emu.port}`;
  const rounds = Array.from({ length: 8 }, (_, i) => i);
  const namespaces = rounds.map((i) => `race-dist-${i}`);
  for (const ns of namespaces) seedNamespace(ns);
  const inputs = (ns: string, operation: string) => basicInputs(emu, { namespaces: ns, operation, 'service-accounts': 'default' });
  for (const i of rounds) if (i % 2 === 0) assert.equal((await runAction(emu, inputs(namespaces[i], 'attach'))).code, 0);
  const raced = await mapLimit(rounds, 4, async (i) =>
    Promise.all([runAction(emu, inputs(namespaces[i], 'attach')), runAction(emu, inputs(namespaces[i], 'detach'))]),
  );
  const runs = raced.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  assert.equal(runs.length, 16);
  assert.deepEqual(
    runs.filter((r) => r.code !== 0).map((r) => r.errors.join()),
    [],
  );
  const states = namespaces.map((ns) => endStateOf(ns, loginServer, true));
  const tally: Record<string, number> = {};
  for (const st of states) tally[st] = (tally[st] ?? 0) + 1;
  assert.deepEqual(
    states.filter((st) => st !== 'attached' && st !== 'detached'),
    [],
    JSON.stringify(tally),
  );
  recordFigure('race', {
    text: `attach racing detach as processes (service-accounts: default): 8 rounds, 16 runs all green, end states ${Object.entries(tally)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  });
});
