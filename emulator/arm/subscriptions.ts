// ARM: subscriptions, resource groups and the generic resource list.
import type { EmuContext, EmuRequest, EmuResponse, Handler } from '../types.ts';
import {
  armErr,
  empty,
  findResourceGroup,
  gateSubscription,
  isArmRequest,
  json,
  lc,
  listResourceGroups,
  page,
  requireApiVersion,
  requireArmToken,
  resourceGroupNotFound,
  segments,
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

export const subscriptionsHandler: Handler = (req: EmuRequest, ctx: EmuContext): EmuResponse | undefined => {
  if (!isArmRequest(req)) return undefined;
  const s = segments(req.path);
  if (s.length === 0 || lc(s[0]) !== 'subscriptions') return undefined;

  // GET /subscriptions: the caller tenant's subscriptions
  if (s.length === 1) {
    if (req.method !== 'GET') return undefined;
    const auth = requireArmToken(req, ctx);
    if (!auth.ok) return auth.res;
    const noVersion = requireApiVersion(req, ctx);
    if (noVersion) return noVersion;
    const value = Object.entries(ctx.state.subscriptions)
      .filter(([, sub]) => lc(sub.tenantId) === lc(auth.value.tid))
      .map(([id, sub]) => subscriptionJson(id, sub.tenantId, sub.displayName));
    return json(200, { value, count: { type: 'Total', value: value.length } });
  }

  const isSub = s.length === 2;
  const isRgList = s.length === 3 && lc(s[2]) === 'resourcegroups';
  const isRg = s.length === 4 && lc(s[2]) === 'resourcegroups';
  const isResources = s.length === 3 && lc(s[2]) === 'resources';
  const isRgResources = s.length === 5 && lc(s[2]) === 'resourcegroups' && lc(s[4]) === 'resources';
  if (!isSub && !isRgList && !isRg && !isResources && !isRgResources) return undefined;
  if (req.method !== 'GET' && !(isRg && req.method === 'HEAD')) return undefined;

  const gate = gateSubscription(req, ctx, s[1]);
  if (!gate.ok) return gate.res;
  const { subscriptionId, subscription } = gate.value;

  if (isSub) return json(200, subscriptionJson(subscriptionId, subscription.tenantId, subscription.displayName));

  if (isRgList) return json(200, page(req, ctx, listResourceGroups(ctx.state, subscriptionId).map(resourceGroupJson)));

  if (isRg) {
    const info = findResourceGroup(ctx.state, subscriptionId, s[3]);
    if (req.method === 'HEAD') return empty(info ? 204 : 404);
    if (!info) return resourceGroupNotFound(ctx, s[3]);
    return json(200, resourceGroupJson(info));
  }

  // generic resource lists
  let prefix = `/subscriptions/${lc(subscriptionId)}/`;
  if (isRgResources) {
    const info = findResourceGroup(ctx.state, subscriptionId, s[3]);
    if (!info) return resourceGroupNotFound(ctx, s[3]);
    prefix = `${lc(info.id)}/`;
  }
  const keep = resourceFilter(req.query.get('$filter'));
  const items = Object.entries(ctx.state.resources)
    .filter(([id, r]) => id.startsWith(prefix) && String(r.id ?? '').split('/').length === 9 && keep(r))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => genericResource(r));
  return json(200, page(req, ctx, items));
};

/** Fallback for ARM paths no module serves: ARM's answer for an unknown resource type or route. */
export const armFallbackHandler: Handler = (req: EmuRequest, ctx: EmuContext): EmuResponse | undefined => {
  if (!isArmRequest(req)) return undefined;
  const s = segments(req.path);
  if (s.length < 2 || lc(s[0]) !== 'subscriptions') return undefined;
  const gate = gateSubscription(req, ctx, s[1]);
  if (!gate.ok) return gate.res;
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
};
