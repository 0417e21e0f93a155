// AKS methods (managed-identity, service-principal) for one cluster or a fleet. Resolves the
// registry and the role once, reads every cluster (bounded by max-parallel, in parallel with the
// registry), and hands each cluster to its method: a kubelet identity means managed-identity
// under `auth-method: auto`, else service-principal. One cluster failing never stops the others;
// the step fails at the end (report.ts) naming each failed cluster.
import type { AksSettings as Settings, ServicePrincipalInputs } from '../settings.ts';
import type { Deps } from '../deps.ts';
import type { Result, TargetResult } from '../result.ts';
import type { AzureClients } from '../azure/types.ts';
import type { ManagedCluster } from '../azure/aks.ts';
import type { Registry } from '../azure/registry.ts';
import { emptyResult } from '../result.ts';
import { formatError } from '../errors.ts';
import { mapLimit } from '../pool.ts';
import { ABAC_MODE, chooseRole, isAbac, roleName } from '../roles.ts';
import { managedIdentityTarget } from './managed-identity.ts';

/** The pull role for this run, resolved once: a GUID always (a role given by name was looked up). */
export interface ResolvedRole {
  guid: string;
  displayName: string;
  /** ABAC repository condition (version 2.0) from `repositories` */
  condition?: string;
  /** chosen from the registry's mode (role: auto) */
  auto: boolean;
}

/** What each cluster's method is handed. Methods return their cluster's TargetResult. */
export interface AksContext {
  settings: Settings;
  deps: Deps;
  azure: AzureClients;
  registry: Registry;
  role: ResolvedRole;
  /** run-wide: warnings, notices, plan lines, summary notes, consentUrl (runAks fills the rest) */
  result: Result;
}

type Method = 'managed-identity' | 'service-principal';

/** Which method a cluster gets. Pure. */
export function methodFor(settings: Pick<Settings, 'authMethod'> & { servicePrincipal?: ServicePrincipalInputs }, cluster: ManagedCluster): Method {
  if (settings.authMethod === 'managed-identity' || settings.authMethod === 'service-principal') return settings.authMethod;
  // under auto, service-principal-only inputs mean service-principal (which refuses a reset on a managed-identity cluster)
  if (
    (settings.authMethod === 'auto' && settings.servicePrincipal?.resetClusterCredentials) ||
    (settings.authMethod === 'auto' && settings.servicePrincipal?.clientId)
  )
    return 'service-principal';
  return cluster.kubeletObjectId ? 'managed-identity' : 'service-principal';
}

async function resolveRole(settings: Settings, azure: AzureClients, registry: Registry, result: Result): Promise<ResolvedRole> {
  const plan = chooseRole(registry, settings.role, settings.repositories);
  result.warnings.push(...plan.warnings);
  if (plan.auto && isAbac(registry.roleAssignmentMode)) {
    result.summaryNotes.push(
      `${registry.name} is in ABAC mode (${ABAC_MODE}): AcrPull is not honoured there, so the pull role is Container Registry Repository Reader.`,
    );
  }
  // only a role given by a name we do not know needs a lookup; built-in ids are fixed
  const guid = plan.guid ?? (await azure.rbac(settings.registry.tenantId).roleIdByName(registry.id, plan.lookupName!));
  return { guid, displayName: plan.guid ? plan.displayName : (plan.lookupName ?? roleName(guid)), condition: plan.condition, auto: plan.auto };
}

export async function runAks(settings: Settings, deps: Deps): Promise<Result> {
  const azure = await deps.azure(settings);
  const result = emptyResult(settings.authMethod === 'service-principal' ? 'service-principal' : 'managed-identity', '');
  const registryTenant = settings.registry.tenantId;

  // The registry (and from it the role) once, in parallel with the clusters.
  const registryP = azure.registries.resolve(settings.registry, { tenantId: registryTenant });
  const roleP = registryP.then((r) => resolveRole(settings, azure, r, result));
  registryP.catch(() => undefined);
  roleP.catch(() => undefined);

  let spModule: Promise<typeof import('./service-principal.ts')> | undefined;
  const methods: Method[] = new Array(settings.clusters.length);

  const settled = await mapLimit(settings.clusters, settings.maxParallel, async (ref, i): Promise<TargetResult> => {
    let cluster: ManagedCluster;
    try {
      cluster = await azure.aks.get(ref);
    } catch (e) {
      // a registry failure is the whole step's; let it win over the cluster's
      await registryP;
      await roleP;
      throw e;
    }
    const [registry, role] = await Promise.all([registryP, roleP]);
    const method = (methods[i] = methodFor(settings, cluster));
    const ctx: AksContext = { settings, deps, azure, registry, role, result };
    if (method === 'managed-identity') return managedIdentityTarget(ctx, cluster);
    spModule ??= import('./service-principal.ts');
    return (await spModule).servicePrincipalTarget(ctx, cluster);
  });

  // A registry or role problem fails the step once, not every cluster with the same words.
  const registry = await registryP;
  const role = await roleP;

  result.loginServer = registry.loginServer;
  result.registryId = registry.id;
  result.role = role.displayName;
  result.results = settled.map((s, i) => {
    const label = settings.clusters[i].label;
    if (s.status === 'fulfilled') return { ...s.value, target: s.value.target || label };
    return { target: label, ok: false, changed: false, action: 'failed', role: role.displayName, error: formatError(s.reason) };
  });
  const used = methods.filter(Boolean);
  if (used.length && used.every((m) => m === 'service-principal')) result.authMethod = 'service-principal';
  else if (used.length) result.authMethod = 'managed-identity';
  if (new Set(used).size > 1) {
    result.summaryNotes.push(
      `auth-method auto: ${settings.clusters
        .filter((_, i) => methods[i] === 'managed-identity')
        .map((c) => c.label)
        .join(', ')} use managed-identity; ` +
        `${settings.clusters
          .filter((_, i) => methods[i] === 'service-principal')
          .map((c) => c.label)
          .join(', ')} use service-principal.`,
    );
  }

  const principals = [...new Set(result.results.map((r) => r.principalId).filter((p): p is string => !!p))];
  result.principalId = principals.join('\n') || undefined;
  result.roleAssignmentIds = [...new Set(result.results.flatMap((r) => r.roleAssignmentIds ?? []))];
  result.changed = result.results.some((r) => r.changed);
  return result;
}
