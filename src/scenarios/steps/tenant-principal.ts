// An app's service principal in the registry's tenant, for every scenario that grants one (the
// AKS service-principal method and credential-type service-principal): found there, or
// provisioned (POST /servicePrincipals); a caller who may not provision it gets the admin-consent
// link, in the error and in the consent-url output.
import type { GraphClient, GraphServicePrincipal } from '../../azure/types.ts';
import type { Write } from '../../result.ts';
import { ApiError, CheckError } from '../../errors.ts';

/** The tenant the registry lives in: registry-tenant-id, else tenant-id (undefined: the login's). */
export function registryTenantOf(settings: { registry: { tenantId?: string }; tenantId?: string }): string | undefined {
  return settings.registry.tenantId ?? settings.tenantId;
}

/** The consent link for an app in a tenant, on the cloud's authority host. Pure. */
export function adminConsentUrl(authorityHost: string, tenantId: string, appId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/adminconsent?client_id=${encodeURIComponent(appId)}`;
}

/**
 * The failure when the principal is missing from the registry's tenant and the caller may not
 * create it; `permission`: Graph's hint naming the permission that would let it (graph.ts). Pure.
 */
export function consentMessage(appId: string, tenant: string, url: string, cause: string, permission?: string): string {
  return (
    `The service principal of app ${appId} does not exist in the registry's tenant ${tenant}, and the signed-in identity may not create it (${cause}). ` +
    `An administrator of tenant ${tenant} must consent to the multitenant app there first: open ${url} (the consent-url output), ` +
    `or run \`az ad sp create --id ${appId}\` signed in to that tenant. Then run this step again.` +
    (permission ? ` Or let this action create it from now on: ${permission}` : '')
  );
}

/** Graph (or ARM) denied the call: 401 or 403. */
export const isDenied = (e: unknown): e is ApiError => e instanceof ApiError && (e.status === 403 || e.status === 401);

/** The principal could not be provisioned: the step fails with this, and consent-url is `consentUrl`. */
export class ConsentRequiredError extends CheckError {
  override name = 'ConsentRequiredError';
  readonly consentUrl: string;
  constructor(message: string, consentUrl: string) {
    super(message);
    this.consentUrl = consentUrl;
  }
}

/** What was read: the app, the registry's tenant and the principal there, if any. */
export interface AppPrincipal {
  appId: string;
  /** the registry's tenant (undefined: the login's) */
  tenant: string | undefined;
  /** for messages and the consent link */
  tenantLabel: string;
  sp?: GraphServicePrincipal;
}

export async function readPrincipal(
  graph: Pick<GraphClient, 'servicePrincipal'>,
  appId: string,
  tenant: string | undefined,
  loginTenant: string | undefined,
): Promise<AppPrincipal> {
  return { appId, tenant, tenantLabel: tenant ?? loginTenant ?? 'organizations', sp: await graph.servicePrincipal(appId, tenant) };
}

export interface ProvisionStep {
  kind: 'provision';
  write: Extract<Write, { kind: 'provision-principal' }>;
  /** what the dry run prints */
  would: string;
}

/** The provisioning the principal needs: none when it is there. Pure. */
export function planProvision(p: AppPrincipal): ProvisionStep | undefined {
  if (p.sp) return undefined;
  return {
    kind: 'provision',
    write: { kind: 'provision-principal', appId: p.appId, ...(p.tenant ? { tenantId: p.tenant } : {}) },
    would: `would create the service principal of app ${p.appId} in tenant ${p.tenantLabel} (POST /servicePrincipals)`,
  };
}

/** Provisions the principal; returns it and the line for the log. A 401/403 is a ConsentRequiredError. */
export async function provision(
  graph: Pick<GraphClient, 'provisionServicePrincipal'>,
  p: AppPrincipal,
  authorityHost: string,
): Promise<{ sp: GraphServicePrincipal; line: string }> {
  try {
    const sp = await graph.provisionServicePrincipal(p.appId, p.tenant);
    return { sp, line: `created the service principal ${sp.id} of app ${p.appId} in tenant ${p.tenantLabel}` };
  } catch (e) {
    if (isDenied(e)) {
      const url = adminConsentUrl(authorityHost, p.tenantLabel, p.appId);
      throw new ConsentRequiredError(
        consentMessage(
          p.appId,
          p.tenantLabel,
          url,
          `Microsoft Graph answered ${e.status}${e.code ? ` ${e.code}` : ''}`,
          e.status === 403 ? e.hint : undefined,
        ),
        url,
      );
    }
    throw e;
  }
}
