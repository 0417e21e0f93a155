// The service-principal AKS scenario (issue #5). STUB written by the managed-identity helper to
// fix the interface with runAks (src/scenarios/aks.ts); the service-principal helper replaces the
// body. Contract:
//   - runAks resolves the registry once, resolves the role once (ctx.role), reads each cluster,
//     and calls servicePrincipalTarget(ctx, cluster) for clusters handled by this method
//     (auth-method: service-principal, or auto on a cluster without a kubelet identity);
//   - it returns the cluster's TargetResult (target = cluster.label) for settings.operation
//     (attach / detach / verify) honouring settings.dryRun; throwing fails only this cluster;
//   - run-wide findings go to ctx.result (warnings, notices, plan, summaryNotes, consentUrl);
//     runAks fills results, principalId, role, roleAssignmentIds and changed from the TargetResults.
import type { AksContext } from './aks.ts';
import type { ManagedCluster } from '../azure/aks.ts';
import type { TargetResult } from '../result.ts';
import { CheckError } from '../errors.ts';

export async function servicePrincipalTarget(_ctx: AksContext, cluster: ManagedCluster): Promise<TargetResult> {
  throw new CheckError(`cluster ${cluster.label} uses a service principal (servicePrincipalProfile.clientId ${cluster.servicePrincipalClientId ?? 'unset'}); auth-method service-principal is not available in this build yet`);
}
