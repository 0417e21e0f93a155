// Pure role rules (src/roles.ts) and the managed-identity planning functions built on them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACR_PULL,
  ACR_PUSH,
  OWNER,
  READER,
  REPOSITORY_READER,
  RoleChoiceError,
  assignmentName,
  checkPull,
  chooseRole,
  conditionCovers,
  honours,
  repositoryCondition,
  roleDefinitionId,
  roleGuidOf,
  scopeCovers,
  uuidV5,
} from '../src/roles.ts';
import type { ManagedCluster, RoleAssignment } from '../src/azure/types.ts';
import { planAttach, planDetach, detachRoles } from '../src/scenarios/steps/role-grant.ts';
import { kubeletPrincipal } from '../src/scenarios/aks/managed-identity.ts';
import { methodFor } from '../src/scenarios/aks/context.ts';
import { CheckError } from '../src/errors.ts';

const SUB = 'aaaaaaaa-0000-4000-8000-000000000001';
const REG = `/subscriptions/${SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/contosoacr`;
const RBAC_REG = { name: 'contosoacr', id: REG, roleAssignmentMode: 'LegacyRegistryPermissions' };
const ABAC_REG = { name: 'abacacr', id: REG.replace('contosoacr', 'abacacr'), roleAssignmentMode: 'AbacRepositoryPermissions' };
const P = 'f0000000-0000-4000-8000-000000000001';
const OTHER = 'f0000000-0000-4000-8000-000000000002';

function ra(over: Partial<RoleAssignment> & { roleGuid: string; scope: string }): RoleAssignment {
  const name = over.name ?? assignmentName(over.scope, over.roleGuid, over.principalId ?? P);
  return {
    id: `${over.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    roleDefinitionId: roleDefinitionId(SUB, over.roleGuid),
    principalId: P,
    condition: null,
    ...over,
  };
}

describe('chooseRole', () => {
  test('auto: AcrPull on an RBAC registry, Repository Reader on an ABAC one', () => {
    assert.equal(chooseRole(RBAC_REG, 'auto', []).guid, ACR_PULL);
    assert.equal(chooseRole(RBAC_REG, 'auto', []).displayName, 'AcrPull');
    const abac = chooseRole(ABAC_REG, 'auto', []);
    assert.equal(abac.guid, REPOSITORY_READER);
    assert.equal(abac.displayName, 'Container Registry Repository Reader');
    assert.equal(abac.auto, true);
    assert.deepEqual(abac.warnings, []);
    // mode compared case-insensitively
    assert.equal(chooseRole({ name: 'x', roleAssignmentMode: 'abacrepositorypermissions' }, '', []).guid, REPOSITORY_READER);
  });

  test('role overrides by GUID or by a built-in name (no lookup); other names are looked up', () => {
    const byGuid = chooseRole(RBAC_REG, ACR_PUSH.toUpperCase(), []);
    assert.equal(byGuid.guid, ACR_PUSH);
    assert.equal(byGuid.auto, false);
    assert.equal(chooseRole(RBAC_REG, 'acrpull', []).guid, ACR_PULL);
    assert.equal(chooseRole(ABAC_REG, 'Container Registry Repository Reader', []).guid, REPOSITORY_READER);
    const custom = chooseRole(RBAC_REG, 'Image Puller (custom)', []);
    assert.equal(custom.guid, undefined);
    assert.equal(custom.lookupName, 'Image Puller (custom)');
    assert.equal(custom.displayName, 'Image Puller (custom)');
  });

  test('AcrPull forced onto an ABAC registry is granted but warned about', () => {
    const p = chooseRole(ABAC_REG, 'AcrPull', []);
    assert.equal(p.guid, ACR_PULL);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0], /not honoured on abacacr.*AbacRepositoryPermissions.*Repository Reader/);
  });

  test('repositories: an ABAC condition on ABAC registries, an error elsewhere', () => {
    const p = chooseRole(ABAC_REG, 'auto', ['app/web', 'team/*']);
    assert.ok(p.condition);
    assert.match(p.condition!, /StringEqualsIgnoreCase 'app\/web'/);
    assert.match(p.condition!, /StringStartsWithIgnoreCase 'team\/'/);
    assert.throws(
      () => chooseRole(RBAC_REG, 'auto', ['app/web']),
      (e: unknown) => e instanceof RoleChoiceError && /AbacRepositoryPermissions.*LegacyRegistryPermissions/.test((e as Error).message),
    );
    assert.equal(chooseRole(ABAC_REG, 'auto', ['*']).condition, undefined);
  });
});

describe('repositoryCondition', () => {
  test('is deterministic: order and duplicates do not change it', () => {
    assert.equal(repositoryCondition(['b/x', 'a/y', 'b/x']), repositoryCondition(['a/y', 'b/x']));
  });

  test('limits only the repository read actions and lists each repository', () => {
    const c = repositoryCondition(['app/web'])!;
    assert.equal(
      c,
      "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app/web'))",
    );
    assert.equal(repositoryCondition([]), undefined);
  });

  test('conditionCovers reads exact names and prefixes back', () => {
    const c = repositoryCondition(['app/web', 'team/*']);
    assert.deepEqual(conditionCovers(c, ['app/web', 'team/api', 'team/*', 'app/db', '*']), ['app/web', 'team/api', 'team/*']);
    assert.deepEqual(conditionCovers(null, ['x']), ['x']);
  });
});

describe('deterministic names', () => {
  test('uuidV5 matches the RFC 4122 reference vector', () => {
    assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  test('assignmentName: same inputs (any case, trailing slash) give the same v5 GUID; any change gives another', () => {
    const n = assignmentName(REG, ACR_PULL, P);
    assert.match(n, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(assignmentName(`${REG.toUpperCase()}/`, ACR_PULL.toUpperCase(), P.toUpperCase()), n);
    const others = [assignmentName(REG, REPOSITORY_READER, P), assignmentName(REG, ACR_PULL, OTHER), assignmentName(ABAC_REG.id, ACR_PULL, P)];
    for (const o of others) assert.notEqual(o, n);
    assert.equal(new Set(others).size, 3);
  });

  test('role definition ids: built-ins need no lookup; roleGuidOf reads them back', () => {
    const id = roleDefinitionId(SUB, ACR_PULL);
    assert.equal(id, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL}`);
    assert.equal(roleGuidOf(id.toUpperCase()), ACR_PULL);
  });
});

describe('honoured pull roles (verify)', () => {
  test('AcrPull counts on RBAC registries only; Repository Reader on both; Owner/Reader are control plane on ABAC', () => {
    assert.equal(honours('LegacyRegistryPermissions', ACR_PULL), true);
    assert.equal(honours('AbacRepositoryPermissions', ACR_PULL), false);
    assert.equal(honours('AbacRepositoryPermissions', REPOSITORY_READER), true);
    assert.equal(honours(undefined, OWNER), true);
    assert.equal(honours('AbacRepositoryPermissions', OWNER), false);
    assert.equal(honours('AbacRepositoryPermissions', READER), false);
  });

  test('scopeCovers: the resource, its parents and the root; never a sibling with a common prefix', () => {
    assert.equal(scopeCovers(REG, REG), true);
    assert.equal(scopeCovers(`/subscriptions/${SUB}/resourceGroups/rg-acr`, REG), true);
    assert.equal(scopeCovers(`/subscriptions/${SUB}`, REG), true);
    assert.equal(scopeCovers('/', REG), true);
    assert.equal(scopeCovers(`/subscriptions/${SUB}/resourceGroups/rg-ac`, REG), false);
    assert.equal(scopeCovers(`${REG}/scopeMaps/x`, REG), false);
  });

  test('checkPull: AcrPull on an RBAC registry passes, also inherited from the resource group', () => {
    assert.equal(checkPull(RBAC_REG, P, [ra({ scope: REG, roleGuid: ACR_PULL })], []).ok, true);
    const rg = checkPull(RBAC_REG, P, [ra({ scope: `/subscriptions/${SUB}/resourceGroups/rg-acr`, roleGuid: ACR_PULL })], []);
    assert.equal(rg.ok, true);
    assert.equal(rg.granting.length, 1);
  });

  test('checkPull: AcrPull on an ABAC registry fails naming the missing role; another principal or registry does not count', () => {
    const r = checkPull(ABAC_REG, P, [ra({ scope: ABAC_REG.id, roleGuid: ACR_PULL })], []);
    assert.equal(r.ok, false);
    assert.match(r.problems[0], /Container Registry Repository Reader/);
    assert.ok(r.problems.some((p) => /AcrPull on .* is not honoured/.test(p)));
    assert.equal(checkPull(RBAC_REG, P, [ra({ scope: REG, roleGuid: ACR_PULL, principalId: OTHER })], []).ok, false);
    assert.equal(checkPull(RBAC_REG, P, [ra({ scope: ABAC_REG.id, roleGuid: ACR_PULL })], []).ok, false);
    assert.equal(checkPull(RBAC_REG, P, [], []).ok, false);
  });

  test('checkPull: a repository condition counts only when it covers the repositories asked about', () => {
    const cond = ra({ scope: ABAC_REG.id, roleGuid: REPOSITORY_READER, condition: repositoryCondition(['app/*']) });
    assert.equal(checkPull(ABAC_REG, P, [cond], ['app/web']).ok, true);
    const miss = checkPull(ABAC_REG, P, [cond], ['db/main']);
    assert.equal(miss.ok, false);
    assert.ok(miss.problems.some((p) => /does not cover db\/main/.test(p)));
    // no repositories asked: a conditioned grant is not the whole registry
    assert.equal(checkPull(ABAC_REG, P, [cond], []).ok, false);
    assert.equal(checkPull(ABAC_REG, P, [ra({ scope: ABAC_REG.id, roleGuid: REPOSITORY_READER })], ['db/main']).ok, true);
  });

  test('checkPull: a custom role named by the role input counts', () => {
    const custom = 'c0ffee00-0000-4000-8000-000000000001';
    assert.equal(checkPull(RBAC_REG, P, [ra({ scope: REG, roleGuid: custom })], []).ok, false);
    assert.equal(checkPull(RBAC_REG, P, [ra({ scope: REG, roleGuid: custom })], [], custom).ok, true);
  });
});

describe('managed-identity planning', () => {
  const role = { guid: ACR_PULL, condition: undefined };

  test('planAttach: create under the deterministic name when nothing is there', () => {
    const p = planAttach(RBAC_REG, P, role, []);
    assert.deepEqual(p, { kind: 'create', id: `${REG}/providers/Microsoft.Authorization/roleAssignments/${assignmentName(REG, ACR_PULL, P)}` });
  });

  test('planAttach: an equal assignment under any name is unchanged; inherited or other roles are not enough', () => {
    const foreign = ra({ scope: REG, roleGuid: ACR_PULL, name: '11111111-2222-4333-8444-555555555555' });
    assert.equal(planAttach(RBAC_REG, P, role, [foreign]).kind, 'unchanged');
    assert.equal(planAttach(RBAC_REG, P, role, [ra({ scope: `/subscriptions/${SUB}`, roleGuid: ACR_PULL })]).kind, 'create');
    assert.equal(planAttach(RBAC_REG, P, role, [ra({ scope: REG, roleGuid: ACR_PUSH })]).kind, 'create');
  });

  test('planAttach: our assignment with another condition is updated in place', () => {
    const cond = repositoryCondition(['app/web']);
    const ours = ra({ scope: ABAC_REG.id, roleGuid: REPOSITORY_READER, condition: repositoryCondition(['old/*']) });
    const p = planAttach(ABAC_REG, P, { guid: REPOSITORY_READER, condition: cond }, [ours]);
    assert.equal(p.kind, 'update');
  });

  test("planDetach removes only this principal's pull roles exactly at the registry, and only those the action made", () => {
    const keep = [
      ra({ scope: REG, roleGuid: ACR_PUSH }),
      ra({ scope: REG, roleGuid: ACR_PULL, principalId: OTHER }),
      ra({ scope: `/subscriptions/${SUB}/resourceGroups/rg-acr`, roleGuid: ACR_PULL }),
      ra({ scope: ABAC_REG.id, roleGuid: ACR_PULL }),
    ];
    const gone = [ra({ scope: REG, roleGuid: ACR_PULL }), ra({ scope: REG, roleGuid: REPOSITORY_READER })];
    // the same grant under a name the action never gives (az aks update --attach-acr, the portal)
    const foreign = [ra({ scope: REG, roleGuid: ACR_PULL, name: '0a0a0a0a-0000-4000-8000-000000000001' })];
    const auto = { guid: ACR_PULL, auto: true };
    assert.deepEqual(planDetach(RBAC_REG, P, detachRoles(auto), [...keep, ...gone, ...foreign]), { doomed: gone, foreign });
    // an explicit role: only that role
    assert.deepEqual(planDetach(RBAC_REG, P, detachRoles({ ...auto, auto: false }), [...keep, ...gone, ...foreign]), { doomed: [gone[0]], foreign });
    // the name is recognised whatever the case of the scope ARM sends back
    assert.deepEqual(planDetach(RBAC_REG, P, [ACR_PULL], [{ ...gone[0], scope: REG.toUpperCase() }]).doomed.length, 1);
  });

  const cluster = (over: Partial<ManagedCluster>): ManagedCluster => ({
    id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
    name: 'c',
    resourceGroup: 'rg',
    subscriptionId: 's',
    label: 'rg/c',
    usesManagedIdentity: true,
    ...over,
  });

  test('kubeletPrincipal: the kubelet identity, or an error pointing to auth-method service-principal', () => {
    assert.equal(kubeletPrincipal(cluster({ kubeletObjectId: P })), P);
    assert.throws(
      () => kubeletPrincipal(cluster({ usesManagedIdentity: false, servicePrincipalClientId: OTHER })),
      (e: unknown) => e instanceof CheckError && /auth-method: service-principal/.test((e as Error).message),
    );
  });

  test('methodFor: auto follows the kubelet identity; an explicit method wins', () => {
    assert.equal(methodFor({ authMethod: 'auto' }, cluster({ kubeletObjectId: P })), 'managed-identity');
    assert.equal(methodFor({ authMethod: 'auto' }, cluster({ servicePrincipalClientId: OTHER })), 'service-principal');
    assert.equal(methodFor({ authMethod: 'managed-identity' }, cluster({})), 'managed-identity');
    assert.equal(methodFor({ authMethod: 'service-principal' }, cluster({ kubeletObjectId: P })), 'service-principal');
  });
});
