// The managed-identity AKS method for one cluster: grant (attach), remove (detach) or check
// (verify) the kubelet identity's pull role on the registry, or say what would be done (dry run).
import type { ManagedCluster } from '../../azure/types.ts';
import type { TargetResult } from '../../result.ts';
import { CheckError } from '../../errors.ts';
import { checkPull } from '../../roles.ts';
import { grantReadsFirst, planGrant } from '../steps/role-grant.ts';
import type { AksContext, ClusterLog } from './context.ts';
import { attachPullRole, detachPullRole } from './cluster-role.ts';

/** The principal that pulls: the kubelet identity. A cluster without one is a service-principal cluster. */
export function kubeletPrincipal(cluster: ManagedCluster): string {
  if (cluster.kubeletObjectId) return cluster.kubeletObjectId;
  const sp = cluster.servicePrincipalClientId ? ` It runs as service principal ${cluster.servicePrincipalClientId}.` : '';
  throw new CheckError(
    `Cluster ${cluster.label} has no kubelet identity (identityProfile.kubeletidentity.objectId), so there is no managed identity to grant.${sp} Use auth-method: service-principal (or auto, which picks it for such clusters).`,
  );
}

export async function managedIdentity(ctx: AksContext, cluster: ManagedCluster, log: ClusterLog): Promise<TargetResult> {
  const principalId = kubeletPrincipal(cluster);
  const { settings, registry, role, rbac } = ctx;
  const base = { target: cluster.label, principalId, role: role.displayName };
  const reads = settings.operation !== 'attach' || grantReadsFirst(role, settings.dryRun);
  const assignments = reads ? await rbac.listForPrincipal(registry.id, principalId) : undefined;
  if (settings.operation === 'verify') {
    const check = checkPull(registry, principalId, assignments!, settings.repositories, role.auto ? undefined : role.guid);
    const details = [`kubelet identity ${principalId} of ${cluster.id}`, ...check.details];
    if (check.ok) return { ...base, ok: true, changed: false, action: 'verified', details, roleAssignmentIds: check.granting.map((a) => a.id) };
    return { ...base, ok: false, changed: false, action: 'verify failed', error: check.problems.join('; '), details, roleAssignmentIds: [] };
  }
  const outcome =
    settings.operation === 'detach'
      ? await detachPullRole(ctx, log, cluster.label, principalId, principalId, assignments!)
      : await attachPullRole(
          ctx,
          log,
          cluster.label,
          planGrant(registry, role, principalId, assignments),
          principalId,
          principalId,
          'acr-kube-auth: AKS kubelet identity pulls from this registry',
        );
  return { ...base, ok: true, ...outcome };
}
