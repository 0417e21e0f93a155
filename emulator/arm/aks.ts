// ARM: Microsoft.ContainerService/managedClusters (get, list, resetServicePrincipalProfile) and AKS operations.
import type { Params, Route } from '../routes.ts';
import type { EmuContext, EmuRequest, EmuResponse, EmulatorState } from '../types.ts';
import {
  RESOURCE_GROUP,
  SUBSCRIPTION,
  apiVersionOf,
  armErr,
  bodyObject,
  gated,
  getResource,
  json,
  lc,
  listOf,
  operationGate,
  pass,
  pollAsyncOperation,
  pollLocation,
  resourceGroupGate,
  resourceNotFound,
  startLro,
  subscriptionGate,
} from './common.ts';

export const MANAGED_CLUSTER_TYPE = 'Microsoft.ContainerService/managedClusters';

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
  const invalid = (field: string): EmuResponse =>
    armErr(
      ctx,
      400,
      'InvalidParameter',
      `The value of parameter servicePrincipalProfile.${field} is invalid. Please see https://aka.ms/aks-naming-rules for more details.`,
    );
  if (typeof clientId !== 'string' || clientId.length === 0) return invalid('clientId');
  if (typeof secret !== 'string' || secret.length === 0) return invalid('secret');
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
  const base = `${ctx.baseUrl}/subscriptions/${subscriptionId}/providers/Microsoft.ContainerService/locations/${locationSlug(cluster.location)}`;
  const v = encodeURIComponent(apiVersionOf(req));
  // ManagedClusters_ResetServicePrincipalProfile: 200 (no body) or 202 (Location, Retry-After),
  // final-state-via location (specs/containerservice/2026-04-01/managedClusters.json); the emulator's
  // default is 202 with both headers (its ManagedClustersResetServicePrincipalProfile.json example
  // answers 202 with a location); state.lroShapes selects any other shape, 204 at the end included
  return startLro(req, ctx, {
    resourceId: String(cluster.id),
    kind: 'action',
    defaultShape: 'both',
    urls: (id) => ({ asyncUrl: `${base}/operations/${id}?api-version=${v}`, locationUrl: `${base}/operationresults/${id}?api-version=${v}` }),
    apply: () => {
      cluster.properties ??= {};
      cluster.properties.servicePrincipalProfile = { clientId };
      ctx.state.clusterSecrets ??= {};
      ctx.state.clusterSecrets[lc(String(cluster.id))] = { clientId, secret, updatedAt: ctx.now().toISOString() };
      return { status: 200 };
    },
    failure,
  });
}

// ---------------------------------------------------------------- routes

const PROVIDER = `${SUBSCRIPTION}/providers/Microsoft.ContainerService`;
const CLUSTERS = `${RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters`;

function clusterOf(ctx: EmuContext, p: Params, subscriptionId: string): Record<string, any> | undefined {
  return getResource(
    ctx.state,
    `/subscriptions/${subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${p.cluster}`,
  );
}

export const aksRoutes: Route[] = [
  gated(`${PROVIDER}/managedClusters`, subscriptionGate, { GET: listOf(MANAGED_CLUSTER_TYPE) }),
  gated(`${PROVIDER}/locations/:location/:kind(operations|operationResults)/:operationId`, operationGate(), {
    GET: (req, ctx, p, op) => (lc(p.kind) === 'operations' ? pollAsyncOperation : pollLocation)(req, ctx, op),
  }),
  gated(CLUSTERS, resourceGroupGate, { GET: listOf(MANAGED_CLUSTER_TYPE) }),
  gated(`${CLUSTERS}/:cluster`, resourceGroupGate, {
    GET: (_req, ctx, p, { subscriptionId }) => {
      const cluster = clusterOf(ctx, p, subscriptionId);
      return cluster ? json(200, cluster) : resourceNotFound(ctx, MANAGED_CLUSTER_TYPE, p.cluster, p.resourceGroup);
    },
    ANY: (req, ctx) => armErr(ctx, 405, 'MethodNotAllowed', `The emulator does not implement ${req.method} on managed clusters.`),
  }),
  gated(`${CLUSTERS}/:cluster/resetServicePrincipalProfile`, resourceGroupGate, {
    POST: (req, ctx, p, { subscriptionId, subscription }) => {
      const cluster = clusterOf(ctx, p, subscriptionId);
      if (!cluster) return resourceNotFound(ctx, MANAGED_CLUSTER_TYPE, p.cluster, p.resourceGroup);
      return resetServicePrincipalProfile(req, ctx, cluster, subscriptionId, subscription.tenantId);
    },
  }),
  // any other method or action on a cluster: the resource group gate, then ARM's answer for routes not served
  gated(`${CLUSTERS}{/:cluster}?{/:action}?`, resourceGroupGate, { ANY: pass }),
];
