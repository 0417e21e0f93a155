// The pull role on the registry, for every scenario that grants one (both AKS methods and
// credential-type service-principal): the role resolved once, what a grant or a revoke would do
// given the principal's assignments (pure), and the one way each is carried out.
import type { RbacClient, Registry, RoleAssignment } from '../../azure/types.ts';
import type { Write } from '../../result.ts';
import { ABAC_MODE, assignmentName, autoPullRoles, chooseRole, isAbac, roleName, sameCondition } from '../../roles.ts';

/** The pull role for this run, resolved once: a GUID always (a role given by name was looked up). */
export interface ResolvedRole {
  guid: string;
  displayName: string;
  /** ABAC repository condition (version 2.0) from `repositories` */
  condition?: string;
  /** chosen from the registry's mode (role: auto) */
  auto: boolean;
  /** e.g. a role the registry does not honour */
  warnings: string[];
  /** for the job summary: why the role is what it is (ABAC registries) */
  notes: string[];
}

/** The role `role` and `repositories` ask for on this registry; only a name we do not know is looked up. */
export async function resolveRole(
  settings: { role: string; repositories: readonly string[] },
  registry: Registry,
  rbac: Pick<RbacClient, 'roleIdByName'>,
): Promise<ResolvedRole> {
  const plan = chooseRole(registry, settings.role, settings.repositories);
  const notes =
    plan.auto && isAbac(registry.roleAssignmentMode)
      ? [`${registry.name} is in ABAC mode (${ABAC_MODE}): AcrPull is not honoured there, so the pull role is Container Registry Repository Reader.`]
      : [];
  const guid = plan.guid ?? (await rbac.roleIdByName(registry.id, plan.lookupName!));
  return {
    guid,
    displayName: plan.guid ? plan.displayName : (plan.lookupName ?? roleName(guid)),
    condition: plan.condition,
    auto: plan.auto,
    warnings: plan.warnings,
    notes,
  };
}

/**
 * Whether a grant must read the principal's assignments first: a dry run (to say what would
 * change), and a conditioned grant (an equal one under any name is left alone, ours with another
 * condition is updated). An unconditioned grant is one idempotent PUT under the deterministic name.
 */
export function grantReadsFirst(role: Pick<ResolvedRole, 'condition'>, dryRun: boolean): boolean {
  return dryRun || !!role.condition;
}

export const assignmentId = (scope: string, name: string) => `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;

export type AttachPlan =
  { kind: 'unchanged'; existing: RoleAssignment } | { kind: 'update'; existing: RoleAssignment; id: string } | { kind: 'create'; id: string };

/** What attach would do, given the principal's assignments that apply at the registry. Pure. */
export function planAttach(
  registry: Pick<Registry, 'id'>,
  principalId: string,
  role: Pick<ResolvedRole, 'guid' | 'condition'>,
  assignments: readonly RoleAssignment[],
): AttachPlan {
  const name = assignmentName(registry.id, role.guid, principalId);
  const atScope = assignments.filter(
    (a) =>
      a.scope.toLowerCase() === registry.id.toLowerCase() && a.roleGuid === role.guid && a.principalId.toLowerCase() === principalId.toLowerCase(),
  );
  const same = atScope.find((a) => sameCondition(a.condition, role.condition));
  if (same) return { kind: 'unchanged', existing: same };
  // ours (the deterministic name) with another condition: a PUT updates it in place
  const ours = atScope.find((a) => a.name.toLowerCase() === name);
  if (ours) return { kind: 'update', existing: ours, id: ours.id };
  return { kind: 'create', id: assignmentId(registry.id, name) };
}

/** A grant the plan makes: `change` when the assignments were read, the id when the principal is known. */
export interface GrantStep {
  kind: 'grant';
  change?: 'create' | 'update';
  id?: string;
  write: Extract<Write, { kind: 'grant' }>;
}

/**
 * The grant of `role` to `principalId` (undefined: a principal an earlier step provisions), or
 * 'unchanged' when the assignments read show it is there. Pure.
 */
export function planGrant(
  registry: Pick<Registry, 'id'>,
  role: Pick<ResolvedRole, 'guid' | 'condition'>,
  principalId: string | undefined,
  assignments: readonly RoleAssignment[] | undefined,
): GrantStep | { kind: 'unchanged'; existing: RoleAssignment } {
  const write: GrantStep['write'] = { kind: 'grant', scope: registry.id, roleGuid: role.guid, principalId, condition: role.condition };
  if (!principalId) return { kind: 'grant', change: 'create', write };
  if (!assignments) return { kind: 'grant', id: assignmentId(registry.id, assignmentName(registry.id, role.guid, principalId)), write };
  const p = planAttach(registry, principalId, role, assignments);
  if (p.kind === 'unchanged') return p;
  return { kind: 'grant', change: p.kind, id: p.id, write };
}

/** Carries out a planned grant (one PUT; PrincipalNotFound retried, RoleAssignmentExists is success). */
export function executeGrant(rbac: RbacClient, step: GrantStep, principalId: string, description: string) {
  const { scope, roleGuid, condition } = step.write;
  return rbac.ensure({ scope, roleGuid, principalId, condition, description, updates: step.change === 'update' });
}

/** The pull roles detach may remove: both built-in pull roles for role: auto, else the role given. */
export function detachRoles(role: Pick<ResolvedRole, 'auto' | 'guid'>): string[] {
  return role.auto ? autoPullRoles() : [role.guid];
}

/**
 * Whether this action made an assignment: its name is the one the action gives (src/roles.ts
 * assignmentName, UUID v5 of scope, role and principal), which `az`, the portal and other tools
 * never give (they pick a random GUID). The description is not trusted for this: anyone can write
 * any description; it only says which run wrote the assignment (src/provenance.ts). Pure.
 */
export function madeByAction(a: Pick<RoleAssignment, 'name' | 'scope' | 'roleGuid' | 'principalId'>): boolean {
  return a.name.toLowerCase() === assignmentName(a.scope, a.roleGuid, a.principalId);
}

/** What detach does with a principal's pull-role assignments at the registry: removes the action's, keeps the others'. */
export interface DetachPlan {
  doomed: RoleAssignment[];
  /** the same kind of grant, made by someone else (az aks update --attach-acr, the portal): left in place */
  foreign: RoleAssignment[];
}

/**
 * The assignments detach removes: this principal's, exactly at the registry's scope, with a pull
 * role (`roleGuids`), made by this action. Another party's (`foreign`), inherited grants
 * (resource group, subscription) and other roles stay. Pure.
 */
export function planDetach(
  registry: Pick<Registry, 'id'>,
  principalId: string,
  roleGuids: readonly string[],
  assignments: readonly RoleAssignment[],
): DetachPlan {
  const roles = new Set(roleGuids.map((g) => g.toLowerCase()));
  const pull = assignments.filter(
    (a) => a.scope.toLowerCase() === registry.id.toLowerCase() && a.principalId.toLowerCase() === principalId.toLowerCase() && roles.has(a.roleGuid),
  );
  return { doomed: pull.filter(madeByAction), foreign: pull.filter((a) => !madeByAction(a)) };
}

/** The notice for a pull-role assignment detach leaves in place, with the command that removes it. */
export function foreignAssignmentNotice(target: string, a: RoleAssignment, registryName: string): string {
  return `${target}: ${roleName(a.roleGuid)} assignment ${a.name} on ${registryName} to ${a.principalId} was not made by acr-kube-auth (its name is not the one the action gives), so detach left it in place and the principal can still pull. To remove it: az role assignment delete --ids ${a.id}`;
}

/** "AcrPull (<id>), …": the assignments a revoke names. */
export const assignmentList = (doomed: readonly RoleAssignment[]) => doomed.map((a) => `${roleName(a.roleGuid)} (${a.id})`).join(', ');

/** Deletes the planned assignments; true when any was still there. */
export async function executeRevoke(rbac: RbacClient, doomed: readonly RoleAssignment[]): Promise<boolean> {
  const removed = await Promise.all(doomed.map((a) => rbac.delete(a.id)));
  return removed.some(Boolean);
}
