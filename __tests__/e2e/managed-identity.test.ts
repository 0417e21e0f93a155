// End to end: the bundled action against the emulator, AKS managed identity (issue #4).
// attach / detach / verify / dry-run, every registry form, ABAC, idempotency, a 20-cluster fleet,
// PrincipalNotFound replication delay and AuthorizationFailed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addFleet, fleetPrincipalId } from '../../emulator/fixtures.ts';
import { DEPLOYER_OID_A, KUBELET_OID, SUB_1, SUB_2 } from '../../emulator/ids.ts';
import { azureInputs, runAction } from '../helpers/harness.ts';
import { ACR_PULL, ACR_PUSH, REPOSITORY_READER, assignmentName } from '../../src/roles.ts';
import { useEmulator } from '../helpers/emulator.ts';

const REG = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
const ABAC = `/subscriptions/${SUB_1}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/abacacr`;
const OTHER = `/subscriptions/${SUB_2}/resourceGroups/rg-other/providers/Microsoft.ContainerRegistry/registries/otheracr`;
const MI_CLUSTER = { 'cluster-name': 'aks-mi', 'cluster-resource-group': 'rg-aks' };
const FAST_RETRY = { ACR_KUBE_AUTH_PRINCIPAL_RETRY_BASE_MS: '20' };

const emu = useEmulator();

const lc = (s: string) => s.toLowerCase();
const assignments = () => Object.values(emu.state.roleAssignments) as Array<{ id: string; name: string; properties: Record<string, any> }>;
const assignmentsOf = (principal: string, scope: string) =>
  assignments().filter((a) => lc(a.properties.principalId) === lc(principal) && lc(a.properties.scope) === lc(scope));
const roleOf = (a: { properties: Record<string, any> }) => String(a.properties.roleDefinitionId).split('/').pop()!.toLowerCase();
const armRequests = () => emu.requests.filter((r) => r.service === 'arm');

function seedAssignment(scope: string, role: string, principalId: string, name: string) {
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  emu.state.roleAssignments[lc(id)] = {
    id,
    name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: `/subscriptions/${SUB_1}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
      principalId,
      principalType: 'ServicePrincipal',
      scope,
      condition: null,
      conditionVersion: null,
      createdOn: '2024-01-01T00:00:00Z',
      updatedOn: '2024-01-01T00:00:00Z',
    },
  };
  return id;
}

describe('attach', () => {
  test('grants AcrPull to the kubelet identity under a deterministic name; outputs and summary; a second run changes nothing', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    const name = assignmentName(REG, ACR_PULL, KUBELET_OID);
    const expectedId = `${REG}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    assert.equal(r.outputs['principal-id'], KUBELET_OID);
    assert.equal(r.outputs.role, 'AcrPull');
    assert.equal(r.outputs['role-assignment-ids'], expectedId);
    assert.equal(r.outputs['registry-id'], REG);
    assert.equal(r.outputs['login-server'], `contosoacr.azurecr.localhost:${emu.port}`);
    assert.equal(r.outputs['auth-method'], 'managed-identity');
    assert.equal(r.outputs.changed, 'true');
    const results = JSON.parse(r.outputs.results);
    assert.equal(results.length, 1);
    assert.deepEqual([results[0].target, results[0].ok, results[0].action], ['rg-aks/aks-mi', true, 'created']);
    assert.match(r.summary, /\| rg-aks\/aks-mi \| managed-identity \| f0000000-0000-4000-8000-000000000001 \| AcrPull \| ✅ created \| yes \|/);

    const made = assignmentsOf(KUBELET_OID, REG);
    assert.equal(made.length, 1);
    assert.equal(made[0].name, name);
    assert.equal(made[0].properties.principalType, 'ServicePrincipal');
    assert.equal(roleOf(made[0]), ACR_PULL);

    // performance budget: after sign-in, GET cluster + list registries in parallel, then one PUT
    const arm = armRequests();
    assert.ok(arm.length <= 5, `ARM requests: ${arm.map((q) => `${q.method} ${q.path}`).join(', ')}`);
    assert.deepEqual(arm.map((q) => q.method).sort(), ['GET', 'GET', 'PUT']);
    assert.equal(arm[arm.length - 1].method, 'PUT');
    assert.equal(arm.filter((q) => /roleDefinitions/.test(q.path)).length, 0, 'built-in roles are never looked up');

    emu.requests.length = 0;
    const again = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.changed, 'false');
    assert.equal(again.outputs['role-assignment-ids'], expectedId);
    assert.equal(JSON.parse(again.outputs.results)[0].action, 'unchanged');
    assert.equal(assignmentsOf(KUBELET_OID, REG).length, 1);
  });

  test('an equal assignment under another name (409 RoleAssignmentExists) is success with changed false', async () => {
    const existing = seedAssignment(REG, ACR_PULL, KUBELET_OID, '0a0a0a0a-0000-4000-8000-000000000001');
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'false');
    assert.equal(r.outputs['role-assignment-ids'], existing);
    assert.equal(assignmentsOf(KUBELET_OID, REG).length, 1);
    assert.ok(armRequests().length <= 5);
  });

  test('registry as a login server and as a resource id', async () => {
    const byHost = await runAction(emu, azureInputs(emu, { registry: `contosoacr.azurecr.localhost:${emu.port}`, ...MI_CLUSTER }));
    assert.equal(byHost.code, 0, byHost.stdout);
    assert.equal(byHost.outputs['registry-id'], REG);
    emu.reset();
    const byId = await runAction(emu, azureInputs(emu, { registry: REG, ...MI_CLUSTER }));
    assert.equal(byId.code, 0, byId.stdout);
    assert.equal(byId.outputs['registry-id'], REG);
    assert.equal(assignmentsOf(KUBELET_OID, REG).length, 1);
    // a resource id needs no search: one GET of the registry
    assert.equal(armRequests().filter((q) => /Microsoft.ContainerRegistry\/registries$/i.test(q.path)).length, 0);
  });

  test('a registry in another subscription: by name (searched), with registry-subscription-id, and by resource id', async () => {
    const searched = await runAction(emu, azureInputs(emu, { registry: 'otheracr', ...MI_CLUSTER }));
    assert.equal(searched.code, 0, searched.stdout);
    assert.equal(searched.outputs['registry-id'], OTHER);
    assert.equal(assignmentsOf(KUBELET_OID, OTHER).length, 1);
    const assignment = assignmentsOf(KUBELET_OID, OTHER)[0];
    assert.match(
      assignment.properties.roleDefinitionId,
      new RegExp(`^/subscriptions/${SUB_2}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}$`),
    );

    emu.reset();
    const named = await runAction(emu, azureInputs(emu, { registry: 'otheracr', 'registry-subscription-id': SUB_2, ...MI_CLUSTER }));
    assert.equal(named.code, 0, named.stdout);
    assert.ok(!armRequests().some((q) => /^\/subscriptions$/.test(q.path)), 'no subscription listing when registry-subscription-id is given');
    assert.ok(!armRequests().some((q) => q.path.startsWith(`/subscriptions/${SUB_1}/providers/Microsoft.ContainerRegistry`)));

    emu.reset();
    const grouped = await runAction(
      emu,
      azureInputs(emu, { registry: 'otheracr', 'registry-subscription-id': SUB_2, 'registry-resource-group': 'rg-other', ...MI_CLUSTER }),
    );
    assert.equal(grouped.code, 0, grouped.stdout);
    assert.equal(armRequests().filter((q) => /Microsoft.ContainerRegistry\/registries$/i.test(q.path)).length, 0, 'a known group needs no listing');

    emu.reset();
    const byId = await runAction(emu, azureInputs(emu, { registry: OTHER, ...MI_CLUSTER }));
    assert.equal(byId.code, 0, byId.stdout);
    assert.equal(assignmentsOf(KUBELET_OID, OTHER).length, 1);
  });

  test('a name that matches no registry fails listing the subscriptions searched; nothing is written', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'nosuchregistry', ...MI_CLUSTER }));
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.errors[0], /No registry named 'nosuchregistry'/);
    assert.match(r.errors[0], new RegExp(SUB_1));
    assert.match(r.errors[0], new RegExp(SUB_2));
    assert.ok(!r.errors[0].includes('bbbbbbbb'), 'tenant B subscriptions are not visible to a tenant A token');
    assert.equal(assignments().length, 0);
  });

  test('a login server outside the cloud suffix is refused before any network call', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr.azurecr.io', ...MI_CLUSTER }));
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /registry.*not under this cloud's registry suffix \.azurecr\.localhost/);
    assert.equal(emu.requests.length, 0);
  });

  test('ABAC registry: Container Registry Repository Reader, with a repository condition from repositories', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'abacacr', repositories: 'app/web\nteam/*', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.role, 'Container Registry Repository Reader');
    const made = assignmentsOf(KUBELET_OID, ABAC);
    assert.equal(made.length, 1);
    assert.equal(roleOf(made[0]), REPOSITORY_READER);
    assert.equal(made[0].name, assignmentName(ABAC, REPOSITORY_READER, KUBELET_OID));
    assert.equal(made[0].properties.conditionVersion, '2.0');
    assert.match(made[0].properties.condition, /repositories:name\] StringEqualsIgnoreCase 'app\/web'/);
    assert.match(made[0].properties.condition, /StringStartsWithIgnoreCase 'team\/'/);
    assert.match(r.summary, /ABAC mode.*AcrPull is not honoured/);

    // idempotent; a different repository list updates the condition in place
    const again = await runAction(emu, azureInputs(emu, { registry: 'abacacr', repositories: 'team/*\napp/web', ...MI_CLUSTER }));
    assert.equal(again.outputs.changed, 'false', again.stdout);
    const widened = await runAction(emu, azureInputs(emu, { registry: 'abacacr', repositories: 'app/*', ...MI_CLUSTER }));
    assert.equal(widened.outputs.changed, 'true', widened.stdout);
    const now = assignmentsOf(KUBELET_OID, ABAC);
    assert.equal(now.length, 1);
    assert.match(now[0].properties.condition, /StringStartsWithIgnoreCase 'app\/'/);
    assert.doesNotMatch(now[0].properties.condition, /team/);
  });

  test('repositories on a non-ABAC registry fail the step (they cannot narrow AcrPull); nothing is written', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', repositories: 'app/web', ...MI_CLUSTER }));
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /repositories can only narrow.*AbacRepositoryPermissions/);
    assert.equal(assignments().length, 0);
  });

  test('role overrides the choice, by name or GUID', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', role: 'AcrPush', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.role, 'AcrPush');
    assert.deepEqual(assignmentsOf(KUBELET_OID, REG).map(roleOf), [ACR_PUSH]);
    const custom = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', role: 'User Access Administrator', ...MI_CLUSTER }));
    assert.equal(custom.code, 0, custom.stdout);
    // looked up by name once (not a built-in we know by name)
    assert.equal(armRequests().filter((q) => /roleDefinitions/.test(q.path)).length, 1);
    assert.equal(assignmentsOf(KUBELET_OID, REG).length, 2);
  });

  test('a cluster without a kubelet identity under auth-method managed-identity points to service-principal', async () => {
    const r = await runAction(
      emu,
      azureInputs(emu, { registry: 'contosoacr', 'cluster-name': 'aks-sp', 'cluster-resource-group': 'rg-aks', 'auth-method': 'managed-identity' }),
    );
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /no kubelet identity.*auth-method: service-principal/);
    assert.equal(assignments().length, 0);
  });

  test('PrincipalNotFound (replication delay) is retried until the identity appears', async () => {
    emu.state.pendingPrincipals[KUBELET_OID] = { attempts: 3 };
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }), { env: FAST_RETRY });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'true');
    assert.equal(armRequests().filter((q) => q.method === 'PUT').length, 4);
    assert.equal((r.stdout.match(/not in the directory yet \(replication delay\)/g) ?? []).length, 3);
    assert.equal(assignmentsOf(KUBELET_OID, REG).length, 1);
  });

  test('PrincipalNotFound past the retry budget fails naming the cause', async () => {
    emu.state.pendingPrincipals[KUBELET_OID] = { attempts: 1000 };
    const started = Date.now();
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }), {
      env: { ...FAST_RETRY, ACR_KUBE_AUTH_PRINCIPAL_RETRY_BUDGET_MS: '400' },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.errors[0],
      /PrincipalNotFound\): principal f0000000-0000-4000-8000-000000000001 was still not in the directory after retrying for \d+ s/,
    );
    assert.match(r.errors[0], /replicate/);
    assert.ok(Date.now() - started < 20_000);
    const puts = armRequests().filter((q) => q.method === 'PUT').length;
    assert.ok(puts > 1 && puts < 100, `bounded retries: ${puts}`);
  });

  test('AuthorizationFailed names the least-privilege role the caller needs and the scope', async () => {
    emu.state.roleAssignmentWriters = [];
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }));
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /AuthorizationFailed/);
    assert.match(r.errors[0], /Least privilege: Role Based Access Control Administrator there, constrained to assigning AcrPull/);
    assert.ok(r.errors[0].includes(REG), r.errors[0]);
    // no retry storm on a 403
    assert.equal(armRequests().filter((q) => q.method === 'PUT').length, 1);
  });
});

describe('detach, verify, dry-run', () => {
  test("detach removes only this principal's pull roles on this registry that the action made; another party's is kept and named with its command; a second detach is changed false", async () => {
    assert.equal((await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }))).code, 0);
    const foreignPull = seedAssignment(REG, REPOSITORY_READER, KUBELET_OID, '0b0b0b0b-0000-4000-8000-000000000001');
    const push = seedAssignment(REG, ACR_PUSH, KUBELET_OID, '0b0b0b0b-0000-4000-8000-000000000002');
    const otherPrincipal = seedAssignment(REG, ACR_PULL, DEPLOYER_OID_A, '0b0b0b0b-0000-4000-8000-000000000003');
    const inherited = seedAssignment(`/subscriptions/${SUB_1}/resourceGroups/rg-acr`, ACR_PULL, KUBELET_OID, '0b0b0b0b-0000-4000-8000-000000000004');
    const otherRegistry = seedAssignment(ABAC, ACR_PULL, KUBELET_OID, '0b0b0b0b-0000-4000-8000-000000000005');

    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', operation: 'detach', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.changed, 'true');
    const removed = r.outputs['role-assignment-ids'].split('\n').sort();
    assert.deepEqual(removed, [`${REG}/providers/Microsoft.Authorization/roleAssignments/${assignmentName(REG, ACR_PULL, KUBELET_OID)}`]);
    const left = assignments()
      .map((a) => a.id)
      .sort();
    // the pull role someone else granted (a random name, as az and the portal give) is kept, and named
    assert.deepEqual(left, [foreignPull, push, otherPrincipal, inherited, otherRegistry].sort());
    const notices = r.stdout.split('\n').filter((l) => l.startsWith('::notice::'));
    assert.equal(notices.filter((l) => l.includes(`az role assignment delete --ids ${foreignPull}`)).length, 1, notices.join('\n'));
    assert.match(notices.join('\n'), /was not made by acr-kube-auth.*left it in place/);

    const again = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', operation: 'detach', ...MI_CLUSTER }));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.changed, 'false');
    assert.equal(assignments().length, 5);
    assert.ok(again.stdout.includes(`az role assignment delete --ids ${foreignPull}`));
  });

  test('verify fails naming what is missing, passes after attach, and writes nothing', async () => {
    const before = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', operation: 'verify', ...MI_CLUSTER }));
    assert.equal(before.code, 1);
    assert.match(before.errors[0], /holds no pull role on contosoacr.*needs AcrPull/);
    assert.ok(armRequests().every((q) => q.method === 'GET'));

    assert.equal((await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }))).code, 0);
    emu.requests.length = 0;
    const ok = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', operation: 'verify', ...MI_CLUSTER }));
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.outputs.changed, 'false');
    assert.equal(JSON.parse(ok.outputs.results)[0].action, 'verified');
    assert.ok(armRequests().every((q) => q.method === 'GET'));
  });

  test('verify on an ABAC registry: AcrPull does not count', async () => {
    seedAssignment(ABAC, ACR_PULL, KUBELET_OID, '0c0c0c0c-0000-4000-8000-000000000001');
    const r = await runAction(emu, azureInputs(emu, { registry: 'abacacr', operation: 'verify', ...MI_CLUSTER }));
    assert.equal(r.code, 1);
    assert.match(r.errors[0], /Container Registry Repository Reader/);
    assert.match(r.errors[0], /AcrPull on .* is not honoured/);
    seedAssignment(ABAC, REPOSITORY_READER, KUBELET_OID, '0c0c0c0c-0000-4000-8000-000000000002');
    const ok = await runAction(emu, azureInputs(emu, { registry: 'abacacr', operation: 'verify', ...MI_CLUSTER }));
    assert.equal(ok.code, 0, ok.stdout);
  });

  test('dry-run attach and detach do only GETs, print the plan and report what would change', async () => {
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'dry-run': 'true', ...MI_CLUSTER }));
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\[dry-run\] rg-aks\/aks-mi: would assign AcrPull to f0000000-0000-4000-8000-000000000001 on contosoacr/);
    assert.equal(r.outputs.changed, 'true');
    assert.equal(
      r.outputs['role-assignment-ids'],
      `${REG}/providers/Microsoft.Authorization/roleAssignments/${assignmentName(REG, ACR_PULL, KUBELET_OID)}`,
    );
    assert.equal(JSON.parse(r.outputs.results)[0].action, 'would create');
    assert.match(r.summary, /\(dry run\)/);
    assert.ok(
      armRequests().every((q) => q.method === 'GET'),
      armRequests()
        .map((q) => q.method)
        .join(),
    );
    assert.equal(assignments().length, 0);

    assert.equal((await runAction(emu, azureInputs(emu, { registry: 'contosoacr', ...MI_CLUSTER }))).code, 0);
    emu.requests.length = 0;
    const same = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'dry-run': 'true', ...MI_CLUSTER }));
    assert.equal(same.outputs.changed, 'false');
    const detach = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', 'dry-run': 'true', operation: 'detach', ...MI_CLUSTER }));
    assert.equal(detach.code, 0, detach.stdout);
    assert.equal(detach.outputs.changed, 'true');
    assert.match(detach.stdout, /\[dry-run\] rg-aks\/aks-mi: would remove AcrPull/);
    assert.ok(armRequests().every((q) => q.method === 'GET'));
    assert.equal(assignments().length, 1);
  });
});

describe('fleet', () => {
  const addClusters = (n: number) => addFleet(emu.state, n).ids;

  test('20 clusters run concurrently within max-parallel; the registry is resolved once; one failure does not stop the others', async () => {
    const ids = addClusters(20);
    // resource ids and resourceGroup/name lines mixed, plus one cluster that does not exist
    const lines = [...ids.slice(0, 10), ...ids.slice(10).map((id) => `rg-aks/${id.split('/').pop()}`), 'rg-aks/missing-cluster'];
    emu.addFault({ method: 'GET', pathPattern: 'managedClusters/(fleet|missing)', kind: 'latency', ms: 150 });
    const started = Date.now();
    const r = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', clusters: lines.join('\n'), 'max-parallel': '4' }));
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], /1 of 21 clusters failed: rg-aks\/missing-cluster: .*404/);

    const results = JSON.parse(r.outputs.results) as Array<{ target: string; ok: boolean; action: string; principalId?: string }>;
    assert.equal(results.length, 21);
    assert.deepEqual(
      results.map((x) => x.target),
      lines,
    );
    assert.equal(results.filter((x) => x.ok && x.action === 'created').length, 20);
    assert.equal(r.outputs.changed, 'true');
    assert.equal(r.outputs['role-assignment-ids'].split('\n').length, 20);
    for (let i = 1; i <= 20; i++) {
      assert.equal(assignmentsOf(fleetPrincipalId(i), REG).length, 1, fleetPrincipalId(i));
    }
    assert.match(r.summary, /rg-aks\/missing-cluster .*❌/);

    const arm = armRequests();
    assert.equal(arm.filter((q) => /Microsoft.ContainerRegistry\/registries$/i.test(q.path)).length, 1, 'registry resolved once');
    // bounded concurrency: never more than 4 cluster reads in flight, and more than 1 at some point
    const reads = arm
      .filter((q) => /managedClusters\//.test(q.path))
      .map((q) => ({ start: Date.parse(q.time), end: Date.parse(q.time) + q.durationMs }));
    const peak = Math.max(...reads.map((a) => reads.filter((b) => b.start <= a.start && a.start < b.end).length));
    assert.ok(peak <= 4 && peak >= 2, `peak concurrency ${peak}`);
    assert.ok(elapsed < 30_000, `fleet took ${elapsed} ms`);

    // idempotent across the fleet
    emu.clearFaults();
    const again = await runAction(emu, azureInputs(emu, { registry: 'contosoacr', clusters: lines.slice(0, 20).join('\n') }));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.changed, 'false');
  });
});
