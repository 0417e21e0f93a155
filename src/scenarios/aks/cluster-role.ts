// The pull role of one cluster's principal (both AKS methods): one attach body and one detach
// body, each planned from what was read and then carried out, or only described under dry-run.
import type { RoleAssignment } from '../../azure/types.ts';
import type { TargetResult, Write } from '../../result.ts';
import {
  assignmentList,
  detachRoles,
  executeGrant,
  executeRevoke,
  foreignAssignmentNotice,
  planDetach,
  type GrantStep,
} from '../steps/role-grant.ts';
import type { AksContext, ClusterLog } from './context.ts';

type Outcome = Pick<TargetResult, 'action' | 'changed' | 'roleAssignmentIds'>;

/**
 * Carries out (or, under dry-run, describes) the planned grant (steps/role-grant.ts planGrant) to
 * `principalId` (undefined under dry-run when an earlier step would provision it); `who` names
 * the principal in the plan lines.
 */
export async function attachPullRole(
  ctx: AksContext,
  log: ClusterLog,
  target: string,
  plan: GrantStep | { kind: 'unchanged'; existing: RoleAssignment },
  principalId: string | undefined,
  who: string,
  description: string,
): Promise<Outcome> {
  const { registry, role, settings } = ctx;
  if (plan.kind === 'unchanged') {
    log.lines.push(`${target}: ${role.displayName} is already assigned to ${principalId} on ${registry.name}; nothing to do`);
    return { changed: false, action: 'unchanged', roleAssignmentIds: [plan.existing.id] };
  }
  const what = `${role.displayName}${role.condition ? ` (limited to ${settings.repositories.join(', ')})` : ''} to ${who} on ${registry.name} (${registry.id})`;
  if (settings.dryRun) {
    log.writes.push(plan.write);
    log.lines.push(`${target}: would ${plan.change === 'update' ? 'update the repository condition of' : 'assign'} ${what}`);
    return { changed: true, action: plan.change === 'update' ? 'would update' : 'would create', roleAssignmentIds: plan.id ? [plan.id] : [] };
  }
  const outcome = await executeGrant(ctx.rbac, plan, principalId!, description);
  if (outcome.changed) {
    log.writes.push({ ...plan.write, principalId });
    log.lines.push(`${target}: assigned ${what}`);
  }
  return { changed: outcome.changed, action: outcome.changed ? 'created' : 'unchanged', roleAssignmentIds: outcome.id ? [outcome.id] : [] };
}

/**
 * Removes the principal's pull-role assignments exactly at the registry that this action made;
 * another party's stay, each named in a notice with the command that removes it. `who` names the
 * principal, `trailer` ends the done line.
 */
export async function detachPullRole(
  ctx: AksContext,
  log: ClusterLog,
  target: string,
  principalId: string,
  who: string,
  assignments: readonly RoleAssignment[],
  trailer = '',
): Promise<Outcome> {
  const { registry, role, settings } = ctx;
  const { doomed, foreign } = planDetach(registry, principalId, detachRoles(role), assignments);
  log.notices.push(...foreign.map((a) => foreignAssignmentNotice(target, a, registry.name)));
  const ids = doomed.map((a) => a.id);
  if (!doomed.length) {
    log.lines.push(
      `${target}: ${who} holds no pull role assignment on ${registry.name} made by acr-kube-auth; nothing to remove${foreign.length ? ` (${foreign.length} made by someone else left in place)` : ''}`,
    );
    return { changed: false, action: 'unchanged', roleAssignmentIds: [] };
  }
  const list = assignmentList(doomed);
  const writes = ids.map((id): Write => ({ kind: 'revoke', id }));
  if (settings.dryRun) {
    log.writes.push(...writes);
    log.lines.push(`${target}: would remove ${list} from ${who} on ${registry.name}`);
    return { changed: true, action: 'would delete', roleAssignmentIds: ids };
  }
  const changed = await executeRevoke(ctx.rbac, doomed);
  log.writes.push(...writes);
  log.lines.push(`${target}: removed ${list} from ${who} on ${registry.name}${trailer}`);
  return { changed, action: changed ? 'deleted' : 'unchanged', roleAssignmentIds: ids };
}
