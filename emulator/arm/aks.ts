// ARM: Microsoft.ContainerService/managedClusters (get, list, resetServicePrincipalProfile) and AKS operations.
import type { EmuContext, EmuRequest, EmuResponse, EmulatorState, Handler } from '../types.ts';
import {
  apiVersionOf,
  armErr,
  bodyObject,
  gateOperation,
  gateResourceGroup,
  gateSubscription,
  getResource,
  isArmRequest,
  json,
  lc,
  listResources,
  lroHeaders,
  empty,
  page,
  pollAsyncOperation,
  pollLocation,
  resourceNotFound,
  segments,
  startOperation,
} from './common.ts';

export const MANAGED_CLUSTER_TYPE = 'Microsoft.ContainerService/managedClusters';
const NS = 'microsoft.containerservice';

/** True for clusters whose control plane and kubelet use managed identities (no service principal). */
export function usesManagedIdentity(cluster: Record<string, any>): boolean {
  const type = String(cluster.identity?.type ?? 'None');
  return type !== 'None' || lc(String(cluster.properties?.servicePrincipalProfile?.clientId ?? '')) === 'msi';
}

/** Does clientId + secret sign in (a non-expired password of the app, whose SP exists in the tenant)? */
function servicePrincipalSignsIn(state: EmulatorState, tenantId: string, clientId: string, secret: string, now: Date): boolean {
  const sp = state.tenants[tenantId]?.servicePrincipals.some((p) => lc(p.appId) === lc(clientId));
  if (!sp) return false;
  for (const tenant of Object.values(state.tenants)) {
    for (const app of tenant.applications) {
      if (lc(app.appId) !== lc(clientId)) continue;
      return app.passwordCredentials.some(
        (c) => c.secretText === secret && Date.parse(c.startDateTime) <= now.getTime() && now.getTime() < Date.parse(c.endDateTime),
      );
    }
  }
  return false;
}

const locationSlug = (location: unknown): string => lc(String(location ?? 'eastus')).replace(/\s+/g, '');

function resetServicePrincipalProfile(
  req: EmuRequest,
  ctx: EmuContext,
  cluster: Record<string, any>,
  subscriptionId: string,
  tenantId: string,
): EmuResponse {
  const body = bodyObject(req, ctx);
  if (!body.ok) return body.res;
  const clientId = body.value.clientId;
  const secret = body.value.secret;
  if (typeof clientId !== 'string' || clientId.length === 0) {
    return armErr(
      ctx,
      400,
      'InvalidParameter',
      'The value of parameter servicePrincipalProfile.clientId is invalid. Please see https://aka.ms/aks-naming-rules for more details.',
    );
  }
  if (typeof secret !== 'string' || secret.length === 0) {
    return armErr(
      ctx,
      400,
      'InvalidParameter',
      'The value of parameter servicePrincipalProfile.secret is invalid. Please see https://aka.ms/aks-naming-rules for more details.',
    );
  }
  if (usesManagedIdentity(cluster)) {
    return armErr(
      ctx,
      400,
      'BadRequest',
      `This action cannot be performed on a cluster that is not using a service principal. Managed cluster '${cluster.name}' uses a managed identity (identity type '${cluster.identity?.type ?? 'None'}').`,
    );
  }
  const signsIn = servicePrincipalSignsIn(ctx.state, tenantId, clientId, secret, ctx.now());
  const failure = signsIn
    ? undefined
    : {
        code: 'ServicePrincipalValidationClientError',
        message: `ServicePrincipalValidationClientError: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      };
  const op = startOperation(
    req,
    ctx,
    String(cluster.id),
    () => {
      cluster.properties ??= {};
      cluster.properties.servicePrincipalProfile = { clientId };
      ctx.state.clusterSecrets ??= {};
      ctx.state.clusterSecrets[lc(String(cluster.id))] = { clientId, secret, updatedAt: ctx.now().toISOString() };
      return { status: 200 };
    },
    failure,
  );
  const base = `${ctx.baseUrl}/subscriptions/${subscriptionId}/providers/Microsoft.ContainerService/locations/${locationSlug(cluster.location)}`;
  const v = encodeURIComponent(apiVersionOf(req));
  return empty(202, lroHeaders(`${base}/operations/${op.id}?api-version=${v}`, `${base}/operationresults/${op.id}?api-version=${v}`));
}

export const aksHandler: Handler = (req: EmuRequest, ctx: EmuContext): EmuResponse | undefined => {
  if (!isArmRequest(req)) return undefined;
  const s = segments(req.path);
  const l = s.map(lc);
  if (l[0] !== 'subscriptions' || s.length < 5) return undefined;

  // /subscriptions/{s}/providers/Microsoft.ContainerService/...
  if (l[2] === 'providers' && l[3] === NS) {
    if (s.length === 5 && l[4] === 'managedclusters') {
      if (req.method !== 'GET') return undefined;
      const gate = gateSubscription(req, ctx, s[1]);
      if (!gate.ok) return gate.res;
      return json(200, page(req, ctx, listResources(ctx.state, gate.value.subscriptionId, MANAGED_CLUSTER_TYPE)));
    }
    if (s.length === 8 && l[4] === 'locations' && (l[6] === 'operations' || l[6] === 'operationresults')) {
      if (req.method !== 'GET') return undefined;
      const op = gateOperation(req, ctx, s[1], s[7], s[7]);
      if (!op.ok) return op.res;
      const self = `${ctx.baseUrl}${req.url.pathname}${req.url.search}`;
      return l[6] === 'operations' ? pollAsyncOperation(ctx, op.value, self) : pollLocation(ctx, op.value, self);
    }
    return undefined;
  }

  // /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters[/{name}[/action]]
  if (l[2] !== 'resourcegroups' || l[4] !== 'providers' || l[5] !== NS || l[6] !== 'managedclusters' || s.length > 9) return undefined;
  const gate = gateResourceGroup(req, ctx, s[1], s[3]);
  if (!gate.ok) return gate.res;
  const { subscriptionId, subscription } = gate.value;

  if (s.length === 7) {
    if (req.method !== 'GET') return undefined;
    return json(200, page(req, ctx, listResources(ctx.state, subscriptionId, MANAGED_CLUSTER_TYPE, s[3])));
  }
  const id = `/subscriptions/${subscriptionId}/resourceGroups/${s[3]}/providers/Microsoft.ContainerService/managedClusters/${s[7]}`;
  const cluster = getResource(ctx.state, id);
  if (s.length === 8) {
    if (req.method !== 'GET') return armErr(ctx, 405, 'MethodNotAllowed', `The emulator does not implement ${req.method} on managed clusters.`);
    if (!cluster) return resourceNotFound(ctx, MANAGED_CLUSTER_TYPE, s[7], s[3]);
    return json(200, cluster);
  }
  if (l[8] === 'resetserviceprincipalprofile') {
    if (req.method !== 'POST') return undefined;
    if (!cluster) return resourceNotFound(ctx, MANAGED_CLUSTER_TYPE, s[7], s[3]);
    return resetServicePrincipalProfile(req, ctx, cluster, subscriptionId, subscription.tenantId);
  }
  return undefined;
};
