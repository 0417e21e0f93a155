// The service-principal AKS method for one cluster (issue #5), Azure's second AKS scenario,
// including the cross-tenant procedure (registry in tenant B, cluster in tenant A, multitenant app):
//   attach: resolve the app's service principal in the registry's tenant (provision it there when
//           missing; a caller who may not gets the admin-consent link), grant the pull role with
//           the attach rules (deterministic name, ABAC-aware, idempotent), optionally add a client
//           secret in the app's home tenant and reset the cluster's credentials with it;
//   detach: remove the role assignment only;
//   verify: principal in the registry's tenant, an honoured pull role, the cluster runs as it, and
//           the app's newest secret has not expired (where Graph lets the caller read it).
// runAks (aks.ts) resolves the registry and role once and calls servicePrincipalTarget per cluster.
import type { ManagedCluster } from '../azure/aks.ts';
import type { GraphClient, GraphPasswordCredential, GraphServicePrincipal, NewClientSecret } from '../azure/graph.ts';
import type { RbacClient } from '../azure/rbac.ts';
import type { Registry } from '../azure/registry.ts';
import type { ServicePrincipalCapable } from '../settings.ts';
import type { TargetResult } from '../result.ts';
import type { AksContext } from './aks.ts';
import { ApiError, CheckError } from '../errors.ts';
import { adminConsentUrl, createClientSecret, describeSecrets, newestFirst } from '../azure/graph.ts';
import { checkPull, roleName } from '../roles.ts';
import { withRetry } from '../retry.ts';
import { detachRoles, planAttach, planDetach } from './managed-identity.ts';

// ------------------------------------------------------------------------------------- pure parts

/** The app (client id) to grant: `service-principal-client-id`, else the cluster's servicePrincipalProfile.clientId. */
export function principalAppId(settings: Pick<ServicePrincipalCapable, 'servicePrincipal'>, cluster: ManagedCluster): string {
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
export function checkResetAllowed(settings: Pick<ServicePrincipalCapable, 'servicePrincipal'>, cluster: ManagedCluster): void {
  if (!settings.servicePrincipal.resetClusterCredentials || !cluster.usesManagedIdentity) return;
  throw new CheckError(
    `reset-cluster-credentials: cluster ${cluster.label} uses a managed identity, not a service principal, so it has no service principal credentials to reset ` +
      '(AKS refuses resetServicePrincipalProfile on such clusters). Nothing was changed. Use auth-method: managed-identity to grant its kubelet identity pull rights instead.',
  );
}

/** The tenant the registry lives in: registry-tenant-id, else tenant-id (undefined: the login's). */
export function registryTenantOf(settings: { registry: { tenantId?: string }; tenantId?: string }): string | undefined {
  return settings.registry.tenantId ?? settings.tenantId;
}

/** The failure when the principal is missing from the registry's tenant and the caller may not create it. Pure. */
export function consentMessage(appId: string, tenant: string, url: string, cause: string): string {
  return (
    `The service principal of app ${appId} does not exist in the registry's tenant ${tenant}, and the signed-in identity may not create it (${cause}). ` +
    `An administrator of tenant ${tenant} must consent to the multitenant app there first: open ${url} (the consent-url output), ` +
    `or run \`az ad sp create --id ${appId}\` signed in to that tenant. Then run this step again.`
  );
}

export interface SecretCheck {
  ok: boolean;
  detail: string;
  problem?: string;
}

/** Verify: has the app's newest client secret (by start date) expired? Pure. */
export function checkNewestSecret(appId: string, creds: readonly GraphPasswordCredential[], now: Date): SecretCheck {
  const newest = newestFirst(creds)[0];
  if (!newest) {
    return {
      ok: false,
      detail: `app ${appId} has no client secrets`,
      problem: `app ${appId} has no client secret, so the cluster cannot sign in as it: run with create-secret: true and reset-cluster-credentials: true`,
    };
  }
  const name = newest.displayName ? `'${newest.displayName}' (${newest.keyId})` : newest.keyId;
  const end = newest.endDateTime ? Date.parse(newest.endDateTime) : NaN;
  if (Number.isNaN(end)) return { ok: true, detail: `newest client secret ${name} of app ${appId} has no expiry date` };
  if (end <= now.getTime()) {
    return {
      ok: false,
      detail: `newest client secret ${name} of app ${appId} expired ${newest.endDateTime}`,
      problem: `the newest client secret ${name} of app ${appId} expired on ${newest.endDateTime}: the cluster can no longer sign in with it; run with create-secret: true and reset-cluster-credentials: true`,
    };
  }
  return { ok: true, detail: `newest client secret ${name} of app ${appId} expires ${newest.endDateTime}` };
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

// ------------------------------------------------------------------------------------- the method

type Base = Pick<TargetResult, 'target' | 'principalId' | 'role'>;

interface Run {
  ctx: AksContext;
  cluster: ManagedCluster;
  appId: string;
  /** the registry's tenant (undefined: the login's) */
  tenant: string | undefined;
  /** for messages and the consent link */
  tenantLabel: string;
  graph: GraphClient;
  rbac: RbacClient;
}

export async function servicePrincipalTarget(ctx: AksContext, cluster: ManagedCluster): Promise<TargetResult> {
  const settings = ctx.settings as ServicePrincipalCapable; // methodFor picks this method only for these
  if (settings.operation === 'attach') checkResetAllowed(settings, cluster);
  const appId = principalAppId(settings, cluster);
  const tenant = registryTenantOf(settings);
  const run: Run = {
    ctx,
    cluster,
    appId,
    tenant,
    tenantLabel: tenant ?? ctx.azure.session.tenantId ?? 'organizations',
    graph: ctx.azure.graph,
    rbac: ctx.azure.rbac(settings.registry.tenantId),
  };
  if (settings.operation === 'verify') return verify(run);
  if (settings.operation === 'detach') return detach(run);
  return attach(run);
}

const where = (registry: Registry) => `${registry.name} (${registry.id})`;

/** The principal in the registry's tenant; provisions it when missing (not under dry-run). */
async function ensurePrincipal(run: Run): Promise<{ sp?: GraphServicePrincipal; provisioned: boolean }> {
  const { ctx, appId, tenant, tenantLabel, graph, cluster } = run;
  const found = await graph.servicePrincipal(appId, tenant);
  if (found) return { sp: found, provisioned: false };
  if (ctx.settings.dryRun) {
    ctx.result.plan.push(`${cluster.label}: would create the service principal of app ${appId} in tenant ${tenantLabel} (POST /servicePrincipals)`);
    return { provisioned: true };
  }
  try {
    const sp = await graph.provisionServicePrincipal(appId, tenant);
    ctx.result.plan.push(`${cluster.label}: created the service principal ${sp.id} of app ${appId} in tenant ${tenantLabel}`);
    return { sp, provisioned: true };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
      const url = adminConsentUrl(ctx.settings.cloud.authorityHost, tenantLabel, appId);
      ctx.result.consentUrl = url;
      throw new CheckError(consentMessage(appId, tenantLabel, url, `Microsoft Graph answered ${e.status}${e.code ? ` ${e.code}` : ''}`));
    }
    throw e;
  }
}

async function attach(run: Run): Promise<TargetResult> {
  const { ctx, cluster, appId, graph, rbac } = run;
  const { registry, role } = ctx;
  const settings = ctx.settings as ServicePrincipalCapable;
  const base: Base = { target: cluster.label, role: role.displayName };
  const steps: string[] = [];
  const details: string[] = [];
  let changed = false;

  if (cluster.servicePrincipalClientId && cluster.servicePrincipalClientId !== appId && !settings.servicePrincipal.resetClusterCredentials) {
    ctx.result.warnings.push(
      `${cluster.label} runs as service principal ${cluster.servicePrincipalClientId}, not ${appId}: the grant to ${appId} lets the cluster pull only once its credentials are reset to it (reset-cluster-credentials).`,
    );
  }

  // 1. the principal in the registry's tenant
  const { sp, provisioned } = await ensurePrincipal(run);
  if (provisioned) {
    changed = true;
    steps.push(settings.dryRun ? 'would provision principal' : 'provisioned principal');
  }
  const principalId = sp?.id;
  details.push(`service principal ${principalId ?? '(to be created)'} of app ${appId} in tenant ${run.tenantLabel}`);

  // 2. the pull role (the attach rules: deterministic name, ABAC-aware, idempotent)
  const what = `${role.displayName}${role.condition ? ` (limited to ${settings.repositories.join(', ')})` : ''} to ${principalId ?? `app ${appId}`} on ${where(registry)}`;
  let roleAssignmentIds: string[] = [];
  if (settings.dryRun) {
    const plan = principalId ? planAttach(registry, principalId, role, await rbac.listForPrincipal(registry.id, principalId)) : undefined;
    if (plan?.kind === 'unchanged') {
      ctx.result.plan.push(`${cluster.label}: ${role.displayName} is already assigned to ${principalId} on ${registry.name}; nothing to do`);
      roleAssignmentIds = [plan.existing.id];
      steps.push('unchanged');
    } else {
      ctx.result.plan.push(`${cluster.label}: would ${plan?.kind === 'update' ? 'update the repository condition of' : 'assign'} ${what}`);
      if (plan) roleAssignmentIds = [plan.id];
      changed = true;
      steps.push(plan?.kind === 'update' ? 'would update' : 'would create');
    }
  } else {
    const outcome = await rbac.ensure({
      scope: registry.id,
      roleGuid: role.guid,
      principalId: principalId!,
      condition: role.condition,
      description: `acr-kube-auth: AKS service principal ${appId} pulls from this registry`,
    });
    if (outcome.changed) ctx.result.plan.push(`${cluster.label}: assigned ${what}`);
    roleAssignmentIds = outcome.id ? [outcome.id] : [];
    changed ||= outcome.changed;
    steps.push(outcome.changed ? 'created' : 'unchanged');
  }

  // 3. a new client secret, in the app's home tenant
  let secret: string | undefined = settings.servicePrincipal.secret;
  let created: NewClientSecret | undefined;
  if (settings.servicePrincipal.createSecret) {
    const home = sp?.appOwnerOrganizationId;
    if (settings.dryRun) {
      ctx.result.plan.push(
        `${cluster.label}: would add a client secret valid for ${settings.secretExpiry.text} to app ${appId}${home ? ` in its home tenant ${home}` : ''}`,
      );
      steps.push('would add secret');
    } else {
      created = await createClientSecret(graph, {
        appId,
        tenantId: settings.tenantId,
        homeTenantId: home,
        lifetimeMs: settings.secretExpiry.ms,
        now: ctx.deps.now(),
      });
      secret = created.secretText;
      changed = true;
      steps.push('secret added');
      ctx.result.expiresOn = created.endDateTime;
      ctx.result.plan.push(
        `${cluster.label}: added client secret ${created.keyId} to app ${appId} in tenant ${created.tenantId ?? '(login tenant)'}, expiring ${created.endDateTime}`,
      );
      ctx.result.summaryNotes.push(
        `New client secret ${created.keyId} on app ${appId} expires ${created.endDateTime}; ${await otherSecrets(run, created)}.`,
      );
    }
  }

  // 4. reset the cluster's service principal credentials (a long-running operation)
  if (settings.servicePrincipal.resetClusterCredentials) {
    if (settings.dryRun) {
      ctx.result.plan.push(
        `${cluster.label}: would reset the cluster's service principal to ${appId} with the ${created || settings.servicePrincipal.createSecret ? 'new' : 'given'} secret (resetServicePrincipalProfile)`,
      );
      steps.push('would reset credentials');
      changed = true;
    } else {
      await resetCredentials(run, secret!, !!created);
      changed = true;
      steps.push('credentials reset');
      ctx.result.plan.push(`${cluster.label}: reset the cluster's service principal credentials to app ${appId}`);
    }
  }

  return {
    ...base,
    principalId,
    ok: true,
    changed,
    action: steps.join(', '),
    roleAssignmentIds,
    ...(created ? { expiresOn: created.endDateTime } : {}),
    details,
  };
}

/** "N other client secrets remain …", or why they could not be read. */
async function otherSecrets(run: Run, created: NewClientSecret): Promise<string> {
  try {
    const app = await run.graph.application(run.appId, created.tenantId);
    if (!app) return 'the other client secrets could not be listed (the app registration is not visible in its home tenant)';
    return describeSecrets(app.passwordCredentials, run.ctx.deps.now(), created.keyId);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 401))
      return 'the other client secrets could not be listed (no permission to read the app registration)';
    throw e;
  }
}

const SP_VALIDATION = /ServicePrincipalValidation|InvalidServicePrincipal|AADSTS7000215/i;

async function resetCredentials(run: Run, secret: string, fresh: boolean): Promise<void> {
  const { ctx, cluster, appId } = run;
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

async function detach(run: Run): Promise<TargetResult> {
  const { ctx, cluster, appId, graph, rbac, tenant } = run;
  const { registry, role, settings } = ctx;
  const base: Base = { target: cluster.label, role: role.displayName };
  const sp = await graph.servicePrincipal(appId, tenant);
  if (!sp) {
    ctx.result.plan.push(
      `${cluster.label}: app ${appId} has no service principal in tenant ${run.tenantLabel}, so it holds no role on ${registry.name}; nothing to remove`,
    );
    return { ...base, ok: true, changed: false, action: 'unchanged', roleAssignmentIds: [] };
  }
  const principalId = sp.id;
  const doomed = planDetach(registry, principalId, detachRoles(role), await rbac.listForPrincipal(registry.id, principalId));
  const ids = doomed.map((a) => a.id);
  if (!doomed.length) {
    ctx.result.plan.push(`${cluster.label}: ${principalId} (app ${appId}) holds no pull role assignment on ${registry.name}; nothing to remove`);
    return { ...base, principalId, ok: true, changed: false, action: 'unchanged', roleAssignmentIds: [] };
  }
  const list = doomed.map((a) => `${roleName(a.roleGuid)} (${a.id})`).join(', ');
  if (settings.dryRun) {
    ctx.result.plan.push(`${cluster.label}: would remove ${list} from ${principalId} (app ${appId}) on ${registry.name}`);
    return { ...base, principalId, ok: true, changed: true, action: 'would delete', roleAssignmentIds: ids };
  }
  const removed = await Promise.all(doomed.map((a) => rbac.delete(a.id)));
  const changed = removed.some(Boolean);
  ctx.result.plan.push(
    `${cluster.label}: removed ${list} from ${principalId} (app ${appId}) on ${registry.name}; the service principal and its secrets are left alone`,
  );
  return { ...base, principalId, ok: true, changed, action: changed ? 'deleted' : 'unchanged', roleAssignmentIds: ids };
}

async function verify(run: Run): Promise<TargetResult> {
  const { ctx, cluster, appId, graph, rbac, tenant } = run;
  const { registry, role, settings } = ctx;
  const base: Base = { target: cluster.label, role: role.displayName };
  const problems: string[] = [];
  const details: string[] = [];
  let granting: string[] = [];

  // 1. the principal exists in the registry's tenant
  const sp = await graph.servicePrincipal(appId, tenant);
  if (!sp) {
    problems.push(
      `app ${appId} has no service principal in the registry's tenant ${run.tenantLabel}: run attach (it provisions it, or gives the admin-consent link)`,
    );
  } else {
    details.push(`service principal ${sp.id} of app ${appId} in tenant ${run.tenantLabel}`);
    // 2. it holds a pull role the registry honours
    const check = checkPull(
      registry,
      sp.id,
      await rbac.listForPrincipal(registry.id, sp.id),
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
    (await graph.servicePrincipal(appId, settings.tenantId).catch(() => undefined))?.appOwnerOrganizationId ??
    settings.tenantId;
  try {
    const app = await graph.application(appId, home);
    if (!app) {
      details.push(`app registration ${appId} is not visible in tenant ${home ?? '(login tenant)'}: its secrets were not checked`);
    } else {
      const s = checkNewestSecret(appId, app.passwordCredentials, ctx.deps.now());
      details.push(s.detail);
      if (s.problem) problems.push(s.problem);
    }
  } catch (e) {
    if (!(e instanceof ApiError && (e.status === 403 || e.status === 401))) throw e;
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
