// The AKS methods in-process over in-memory fakes (helpers/fakes.ts), table-driven: cluster
// shapes × registry modes × roles × existing assignments × tenants × operations. For every case:
//   - the dry run writes nothing;
//   - the dry run's planned writes are exactly the writes the real run makes (as the fake clients
//     saw them), or, when the real run fails part-way, the real run's writes are a prefix of them;
//   - the real run's own account of its writes (Result.writes) is what the clients saw;
//   - each cluster's changed/ok agree between the dry and the real run;
//   - a second real run writes nothing (unless the case mints a new secret on purpose).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readSettings } from '../src/inputs/index.ts';
import { scenario } from '../src/main.ts';
import type { Result, TargetResult, Write } from '../src/result.ts';
import { ACR_PULL, ACR_PUSH, REPOSITORY_READER, assignmentName, repositoryCondition, sameCondition } from '../src/roles.ts';
import {
  LOGIN_TENANT,
  OTHER_TENANT,
  SUB,
  assignment,
  azureWorld,
  cluster,
  fakeDeps,
  registry,
  type AzureWorld,
  type LoggedWrite,
} from './helpers/fakes.ts';

const KUBELET = 'f0000000-0000-4000-8000-000000000001';
const APP = 'c0000000-0000-4000-8000-000000000001';
const SP_A = 'c1000000-0000-4000-8000-000000000001';
const SP_B = 'c1000000-0000-4000-8000-00000000000b';
const CUSTOM = 'c0ffee00-0000-4000-8000-000000000001';
const LOGIN = { 'client-id': 'd0000000-0000-4000-8000-000000000001', 'tenant-id': LOGIN_TENANT, 'client-secret': 's', 'subscription-id': SUB };

type Op = 'attach' | 'detach' | 'verify';
type Existing = 'none' | 'ours' | 'ours-other-condition' | 'foreign-name' | 'inherited' | 'other-role';

interface Case {
  name: string;
  inputs: Record<string, string>;
  world: () => AzureWorld;
  /** the real run adds a client secret or resets credentials: a second run writes again */
  mints?: boolean;
}

function existingFor(kind: Existing, registryId: string, roleGuid: string, principal: string, condition: string | undefined) {
  switch (kind) {
    case 'none':
      return [];
    case 'ours':
      return [assignment(registryId, roleGuid, principal, { condition: condition ?? null })];
    case 'ours-other-condition':
      return [assignment(registryId, roleGuid, principal, { condition: repositoryCondition(['old/*'])! })];
    case 'foreign-name':
      return [assignment(registryId, roleGuid, principal, { name: '0a0a0a0a-0000-4000-8000-000000000001', condition: condition ?? null })];
    case 'inherited':
      return [assignment(`/subscriptions/${SUB}/resourceGroups/rg-acr`, roleGuid, principal)];
    case 'other-role':
      return [assignment(registryId, roleGuid === ACR_PUSH ? ACR_PULL : ACR_PUSH, principal)];
  }
}

function cases(): Case[] {
  const out: Case[] = [];
  const regs = [
    { reg: registry('contosoacr'), abac: false },
    { reg: registry('abacacr', { roleAssignmentMode: 'AbacRepositoryPermissions' }), abac: true },
  ];
  const roles = [
    { input: 'auto', guid: (abac: boolean) => (abac ? REPOSITORY_READER : ACR_PULL) },
    { input: 'AcrPush', guid: () => ACR_PUSH },
    { input: 'Image Puller', guid: () => CUSTOM },
  ];
  const existings: Existing[] = ['none', 'ours', 'ours-other-condition', 'foreign-name', 'inherited', 'other-role'];
  for (const { reg, abac } of regs)
    for (const role of roles)
      for (const repos of abac ? [[], ['app/*']] : [[]]) {
        const condition = repos.length ? repositoryCondition(repos) : undefined;
        for (const existing of existings) {
          if (existing === 'ours-other-condition' && !condition) continue;
          const guid = role.guid(abac);
          for (const op of ['attach', 'detach', 'verify'] as Op[]) {
            const base = { registry: reg.name, role: role.input, repositories: repos.join('\n'), operation: op, ...LOGIN };
            // managed identity: the kubelet
            out.push({
              name: `managed-identity ${op} ${reg.name} role=${role.input} repos=${repos.length} existing=${existing}`,
              inputs: { ...base, 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' },
              world: () =>
                azureWorld({
                  registries: [reg],
                  clusters: [cluster('aks-mi', { kubeletObjectId: KUBELET })],
                  assignments: existingFor(existing, reg.id, guid, KUBELET, condition),
                  customRoles: { 'Image Puller': CUSTOM },
                }),
            });
            // service principal, same tenant and across tenants (principal there, missing, not provisionable)
            for (const tenant of ['same', 'cross-present', 'cross-missing', 'cross-denied'] as const) {
              if (tenant !== 'same' && existing !== 'none' && existing !== 'ours') continue;
              const cross = tenant !== 'same';
              const principal = cross ? SP_B : SP_A;
              out.push({
                name: `service-principal ${op} ${reg.name} role=${role.input} repos=${repos.length} existing=${existing} tenant=${tenant}`,
                inputs: {
                  ...base,
                  'cluster-name': 'aks-sp',
                  'cluster-resource-group': 'rg-aks',
                  ...(cross ? { 'registry-tenant-id': OTHER_TENANT } : {}),
                },
                world: () =>
                  azureWorld({
                    registries: [reg],
                    clusters: [cluster('aks-sp', { servicePrincipalClientId: APP, usesManagedIdentity: false })],
                    principals: {
                      '': [{ id: SP_A, appId: APP, appOwnerOrganizationId: LOGIN_TENANT }],
                      ...(tenant === 'cross-present' ? { [OTHER_TENANT]: [{ id: SP_B, appId: APP, appOwnerOrganizationId: LOGIN_TENANT }] } : {}),
                    },
                    applications: [{ id: 'c9', appId: APP, passwordCredentials: [{ keyId: 'k1', endDateTime: '2099-01-01T00:00:00Z' }] }],
                    canProvisionIn: tenant === 'cross-denied' ? [''] : ['', OTHER_TENANT],
                    assignments:
                      tenant === 'cross-missing' || tenant === 'cross-denied' ? [] : existingFor(existing, reg.id, guid, principal, condition),
                    customRoles: { 'Image Puller': CUSTOM },
                  }),
              });
            }
          }
        }
      }
  // create-secret and reset, and a reset with the given secret
  for (const reset of [{ 'create-secret': 'true' }, { 'service-principal-secret': 'given-secret' }] as Record<string, string>[])
    for (const tenant of ['same', 'cross'] as const)
      out.push({
        name: `service-principal attach with reset (${Object.keys(reset)[0]}) tenant=${tenant}`,
        inputs: {
          registry: 'contosoacr',
          'cluster-name': 'aks-sp',
          'cluster-resource-group': 'rg-aks',
          'auth-method': 'service-principal',
          'reset-cluster-credentials': 'true',
          ...reset,
          ...(tenant === 'cross' ? { 'registry-tenant-id': OTHER_TENANT } : {}),
          ...LOGIN,
        },
        mints: true,
        world: () =>
          azureWorld({
            registries: [registry('contosoacr')],
            clusters: [cluster('aks-sp', { servicePrincipalClientId: APP, usesManagedIdentity: false })],
            principals: { '': [{ id: SP_A, appId: APP, appOwnerOrganizationId: LOGIN_TENANT }] },
            applications: [{ id: 'c9', appId: APP, passwordCredentials: [] }],
            canProvisionIn: ['', OTHER_TENANT],
          }),
      });
  return out;
}

async function run(c: Case, world: AzureWorld, dryRun: boolean): Promise<Result> {
  const inputs: Record<string, string> = { ...c.inputs, 'dry-run': String(dryRun) };
  const deps = fakeDeps({ inputs, azure: world });
  return scenario(
    readSettings((n) => inputs[n] ?? ''),
    deps,
  );
}

/** A grant to a principal that did not exist before the run is "the provisioned principal" (the dry run cannot know its id). */
function normalise(writes: readonly Write[], known: ReadonlySet<string>): Write[] {
  return writes.map((w) => (w.kind === 'grant' && (!w.principalId || !known.has(w.principalId)) ? { ...w, principalId: '(provisioned)' } : w));
}
const roleFor = (input: string, mode?: string) =>
  input === 'auto' ? (mode === 'AbacRepositoryPermissions' ? REPOSITORY_READER : ACR_PULL) : input === 'AcrPush' ? ACR_PUSH : CUSTOM;
const effective = (log: readonly LoggedWrite[]) => log.filter((l) => l.effective).map((l) => l.write);
const existing = (c: Case) => /existing=([a-z-]+)/.exec(c.name)?.[1];
const knownPrincipals = (w: AzureWorld) => new Set([KUBELET, ...Object.values(w.principals).flatMap((ps) => ps.map((p) => p.id))]);

describe('AKS plan = writes (in-process, fakes)', () => {
  const all = cases();
  test(`${all.length} cases: the dry run plans exactly what the real run writes`, async () => {
    assert.ok(all.length >= 200, `${all.length} cases`);
    const problems: string[] = [];
    for (const c of all) {
      const dryWorld = c.world();
      const known = knownPrincipals(dryWorld);
      const dry = await run(c, dryWorld, true);
      const realWorld = c.world();
      const real = await run(c, realWorld, false);
      const planned = normalise(dry.writes, known);
      const made = normalise(effective(realWorld.log), known);
      const fail = (what: string) => problems.push(`${c.name}: ${what}`);
      if (dryWorld.log.length) fail(`the dry run wrote ${JSON.stringify(dryWorld.log)}`);
      const realOk = real.results.every((r) => r.ok);
      if (realOk) {
        if (JSON.stringify(planned) !== JSON.stringify(made)) fail(`planned ${JSON.stringify(planned)} but wrote ${JSON.stringify(made)}`);
      } else if (JSON.stringify(planned.slice(0, made.length)) !== JSON.stringify(made))
        fail(`wrote ${JSON.stringify(made)}, not a prefix of ${JSON.stringify(planned)}`);
      if (JSON.stringify(normalise(real.writes, known)) !== JSON.stringify(made))
        fail(`Result.writes ${JSON.stringify(real.writes)} but the clients saw ${JSON.stringify(effective(realWorld.log))}`);
      for (const l of realWorld.log.filter((x) => !x.effective))
        if (l.write.kind !== 'grant' && l.write.kind !== 'revoke') fail(`an ineffective ${l.write.kind}`);
      if (realOk) {
        const pairs = dry.results.map((d, i) => [d, real.results[i]] as const);
        for (const [d, r] of pairs) {
          if (d.changed !== r.changed) fail(`${d.target}: dry changed=${d.changed}, real changed=${r.changed} (${d.action} / ${r.action})`);
          if (d.ok !== r.ok) fail(`${d.target}: dry ok=${d.ok}, real ok=${r.ok}`);
        }
        if (dry.changed !== real.changed) fail(`changed: dry ${dry.changed}, real ${real.changed}`);
        // the end state is what was asked for: the principal holds the role (with the condition) at
        // the registry after attach, and no pull role there after detach
        const op = c.inputs.operation;
        const reg = realWorld.registries[0];
        for (const r of real.results.filter((x) => x.principalId)) {
          const at = realWorld.assignments.filter((a) => a.principalId === r.principalId && a.scope === reg.id);
          const want = c.inputs.repositories ? repositoryCondition(c.inputs.repositories.split('\n')) : undefined;
          const role = roleFor(c.inputs.role, reg.roleAssignmentMode);
          if (op === 'attach' && !at.some((a) => a.roleGuid === role && sameCondition(a.condition, want)))
            fail(`after attach ${r.principalId} holds ${JSON.stringify(at.map((a) => [a.roleGuid, a.condition]))}`);
          const pull = c.inputs.role === 'auto' ? [ACR_PULL, REPOSITORY_READER] : [role];
          // detach removes the action's own assignments; another party's stay, each named in a notice with its command
          const left = at.filter((a) => pull.includes(a.roleGuid));
          for (const a of left) {
            if (op !== 'detach') continue;
            if (a.name === assignmentName(a.scope, a.roleGuid, a.principalId))
              fail(`after detach ${r.principalId} still holds ${a.id}, the action's`);
            if (!real.notices.some((n) => n.includes(`az role assignment delete --ids ${a.id}`)) || !dry.notices.some((n) => n.includes(a.id)))
              fail(`the foreign ${a.id} is not named in a notice with its command: ${JSON.stringify(real.notices)}`);
          }
          if (op === 'detach' && left.length !== (existing(c) === 'foreign-name' ? 1 : 0))
            fail(`after detach ${r.principalId} holds ${left.length} pull role assignment(s)`);
        }
        if (!c.mints) {
          const before = realWorld.log.length;
          const again = await run(c, realWorld, false);
          const rewritten = effective(realWorld.log.slice(before));
          if (rewritten.length || again.changed) fail(`a second run wrote ${JSON.stringify(rewritten)} (changed ${again.changed})`);
        }
      }
      for (const line of dry.plan) if (!line.startsWith('rg-aks/')) fail(`a plan line without its cluster: ${line}`);
    }
    assert.deepEqual(problems, []);
  });

  test('consent: a principal that cannot be provisioned fails the cluster and gives the consent link', async () => {
    const c = all.find((x) => x.name === 'service-principal attach contosoacr role=auto repos=0 existing=none tenant=cross-denied')!;
    const world = c.world();
    const r = await run(c, world, false);
    assert.equal(r.results[0].ok, false);
    assert.match(r.results[0].error!, /does not exist in the registry's tenant 22222222/);
    assert.equal(r.consentUrl, `https://login.microsoftonline.com/${OTHER_TENANT}/adminconsent?client_id=${APP}`);
    assert.deepEqual(effective(world.log), []);
  });

  test('verify writes nothing, and passes after attach', async () => {
    for (const c of all.filter((x) => x.inputs.operation === 'attach' && /existing=none/.test(x.name) && !/denied/.test(x.name))) {
      const world = c.world();
      assert.ok(
        (await run(c, world, false)).results.every((x) => x.ok),
        c.name,
      );
      const before = world.log.length;
      const v = await run({ ...c, inputs: { ...c.inputs, operation: 'verify' } }, world, false);
      assert.equal(world.log.length, before, `${c.name}: verify wrote`);
      // the role the run grants counts for verify (role given: that role, honoured or not)
      assert.equal(v.results[0].ok, true, `${c.name}: ${v.results[0].error}`);
    }
  });
});

describe('AKS fleet (in-process, fakes)', () => {
  test('clusters keep their own plan lines and results, merged in input order whatever order they finish in', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const world = azureWorld({
      registries: [registry('contosoacr')],
      clusters: names.map((n, i) =>
        i % 3 === 2
          ? cluster(n, { servicePrincipalClientId: APP, usesManagedIdentity: false })
          : cluster(n, { kubeletObjectId: `f0000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}` }),
      ),
      principals: { '': [{ id: SP_A, appId: APP, appOwnerOrganizationId: LOGIN_TENANT }] },
    });
    const inputs: Record<string, string> = {
      registry: 'contosoacr',
      clusters: [...names.map((n) => `rg-aks/${n}`), 'rg-aks/missing'].join('\n'),
      'max-parallel': '5',
      ...LOGIN,
    };
    const told: TargetResult[] = [];
    const deps = { ...fakeDeps({ inputs, azure: world }), settled: (t: TargetResult) => void told.push(t) };
    // answer the clusters in reverse order: later ones finish first
    const azure = await deps.azure(readSettings((n) => inputs[n] ?? ''));
    const get = azure.aks.get.bind(azure.aks);
    azure.aks.get = async (ref) => {
      await new Promise((r) => setTimeout(r, 30 - names.indexOf(ref.name)));
      return get(ref);
    };
    for (const dryRun of [true, false]) {
      const run: Record<string, string> = { ...inputs, 'dry-run': String(dryRun) };
      const r = await scenario(
        readSettings((n) => run[n] ?? ''),
        deps,
      );
      assert.deepEqual(
        r.results.map((x) => x.target),
        inputs.clusters.split('\n'),
      );
      const order = r.plan.map((l) => names.indexOf(l.split(':')[0].slice('rg-aks/'.length)));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        'plan lines in input order',
      );
      // the dry run plans every cluster's grant; for real, the clusters sharing one principal
      // after the first find it granted (a PUT that changes nothing prints no line)
      assert.deepEqual(new Set(order).size, dryRun ? names.length : names.length - 3);
      assert.equal(r.results.at(-1)!.ok, false);
      // each cluster names the method it got; the missing one got none (auto decides per cluster)
      assert.deepEqual(
        r.results.map((x) => x.authMethod),
        [...names.map((_, i) => (i % 3 === 2 ? 'service-principal' : 'managed-identity')), undefined],
      );
      assert.ok(!r.summaryNotes.some((n) => /auth-method auto/.test(n)), 'no note listing every cluster');
      // told as each settles, in the order they finish (later ones first here), each once, as merged
      assert.deepEqual(told.map((t) => t.target).sort(), [...inputs.clusters.split('\n')].sort());
      assert.notDeepEqual(
        told.map((t) => t.target),
        inputs.clusters.split('\n'),
        'completion order, not input order',
      );
      for (const t of told)
        assert.deepEqual(
          t,
          r.results.find((x) => x.target === t.target),
        );
      told.length = 0;
    }
  });
});
