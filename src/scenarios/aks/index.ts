// AKS methods (managed-identity, service-principal) for one cluster or a fleet. Resolves the
// registry and the role once, reads every cluster (bounded by max-parallel, in parallel with the
// registry), and hands each cluster to its method: a kubelet identity means managed-identity
// (managed-identity.ts) under `auth-method: auto`, else service-principal (service-principal.ts). Each
// cluster keeps its own log (plan lines, writes, warnings, notes), is told to deps.settled as it
// finishes (report.ts prints its line then), and the logs are merged here in input order. One
// cluster failing never stops the others; the step fails at the end (report.ts) naming each
// failed cluster.
import type { AksSettings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { ManagedCluster } from '../../azure/types.ts';
import type { Result, TargetResult } from '../../result.ts';
import { emptyResult } from '../../result.ts';
import { formatError } from '../../errors.ts';
import { mapLimit } from '../../pool.ts';
import { resolveRole } from '../steps/role-grant.ts';
import { ConsentRequiredError } from '../steps/tenant-principal.ts';
import { methodFor, newClusterLog, type AksContext, type AksMethod, type ClusterLog, type ClusterMethod } from './context.ts';
import { managedIdentity } from './managed-identity.ts';

interface ClusterOutcome {
  method?: AksMethod;
  result: TargetResult;
  log: ClusterLog;
}

export async function runAks(settings: AksSettings, deps: Deps): Promise<Result> {
  // verify-from cluster (`image`): the probe's kubeconfig is an input too, read before any network call
  const probeKube =
    settings.verify.from === 'cluster' && settings.verify.images.length
      ? await (await import('../../kube/kubeconfig.ts')).resolveKubeconfig(settings.verify.kubeconfig, settings.verify.kubeContext, deps.env)
      : undefined;
  const azure = await deps.azure(settings);
  const fetched = new Map<string, ManagedCluster>();
  const rbac = azure.rbac(settings.registry.tenantId);

  // The registry (and from it the role) once, in parallel with the clusters.
  const registryP = azure.registries.resolve(settings.registry);
  const roleP = registryP.then((r) => resolveRole(settings, r, rbac));
  registryP.catch(() => undefined);
  roleP.catch(() => undefined);

  let spModule: Promise<ClusterMethod> | undefined;
  const clusterOutcome = async (ref: AksSettings['clusters'][number]): Promise<ClusterOutcome> => {
    let cluster: ManagedCluster;
    try {
      cluster = await azure.aks.get(ref);
      fetched.set(ref.label, cluster);
    } catch (e) {
      // a registry failure is the whole step's; let it win over the cluster's
      const role = (await Promise.all([registryP, roleP]))[1];
      const method = settings.authMethod === 'auto' ? undefined : settings.authMethod;
      return { method, log: newClusterLog(), result: failed(ref.label, role.displayName, e) };
    }
    const [registry, role] = await Promise.all([registryP, roleP]);
    const method = methodFor(settings, cluster);
    const ctx: AksContext = { settings, deps, azure, registry, role, rbac };
    const log = newClusterLog();
    const run: ClusterMethod =
      method === 'managed-identity' ? managedIdentity : await (spModule ??= import('./service-principal.ts').then((m) => m.servicePrincipal));
    try {
      return { method, log, result: await run(ctx, cluster, log) };
    } catch (e) {
      if (e instanceof ConsentRequiredError) log.consentUrl = e.consentUrl;
      return { method, log, result: failed(ref.label, role.displayName, e) };
    }
  };
  // Each cluster is reported as it settles (report.ts prints it); a registry or role failure is not a cluster's.
  const settled = await mapLimit(settings.clusters, settings.maxParallel, async (ref): Promise<ClusterOutcome> => {
    const outcome = await clusterOutcome(ref);
    deps.settled?.(withMethod(outcome), outcome.log.lines);
    return outcome;
  });

  // A registry or role problem fails the step once, not every cluster with the same words.
  const registry = await registryP;
  const role = await roleP;

  const outcomes = settled.map((s, i): ClusterOutcome =>
    s.status === 'fulfilled' ? s.value : { result: failed(settings.clusters[i].label, role.displayName, s.reason), log: newClusterLog() },
  );
  const result = merge(settings, outcomes, {
    loginServer: registry.loginServer,
    registryId: registry.id,
    role: role.displayName,
    warnings: role.warnings,
    notes: role.notes,
  });
  if (settings.verify.images.length && !settings.dryRun && settings.operation !== 'detach') {
    const { verifyAksImages } = await import('../../verify/aks.ts');
    await verifyAksImages(settings, deps, azure, registry, fetched, result, probeKube);
  }
  return result;
}

/** The cluster's result, naming the method it got. */
const withMethod = (o: ClusterOutcome): TargetResult => (o.method ? { ...o.result, authMethod: o.method } : o.result);

function failed(target: string, role: string, e: unknown): TargetResult {
  return { target, ok: false, changed: false, action: 'failed', role, error: formatError(e) };
}

/** The clusters' results and logs, in input order, into the run's Result. Pure. */
export function merge(
  settings: Pick<AksSettings, 'authMethod' | 'clusters'>,
  outcomes: readonly ClusterOutcome[],
  run: { loginServer: string; registryId: string; role: string; warnings: readonly string[]; notes: readonly string[] },
): Result {
  const used = outcomes.map((o) => o.method);
  const methods = used.filter((m): m is AksMethod => !!m);
  const authMethod =
    methods.length && methods.every((m) => m === 'service-principal')
      ? 'service-principal'
      : methods.length || settings.authMethod !== 'service-principal'
        ? 'managed-identity'
        : 'service-principal';
  const result = emptyResult(authMethod, run.loginServer);
  result.registryId = run.registryId;
  result.role = run.role;
  result.results = outcomes.map((o, i) => ({ ...withMethod(o), target: o.result.target || settings.clusters[i].label }));
  result.warnings.push(...run.warnings, ...outcomes.flatMap((o) => o.log.warnings));
  result.notices.push(...outcomes.flatMap((o) => o.log.notices));
  result.summaryNotes.push(...run.notes, ...outcomes.flatMap((o) => o.log.notes));
  result.plan.push(...outcomes.flatMap((o) => o.log.lines));
  result.writes.push(...outcomes.flatMap((o) => o.log.writes));
  const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))];
  result.consentUrl = distinct(outcomes.map((o) => o.log.consentUrl)).join('\n') || undefined;
  // the credential that expires first is the one to renew first
  result.expiresOn = distinct(outcomes.map((o) => o.log.expiresOn)).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  result.principalId = distinct(result.results.map((r) => r.principalId)).join('\n') || undefined;
  result.roleAssignmentIds = [...new Set(result.results.flatMap((r) => r.roleAssignmentIds ?? []))];
  result.changed = result.results.some((r) => r.changed);
  return result;
}
