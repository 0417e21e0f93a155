// Test and benchmark fixtures over the default world.
import type { EmulatorState } from './types.ts';
import { SUB_1, TENANT_A } from './ids.ts';

/**
 * Adds n managed-identity AKS clusters `fleet-01`… in SUB_1/rg-fleet, cloned from rg-aks/aks-mi, each
 * with its own kubelet identity (a service principal in tenant A). Returns the cluster names.
 */
export function addFleet(state: EmulatorState, n: number, prefix = 'fleet'): string[] {
  const templateId = Object.keys(state.resources).find((id) => id.endsWith('/managedclusters/aks-mi'));
  if (!templateId) throw new Error('the default world has no rg-aks/aks-mi cluster to clone');
  const template = state.resources[templateId];
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `${prefix}-${String(i).padStart(2, '0')}`;
    const oid = `f0000000-0000-4000-8001-${String(i).padStart(12, '0')}`;
    const id = `/subscriptions/${SUB_1}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/${name}`;
    const clone = JSON.parse(JSON.stringify(template)) as Record<string, any>;
    clone.id = id;
    clone.name = name;
    if (clone.properties?.identityProfile?.kubeletidentity) clone.properties.identityProfile.kubeletidentity.objectId = oid;
    state.resources[id.toLowerCase()] = clone;
    state.tenants[TENANT_A].servicePrincipals.push({ id: oid, appId: `f1000000-0000-4000-8001-${String(i).padStart(12, '0')}`, displayName: `${name}-agentpool`, appOwnerOrganizationId: TENANT_A, servicePrincipalType: 'ManagedIdentity' });
    names.push(name);
  }
  return names;
}
