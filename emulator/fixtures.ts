// Test and benchmark fixtures over the default world.
import type { EmulatorState } from './types.ts';
import { TENANT_A } from './ids.ts';

/** Kubelet identity object id of fleet cluster i (1-based). */
export const fleetPrincipalId = (i: number) => `f0f00000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/**
 * Adds n managed-identity AKS clusters `<prefix>-01`… beside rg-aks/aks-mi (in resource group
 * `resourceGroup`, default rg-aks; a group exists once a resource lives in it), cloned from it, each with its own kubelet identity (a managed
 * identity service principal in tenant A). Returns their names and resource ids.
 */
export function addFleet(
  state: EmulatorState,
  n: number,
  opts: { prefix?: string; resourceGroup?: string } = {},
): { names: string[]; ids: string[] } {
  const template = Object.values(state.resources).find((r) => /\/managedClusters\/aks-mi$/i.test(String(r.id)));
  if (!template) throw new Error('the default world has no rg-aks/aks-mi cluster to clone');
  const prefix = opts.prefix ?? 'fleet';
  const names: string[] = [];
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `${prefix}-${String(i).padStart(2, '0')}`;
    const oid = fleetPrincipalId(i);
    const c = structuredClone(template);
    c.id = String(template.id)
      .replace(/aks-mi$/, name)
      .replace(/\/resourcegroups\/[^/]+\//i, (m: string) => (opts.resourceGroup ? m.replace(/[^/]+\/$/, `${opts.resourceGroup}/`) : m));
    c.name = name;
    c.properties.identityProfile.kubeletidentity.objectId = oid;
    state.resources[String(c.id).toLowerCase()] = c;
    state.tenants[TENANT_A].servicePrincipals.push({
      id: oid,
      appId: oid.replace(/^f0f0/, 'f1f1'),
      displayName: `${name}-agentpool`,
      appOwnerOrganizationId: TENANT_A,
      servicePrincipalType: 'ManagedIdentity',
    });
    names.push(name);
    ids.push(String(c.id));
  }
  return { names, ids };
}
