// The managed-identity AKS method for one cluster: grant (attach), remove (detach) or check
// (verify) the kubelet identity's pull role on the registry, or say what would be done (dry run).
// Planning is pure (planAttach, planDetach); execution is a handful of RBAC calls.
import type { ManagedCluster } from '../azure/aks.ts';
import type { RbacClient, RoleAssignment } from '../azure/rbac.ts';
import type { Registry } from '../azure/registry.ts';
import type { TargetResult } from '../result.ts';
import type { AksContext, ResolvedRole } from './aks.ts';
import { CheckError } from '../errors.ts';
import { assignmentName, autoPullRoles, checkPull, roleName, sameCondition } from '../roles.ts';

/** The principal that pulls: the kubelet identity. A cluster without one is a service-principal cluster. */
export function kubeletPrincipal(cluster: ManagedCluster): string {
  if (cluster.kubeletObjectId) return cluster.kubeletObjectId;
  const sp = cluster.servicePrincipalClientId ? ` It runs as service principal ${cluster.servicePrincipalClientId}.` : '';
  throw new CheckError(
    `Cluster ${cluster.label} has no kubelet identity (identityProfile.kubeletidentity.objectId), so there is no managed identity to grant.${sp} Use auth-method: service-principal (or auto, which picks it for such clusters).`,
  );
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

/**
 * The assignments detach removes: this principal's, exactly at the registry's scope, with a pull
 * role (`roleGuids`). Inherited grants (resource group, subscription) and other roles stay. Pure.
 */
export function planDetach(
  registry: Pick<Registry, 'id'>,
  principalId: string,
  roleGuids: readonly string[],
  assignments: readonly RoleAssignment[],
): RoleAssignment[] {
  const roles = new Set(roleGuids.map((g) => g.toLowerCase()));
  return assignments.filter(
    (a) => a.scope.toLowerCase() === registry.id.toLowerCase() && a.principalId.toLowerCase() === principalId.toLowerCase() && roles.has(a.roleGuid),
  );
}

/** The pull roles detach may remove: both built-in pull roles for role: auto, else the role given. */
export function detachRoles(role: ResolvedRole): string[] {
  return role.auto ? autoPullRoles() : [role.guid];
}

const where = (registry: Registry) => `${registry.name} (${registry.id})`;

export async function managedIdentityTarget(ctx: AksContext, cluster: ManagedCluster): Promise<TargetResult> {
  const principalId = kubeletPrincipal(cluster);
  const { settings, role } = ctx;
  const rbac = ctx.azure.rbac(settings.registry.tenantId);
  const base = { target: cluster.label, principalId, role: role.displayName };
  if (settings.operation === 'verify') return verify(ctx, rbac, cluster, principalId, base);
  if (settings.operation === 'detach') return detach(ctx, rbac, principalId, base);
  return attach(ctx, rbac, principalId, base);
}

type Base = Pick<TargetResult, 'target' | 'principalId' | 'role'>;

async function attach(ctx: AksContext, rbac: RbacClient, principalId: string, base: Base): Promise<TargetResult> {
  const { registry, role, settings } = ctx;
  const what = `${role.displayName}${role.condition ? ` (limited to ${settings.repositories.join(', ')})` : ''} to ${principalId} on ${where(registry)}`;
  if (settings.dryRun) {
    const plan = planAttach(registry, principalId, role, await rbac.listForPrincipal(registry.id, principalId));
    if (plan.kind === 'unchanged') {
      ctx.result.plan.push(`${base.target}: ${role.displayName} is already assigned to ${principalId} on ${registry.name}; nothing to do`);
      return { ...base, ok: true, changed: false, action: 'unchanged', roleAssignmentIds: [plan.existing.id] };
    }
    ctx.result.plan.push(`${base.target}: would ${plan.kind === 'update' ? 'update the repository condition of' : 'assign'} ${what}`);
    return { ...base, ok: true, changed: true, action: plan.kind === 'update' ? 'would update' : 'would create', roleAssignmentIds: [plan.id] };
  }
  const outcome = await rbac.ensure({
    scope: registry.id,
    roleGuid: role.guid,
    principalId,
    condition: role.condition,
    description: 'acr-kube-auth: AKS kubelet identity pulls from this registry',
  });
  if (outcome.changed) ctx.result.plan.push(`${base.target}: assigned ${what}`);
  return {
    ...base,
    ok: true,
    changed: outcome.changed,
    action: outcome.changed ? 'created' : 'unchanged',
    roleAssignmentIds: outcome.id ? [outcome.id] : [],
  };
}

async function detach(ctx: AksContext, rbac: RbacClient, principalId: string, base: Base): Promise<TargetResult> {
  const { registry, role, settings } = ctx;
  const doomed = planDetach(registry, principalId, detachRoles(role), await rbac.listForPrincipal(registry.id, principalId));
  const ids = doomed.map((a) => a.id);
  if (!doomed.length) {
    ctx.result.plan.push(`${base.target}: ${principalId} holds no pull role assignment on ${registry.name}; nothing to remove`);
    return { ...base, ok: true, changed: false, action: 'unchanged', roleAssignmentIds: [] };
  }
  const list = doomed.map((a) => `${roleName(a.roleGuid)} (${a.id})`).join(', ');
  if (settings.dryRun) {
    ctx.result.plan.push(`${base.target}: would remove ${list} from ${principalId} on ${registry.name}`);
    return { ...base, ok: true, changed: true, action: 'would delete', roleAssignmentIds: ids };
  }
  const removed = await Promise.all(doomed.map((a) => rbac.delete(a.id)));
  const changed = removed.some(Boolean);
  ctx.result.plan.push(`${base.target}: removed ${list} from ${principalId} on ${registry.name}`);
  return { ...base, ok: true, changed, action: changed ? 'deleted' : 'unchanged', roleAssignmentIds: ids };
}

async function verify(ctx: AksContext, rbac: RbacClient, cluster: ManagedCluster, principalId: string, base: Base): Promise<TargetResult> {
  const { registry, role, settings } = ctx;
  const assignments = await rbac.listForPrincipal(registry.id, principalId);
  const check = checkPull(registry, principalId, assignments, settings.repositories, role.auto ? undefined : role.guid);
  const details = [`kubelet identity ${principalId} of ${cluster.id}`, ...check.details];
  if (check.ok) {
    return { ...base, ok: true, changed: false, action: 'verified', details, roleAssignmentIds: check.granting.map((a) => a.id) };
  }
  return { ...base, ok: false, changed: false, action: 'verify failed', error: check.problems.join('; '), details, roleAssignmentIds: [] };
}
