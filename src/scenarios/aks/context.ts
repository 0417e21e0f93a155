// What every AKS cluster's method is handed (the run-wide reads: registry, role, clients) and what
// it hands back besides its TargetResult (its own plan lines, writes, warnings, notes), which
// runAks merges in input order. Also which method a cluster gets.
import type { AksSettings, ServicePrincipalInputs } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { AzureClients, ManagedCluster, RbacClient, Registry } from '../../azure/types.ts';
import type { TargetResult, Write } from '../../result.ts';
import type { ResolvedRole } from '../steps/role-grant.ts';

export type AksMethod = 'managed-identity' | 'service-principal';

export interface AksContext {
  settings: AksSettings;
  deps: Deps;
  azure: AzureClients;
  registry: Registry;
  role: ResolvedRole;
  /** role assignments, in the registry's tenant */
  rbac: RbacClient;
}

/** One cluster's own record of the run; only its method writes to it. */
export interface ClusterLog {
  /** plan lines: what would be done (dry run), else what was done */
  lines: string[];
  writes: Write[];
  warnings: string[];
  /** job summary lines */
  notes: string[];
  /** `::notice::` lines (what was left alone as another party's) */
  notices: string[];
  consentUrl?: string;
  expiresOn?: string;
}

export const newClusterLog = (): ClusterLog => ({ lines: [], writes: [], warnings: [], notes: [], notices: [] });

/** A cluster's method: reads, plans, and (unless dry-run) carries out the plan for one cluster. */
export type ClusterMethod = (ctx: AksContext, cluster: ManagedCluster, log: ClusterLog) => Promise<TargetResult>;

/** Which method a cluster gets. Pure. */
export function methodFor(
  settings: Pick<AksSettings, 'authMethod'> & { servicePrincipal?: ServicePrincipalInputs },
  cluster: Pick<ManagedCluster, 'kubeletObjectId'>,
): AksMethod {
  if (settings.authMethod === 'managed-identity' || settings.authMethod === 'service-principal') return settings.authMethod;
  // under auto, service-principal-only inputs mean service-principal (which refuses a reset on a managed-identity cluster)
  if (settings.servicePrincipal?.resetClusterCredentials || settings.servicePrincipal?.clientId) return 'service-principal';
  return cluster.kubeletObjectId ? 'managed-identity' : 'service-principal';
}

/**
 * One planned write of a cluster's method: under dry-run only its write and its line (`would`)
 * are logged; else `execute` carries it out and the line it returns is logged. Returns the
 * action word for the result (`actions`: [dry-run, done]).
 */
export async function perform(
  ctx: Pick<AksContext, 'settings'>,
  log: ClusterLog,
  target: string,
  write: Write,
  would: string,
  actions: [string, string],
  execute: () => Promise<string>,
): Promise<string> {
  if (ctx.settings.dryRun) {
    log.writes.push(write);
    log.lines.push(`${target}: ${would}`);
    return actions[0];
  }
  const line = await execute();
  log.writes.push(write);
  log.lines.push(`${target}: ${line}`);
  return actions[1];
}
