// Races: separate processes against one emulator at once, as matrix jobs run. Every run must end
// green and nothing may be lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { recordFigure } from '../helpers/leaks.ts';
import { useEmulator } from '../helpers/emulator.ts';

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
