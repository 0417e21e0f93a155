// The service-principal AKS method for one cluster (issue #5), Azure's second AKS scenario,
// including the cross-tenant procedure (registry in tenant B, cluster in tenant A, multitenant app):
//   attach: resolve the app's service principal in the registry's tenant (provision it there when
//           missing; a caller who may not gets the admin-consent link), grant the pull role with
//           the attach rules (deterministic name, ABAC-aware, idempotent), optionally add a client
//           secret in the app's home tenant and reset the cluster's credentials with it;
//   detach: remove the role assignment only;
//   verify: principal in the registry's tenant, an honoured pull role, the cluster runs as it, and
//           the app's newest secret has not expired (where Graph lets the caller read it).
// Attach reads first, plans every step (planAttach), then carries the plan out or, under
// dry-run, prints it.
import type { ManagedCluster, NewClientSecret, RoleAssignment } from '../../azure/types.ts';
import type { ServicePrincipalCapable } from '../../settings.ts';
import type { TargetResult, Write } from '../../result.ts';
import { ApiError, CheckError } from '../../errors.ts';
import { checkPull } from '../../roles.ts';
import { withRetry } from '../../retry.ts';
import { checkNewestSecret, createClientSecret, describeSecrets } from '../steps/client-secret.ts';
import { grantReadsFirst, planGrant, type GrantStep } from '../steps/role-grant.ts';
import {
  isDenied,
  planProvision,
  provision,
  readPrincipal,
  registryTenantOf,
  type AppPrincipal,
  type ProvisionStep,
} from '../steps/tenant-principal.ts';
import { perform, type AksContext, type ClusterLog } from './context.ts';
import { attachPullRole, detachPullRole } from './cluster-role.ts';

// ------------------------------------------------------------------------------------- pure parts

type SpSettings = Pick<ServicePrincipalCapable, 'servicePrincipal'>;

/** The app (client id) to grant: `service-principal-client-id`, else the cluster's servicePrincipalProfile.clientId. */
export function principalAppId(settings: SpSettings, cluster: ManagedCluster): string {
  const given = settings.servicePrincipal.clientId;
  if (given) return given.toLowerCase();
  if (cluster.servicePrincipalClientId) return cluster.servicePrincipalClientId.toLowerCase();
  const kubelet = cluster.kubeletObjectId ? ` Its kubelet identity is ${cluster.kubeletObjectId}.` : '';
  throw new CheckError(
    `Cluster ${cluster.label} has no service principal (servicePrincipalProfile.clientId is ${cluster.usesManagedIdentity ? "'msi'" : 'unset'}): it uses a managed identity.${kubelet} ` +
      'Use auth-method: managed-identity (or auto), or name the principal with service-principal-client-id.',
  );
}

/** reset-cluster-credentials is refused on managed-identity clusters, before anything is written. Pure. */
export function checkResetAllowed(settings: SpSettings, cluster: ManagedCluster): void {
  if (!settings.servicePrincipal.resetClusterCredentials || !cluster.usesManagedIdentity) return;
  throw new CheckError(
    `reset-cluster-credentials: cluster ${cluster.label} uses a managed identity, not a service principal, so it has no service principal credentials to reset ` +
      '(AKS refuses resetServicePrincipalProfile on such clusters). Nothing was changed. Use auth-method: managed-identity to grant its kubelet identity pull rights instead.',
  );
}

/** Verify: does the cluster run as the principal that was granted? Pure. */
export function checkClusterPrincipal(cluster: ManagedCluster, appId: string): string | undefined {
  if (cluster.usesManagedIdentity) {
    return `cluster ${cluster.label} uses a managed identity${cluster.kubeletObjectId ? ` (kubelet identity ${cluster.kubeletObjectId})` : ''}, not service principal ${appId}; verify it with auth-method: managed-identity`;
  }
  if (!cluster.servicePrincipalClientId) return `cluster ${cluster.label} has no servicePrincipalProfile.clientId`;
  if (cluster.servicePrincipalClientId.toLowerCase() !== appId.toLowerCase()) {
    return `cluster ${cluster.label} runs as service principal ${cluster.servicePrincipalClientId}, not ${appId} (the one checked): reset its credentials to ${appId} (reset-cluster-credentials) or check service-principal-client-id`;
  }
  return undefined;
}

/** Everything attach will write, in order, from what was read. Pure. */
export interface AttachPlan {
  provision?: ProvisionStep;
  grant: GrantStep | { kind: 'unchanged'; existing: RoleAssignment };
  /** create-secret: a new client secret in the app's home tenant */
  addSecret?: { home?: string; write: Write };
  /** reset-cluster-credentials, with the new or the given secret */
  reset?: { fresh: boolean; write: Write };
}

export function planAttach(
  ctx: Pick<AksContext, 'registry' | 'role'> & { settings: SpSettings },
  cluster: ManagedCluster,
  principal: AppPrincipal,
  assignments: readonly RoleAssignment[] | undefined,
): AttachPlan {
  const sp = ctx.settings.servicePrincipal;
  return {
    provision: planProvision(principal),
    grant: planGrant(ctx.registry, ctx.role, principal.sp?.id, assignments),
    ...(sp.createSecret
      ? {
          addSecret: {
            home: principal.sp?.appOwnerOrganizationId,
            write: {
              kind: 'add-client-secret',
              appId: principal.appId,
            },
          },
        }
      : {}),
    ...(sp.resetClusterCredentials
      ? { reset: { fresh: sp.createSecret, write: { kind: 'reset-credentials', clusterId: cluster.id, appId: principal.appId } } }
      : {}),
  };
}

// ------------------------------------------------------------------------------------- the method

type Base = Pick<TargetResult, 'target' | 'principalId' | 'role'>;

export async function servicePrincipal(ctx: AksContext, cluster: ManagedCluster, log: ClusterLog): Promise<TargetResult> {
  const settings = ctx.settings as ServicePrincipalCapable; // methodFor picks this method only for these
  if (settings.operation === 'attach') checkResetAllowed(settings, cluster);
  const appId = principalAppId(settings, cluster);
  const principal = await readPrincipal(ctx.azure.graph, appId, registryTenantOf(settings), ctx.azure.session.tenantId);
  const base: Base = { target: cluster.label, role: ctx.role.displayName };
  if (settings.operation === 'verify') return verify(ctx, settings, cluster, principal, base);
  if (settings.operation === 'detach') {
    if (!principal.sp) {
      log.lines.push(
        `${cluster.label}: app ${appId} has no service principal in tenant ${principal.tenantLabel}, so it holds no role on ${ctx.registry.name}; nothing to remove`,
      );
      return { ...base, ok: true, changed: false, action: 'unchanged', roleAssignmentIds: [] };
    }
    const principalId = principal.sp.id;
    const assignments = await ctx.rbac.listForPrincipal(ctx.registry.id, principalId);
    const outcome = await detachPullRole(
      ctx,
      log,
      cluster.label,
      principalId,
      `${principalId} (app ${appId})`,
      assignments,
      '; the service principal and its secrets are left alone',
    );
    return { ...base, principalId, ok: true, ...outcome };
  }
  const assignments =
    principal.sp && grantReadsFirst(ctx.role, settings.dryRun) ? await ctx.rbac.listForPrincipal(ctx.registry.id, principal.sp.id) : undefined;
  return attach(ctx, settings, cluster, principal, planAttach({ ...ctx, settings }, cluster, principal, assignments), log, base);
}

async function attach(
  ctx: AksContext,
  settings: ServicePrincipalCapable,
  cluster: ManagedCluster,
  principal: AppPrincipal,
  plan: AttachPlan,
  log: ClusterLog,
  base: Base,
): Promise<TargetResult> {
  const { appId } = principal;
  const label = cluster.label;
  const steps: string[] = [];
  const details: string[] = [];
  let changed = false;

  if (cluster.servicePrincipalClientId && cluster.servicePrincipalClientId !== appId && !settings.servicePrincipal.resetClusterCredentials) {
    log.warnings.push(
      `${label} runs as service principal ${cluster.servicePrincipalClientId}, not ${appId}: the grant to ${appId} lets the cluster pull only once its credentials are reset to it (reset-cluster-credentials).`,
    );
  }

  // 1. the principal in the registry's tenant
  let sp = principal.sp;
  if (plan.provision) {
    changed = true;
    const made = async () => {
      const p = await provision(ctx.azure.graph, principal, settings.cloud.authorityHost);
      sp = p.sp;
      return p.line;
    };
    steps.push(
      await perform(ctx, log, label, plan.provision.write, plan.provision.would, ['would provision principal', 'provisioned principal'], made),
    );
  }
  const principalId = sp?.id;
  details.push(`service principal ${principalId ?? '(to be created)'} of app ${appId} in tenant ${principal.tenantLabel}`);

  // 2. the pull role (the attach rules: deterministic name, ABAC-aware, idempotent)
  const granted = await attachPullRole(
    ctx,
    log,
    label,
    plan.grant,
    principalId,
    principalId ?? `app ${appId}`,
    `acr-kube-auth: AKS service principal ${appId} pulls from this registry`,
  );
  changed ||= granted.changed;
  steps.push(granted.action);

  // 3. a new client secret, in the app's home tenant
  let secret: string | undefined = settings.servicePrincipal.secret;
  let created: NewClientSecret | undefined;
  if (plan.addSecret) {
    changed = true;
    const home = sp?.appOwnerOrganizationId ?? plan.addSecret.home;
    const would = `would add a client secret valid for ${settings.secretExpiry.text} to app ${appId}${home ? ` in its home tenant ${home}` : ''}`;
    const add = async () => {
      const c = await createClientSecret(ctx.azure.graph, {
        appId,
        tenantId: settings.tenantId,
        homeTenantId: home,
        lifetimeMs: settings.secretExpiry.ms,
        now: ctx.deps.now(),
      });
      created = c;
      secret = c.secretText;
      log.expiresOn = c.endDateTime;
      log.notes.push(`New client secret ${c.keyId} on app ${appId} expires ${c.endDateTime}; ${await otherSecrets(ctx, appId, c)}.`);
      return `added client secret ${c.keyId} to app ${appId} in tenant ${c.tenantId ?? '(login tenant)'}, expiring ${c.endDateTime}`;
    };
    steps.push(await perform(ctx, log, label, plan.addSecret.write, would, ['would add secret', 'secret added'], add));
  }

  // 4. reset the cluster's service principal credentials (a long-running operation)
  if (plan.reset) {
    changed = true;
    const would = `would reset the cluster's service principal to ${appId} with the ${plan.reset.fresh ? 'new' : 'given'} secret (resetServicePrincipalProfile)`;
    const reset = async () => {
      await resetCredentials(ctx, cluster, appId, secret!, !!created);
      return `reset the cluster's service principal credentials to app ${appId}`;
    };
    steps.push(await perform(ctx, log, label, plan.reset.write, would, ['would reset credentials', 'credentials reset'], reset));
  }

  const expiresOn = (created as NewClientSecret | undefined)?.endDateTime;
  return {
    ...base,
    principalId,
    ok: true,
    changed,
    action: steps.join(', '),
    roleAssignmentIds: granted.roleAssignmentIds,
    ...(expiresOn ? { expiresOn } : {}),
    details,
  };
}

/** "N other client secrets remain …", or why they could not be read. */
async function otherSecrets(ctx: AksContext, appId: string, created: NewClientSecret): Promise<string> {
  try {
    const app = await ctx.azure.graph.application(appId, created.tenantId);
    if (!app) return 'the other client secrets could not be listed (the app registration is not visible in its home tenant)';
    return describeSecrets(app.passwordCredentials, ctx.deps.now(), created.keyId);
  } catch (e) {
    if (isDenied(e)) return 'the other client secrets could not be listed (no permission to read the app registration)';
    throw e;
  }
}

const SP_VALIDATION = /ServicePrincipalValidation|InvalidServicePrincipal|AADSTS7000215/i;

async function resetCredentials(ctx: AksContext, cluster: ManagedCluster, appId: string, secret: string, fresh: boolean): Promise<void> {
  // A secret created moments ago may not have replicated in Entra yet: AKS's validation of it is
  // retried a few times then. A given secret that fails validation fails at once.
  await withRetry(() => ctx.azure.aks.resetServicePrincipalProfile(cluster, appId, secret), {
    attempts: fresh ? 4 : 1,
    baseMs: 5_000,
    maxDelayMs: 20_000,
    budgetMs: 60_000,
    sleep: ctx.deps.sleep,
    retryable: (e) => e instanceof ApiError && SP_VALIDATION.test(`${e.code ?? ''} ${e.message}`),
    onRetry: (_e, attempt) =>
      ctx.deps.runner.info(`${cluster.label}: AKS could not validate the new secret yet (replication); retrying the reset (attempt ${attempt + 1})`),
  });
}

async function verify(
  ctx: AksContext,
  settings: ServicePrincipalCapable,
  cluster: ManagedCluster,
  principal: AppPrincipal,
  base: Base,
): Promise<TargetResult> {
  const { registry, role, azure } = ctx;
  const { appId, sp } = principal;
  const problems: string[] = [];
  const details: string[] = [];
  let granting: string[] = [];

  // 1. the principal exists in the registry's tenant
  if (!sp) {
    problems.push(
      `app ${appId} has no service principal in the registry's tenant ${principal.tenantLabel}: run attach (it provisions it, or gives the admin-consent link)`,
    );
  } else {
    details.push(`service principal ${sp.id} of app ${appId} in tenant ${principal.tenantLabel}`);
    // 2. it holds a pull role the registry honours
    const check = checkPull(
      registry,
      sp.id,
      await ctx.rbac.listForPrincipal(registry.id, sp.id),
      settings.repositories,
      role.auto ? undefined : role.guid,
    );
    details.push(...check.details);
    if (!check.ok) problems.push(...check.problems.slice(0, 1));
    granting = check.granting.map((a) => a.id);
  }

  // 3. the cluster runs as that principal
  const wrongPrincipal = checkClusterPrincipal(cluster, appId);
  if (wrongPrincipal) problems.push(wrongPrincipal);
  else details.push(`cluster ${cluster.label} runs as app ${appId}`);

  // 4. the app's newest secret has not expired (where Graph lets the caller read it)
  const home =
    sp?.appOwnerOrganizationId ??
    (await azure.graph.servicePrincipal(appId, settings.tenantId).catch(() => undefined))?.appOwnerOrganizationId ??
    settings.tenantId;
  try {
    const app = await azure.graph.application(appId, home);
    if (!app) {
      details.push(`app registration ${appId} is not visible in tenant ${home ?? '(login tenant)'}: its secrets were not checked`);
    } else {
      const s = checkNewestSecret(appId, app.passwordCredentials, ctx.deps.now());
      details.push(s.detail);
      if (s.problem) problems.push(s.problem);
    }
  } catch (e) {
    if (!isDenied(e)) throw e;
    details.push(`the app registration's secrets of ${appId} were not checked: Graph denied reading it (${e.status}${e.code ? ` ${e.code}` : ''})`);
  }

  if (problems.length) {
    return {
      ...base,
      principalId: sp?.id,
      ok: false,
      changed: false,
      action: 'verify failed',
      error: problems.join('; '),
      details,
      roleAssignmentIds: [],
    };
  }
  return { ...base, principalId: sp?.id, ok: true, changed: false, action: 'verified', details, roleAssignmentIds: granting };
}
