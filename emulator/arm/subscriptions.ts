// ARM: subscriptions, resource groups and the generic resource list.
import { collapsedPath } from '../routes.ts';
import type { Route } from '../routes.ts';
import type { EmuContext, EmuRequest, EmuResponse } from '../types.ts';
import {
  RESOURCE_GROUP,
  SUBSCRIPTION,
  armErr,
  empty,
  findResourceGroup,
  gated,
  json,
  lc,
  listResourceGroups,
  page,
  requireApiVersion,
  requireArmToken,
  resourceGroupNotFound,
  subscriptionGate,
} from './common.ts';

function subscriptionJson(id: string, tenantId: string, displayName: string): Record<string, unknown> {
  return {
    id: `/subscriptions/${id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: id,
    tenantId,
    displayName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

function resourceGroupJson(info: { id: string; name: string; location: string; tags?: Record<string, string> }): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: info.id,
    name: info.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: info.location,
    properties: { provisioningState: 'Succeeded' },
  };
  if (info.tags) out.tags = info.tags;
  return out;
}

/** `$filter` of GET /subscriptions/{s}/resources: `resourceType eq '…'`, `name eq '…'`, joined by `and`. */
function resourceFilter(filter: string | null): (r: Record<string, any>) => boolean {
  if (!filter) return () => true;
  const tests: Array<(r: Record<string, any>) => boolean> = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(resourceType|name|resourceGroup)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!m) continue;
    const field = lc(m[1]);
    const want = lc(m[2]);
    if (field === 'resourcetype') tests.push((r) => lc(String(r.type ?? '')) === want);
    else if (field === 'name') tests.push((r) => lc(String(r.name ?? '')) === want);
    else tests.push((r) => lc(String(r.id ?? '').split('/')[4] ?? '') === want);
  }
  return (r) => tests.every((t) => t(r));
}

function genericResource(r: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, name: r.name, type: r.type, location: r.location };
  for (const k of ['sku', 'kind', 'tags', 'identity', 'systemData']) if (r[k] !== undefined) out[k] = r[k];
  return out;
}

export const subscriptionsRoutes: Route[] = [
  // the caller tenant's subscriptions
  {
    path: '/subscriptions',
    GET: (req, ctx) => {
      const auth = requireArmToken(req, ctx);
      if (!auth.ok) return auth.res;
      const noVersion = requireApiVersion(req, ctx);
      if (noVersion) return noVersion;
      const value = Object.entries(ctx.state.subscriptions)
        .filter(([, sub]) => lc(sub.tenantId) === lc(auth.value.tid))
        .map(([id, sub]) => subscriptionJson(id, sub.tenantId, sub.displayName));
      return json(200, { value, count: { type: 'Total', value: value.length } });
    },
  },
  gated(SUBSCRIPTION, subscriptionGate, {
    GET: (_req, _ctx, _p, { subscriptionId, subscription }) =>
      json(200, subscriptionJson(subscriptionId, subscription.tenantId, subscription.displayName)),
  }),
  gated(`${SUBSCRIPTION}/resourceGroups`, subscriptionGate, {
    GET: (req, ctx, _p, { subscriptionId }) => json(200, page(req, ctx, listResourceGroups(ctx.state, subscriptionId).map(resourceGroupJson))),
  }),
  gated(RESOURCE_GROUP, subscriptionGate, {
    GET: (_req, ctx, p, { subscriptionId }) => {
      const info = findResourceGroup(ctx.state, subscriptionId, p.resourceGroup);
      return info ? json(200, resourceGroupJson(info)) : resourceGroupNotFound(ctx, p.resourceGroup);
    },
    HEAD: (_req, ctx, p, { subscriptionId }) => empty(findResourceGroup(ctx.state, subscriptionId, p.resourceGroup) ? 204 : 404),
  }),
  // generic resource lists
  gated(`${SUBSCRIPTION}/resources`, subscriptionGate, {
    GET: (req, ctx, _p, { subscriptionId }) => genericResources(req, ctx, `/subscriptions/${lc(subscriptionId)}/`),
  }),
  gated(`${RESOURCE_GROUP}/resources`, subscriptionGate, {
    GET: (req, ctx, p, { subscriptionId }) => {
      const info = findResourceGroup(ctx.state, subscriptionId, p.resourceGroup);
      return info ? genericResources(req, ctx, `${lc(info.id)}/`) : resourceGroupNotFound(ctx, p.resourceGroup);
    },
  }),
];

function genericResources(req: EmuRequest, ctx: EmuContext, prefix: string): EmuResponse {
  const keep = resourceFilter(req.query.get('$filter'));
  const items = Object.entries(ctx.state.resources)
    .filter(([id, r]) => id.startsWith(prefix) && String(r.id ?? '').split('/').length === 9 && keep(r))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => genericResource(r));
  return json(200, page(req, ctx, items));
}

/** ARM's answer for a path under a subscription that no route serves: an unknown resource type or route. */
export const armFallbackRoutes: Route[] = [
  gated(`${SUBSCRIPTION}{/*}?`, subscriptionGate, {
    ANY: (req, ctx) => {
      const s = collapsedPath(req).split('/').slice(1);
      const at = s.findIndex((x) => lc(x) === 'providers');
      const namespace = at >= 0 ? s[at + 1] : undefined;
      const type = at >= 0 ? s[at + 2] : undefined;
      if (
        namespace &&
        ['microsoft.containerservice', 'microsoft.containerregistry', 'microsoft.authorization', 'microsoft.resources'].includes(lc(namespace))
      ) {
        return armErr(ctx, 405, 'MethodNotAllowed', `The emulator does not implement ${req.method} ${req.path}.`);
      }
      if (namespace && type) {
        return armErr(
          ctx,
          400,
          'InvalidResourceType',
          `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${req.query.get('api-version')}'.`,
        );
      }
      return armErr(ctx, 404, 'NotFound', `The requested route is not served by the emulator: ${req.method} ${req.path}`);
    },
  }),
];
