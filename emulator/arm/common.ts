// Shared plumbing of the emulated Azure Resource Manager: authentication, the subscription gate,
// ARM-shaped errors and headers, resource lookups, list paging and long-running operations.
import { randomUUID } from 'node:crypto';
import type { Method, Params, Route } from '../routes.ts';
import type { AccessTokenClaims, ArmOperation, EmuContext, EmuRequest, EmuResponse, EmulatorState, SubscriptionState } from '../types.ts';
import { apiVersionProblem, checkedResponse, operationOf, requestProblem } from './contract.ts';
import * as lro from './lro.ts';
import type { LroStart } from './lro.ts';

/** Audiences ARM accepts besides the emulator's own URL (compared without trailing slashes). */
export const ARM_AUDIENCES = ['https://management.core.windows.net', 'https://management.azure.com'];

export const lc = (s: string): string => s.toLowerCase();

const trimSlashes = (s: string): string => s.replace(/\/+$/, '');

/** The headers every ARM response carries (as in the recordings under shared/azure-api). */
export function armHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const id = randomUUID();
  return {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'x-content-type-options': 'nosniff',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-ms-request-id': id,
    'x-ms-correlation-request-id': id,
    'x-ms-routing-request-id': `LOCAL:${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z:${id}`,
    ...extra,
  };
}

export function json(status: number, body: unknown, extra: Record<string, string> = {}): EmuResponse {
  return { status, headers: armHeaders(extra), body };
}

export function empty(status: number, extra: Record<string, string> = {}): EmuResponse {
  const headers = armHeaders(extra);
  delete headers['content-type'];
  return { status, headers };
}

/** `{ error: { code, message } }` with ARM's headers. */
export function armErr(ctx: EmuContext, status: number, code: string, message: string, extra: Record<string, string> = {}): EmuResponse {
  const base = ctx.armError(status, code, message);
  return { status, headers: { ...armHeaders(extra), ...(base.headers ?? {}) }, body: base.body ?? { error: { code, message } } };
}

// ---------------------------------------------------------------- authentication

export type Gate<T> = { ok: true; value: T } | { ok: false; res: EmuResponse };

function decodeJwtPayload(jwt: string): Record<string, unknown> | undefined {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function challenge(description: string): Record<string, string> {
  return {
    'www-authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="${description}"`,
  };
}

/** Audience check shared with the ACR data plane (which also takes ARM tokens). */
export function isArmAudience(aud: unknown, ctx: EmuContext): boolean {
  if (typeof aud !== 'string') return false;
  const a = lc(trimSlashes(aud));
  return ARM_AUDIENCES.includes(a) || a === lc(trimSlashes(ctx.baseUrl));
}

/** A bearer token that Entra issued for ARM, or ARM's 401. */
export function requireArmToken(req: EmuRequest, ctx: EmuContext): Gate<AccessTokenClaims> {
  if (!req.bearer) {
    return {
      ok: false,
      res: armErr(
        ctx,
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        challenge("The authentication failed because of missing 'Authorization' header."),
      ),
    };
  }
  if (!req.token) {
    const claims = decodeJwtPayload(req.bearer);
    const exp = typeof claims?.exp === 'number' ? claims.exp : undefined;
    if (exp !== undefined && exp * 1000 < ctx.now().getTime()) {
      const expIso = new Date(exp * 1000).toISOString();
      return {
        ok: false,
        res: armErr(
          ctx,
          401,
          'ExpiredAuthenticationToken',
          `The access token expiry UTC time '${expIso}' is earlier than current UTC time '${ctx.now().toISOString()}'.`,
          challenge('The access token has expired.'),
        ),
      };
    }
    return {
      ok: false,
      res: armErr(ctx, 401, 'InvalidAuthenticationToken', 'The access token is invalid.', challenge('The access token is invalid.')),
    };
  }
  if (!isArmAudience(req.token.aud, ctx)) {
    const allowed = ARM_AUDIENCES.flatMap((a) => [`'${a}/'`, `'${a}'`]).join(',');
    return {
      ok: false,
      res: armErr(
        ctx,
        401,
        'InvalidAuthenticationToken',
        `The access token has been obtained for wrong audience or resource '${req.token.aud}'. It should exactly match with one of the allowed audiences ${allowed}.`,
        challenge('The access token has been obtained for wrong audience or resource.'),
      ),
    };
  }
  return { ok: true, value: req.token };
}

/**
 * ARM requires `api-version` on every call. Which values it accepts is each resource provider's
 * (apiVersionProblem, checked once the subscription is known); this is only its presence.
 */
export function requireApiVersion(req: EmuRequest, ctx: EmuContext): EmuResponse | undefined {
  if (req.query.get('api-version')) return undefined;
  return armErr(ctx, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
}

/** An api-version the held specs do not define for the path's resource provider (contract.ts), with ARM's headers. */
export function requireKnownApiVersion(req: EmuRequest, ctx: EmuContext): EmuResponse | undefined {
  const bad = apiVersionProblem(req, ctx);
  return bad && withArmHeaders(bad);
}

export interface SubscriptionAccess {
  claims: AccessTokenClaims;
  subscriptionId: string;
  subscription: SubscriptionState;
}

function issuerFor(claims: AccessTokenClaims, tenantId: string): string {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  return iss.includes(claims.tid) ? iss.replace(claims.tid, tenantId) : `https://sts.windows.net/${tenantId}/`;
}

/** Token, api-version, known subscription and matching tenant: ARM's gate for /subscriptions/{id}/... */
export function gateSubscription(req: EmuRequest, ctx: EmuContext, subscriptionId: string): Gate<SubscriptionAccess> {
  const auth = requireArmToken(req, ctx);
  if (!auth.ok) return auth;
  const noVersion = requireApiVersion(req, ctx);
  if (noVersion) return { ok: false, res: noVersion };
  const entry = Object.entries(ctx.state.subscriptions).find(([id]) => lc(id) === lc(subscriptionId));
  if (!entry) {
    return { ok: false, res: armErr(ctx, 404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`) };
  }
  const [id, subscription] = entry;
  const claims = auth.value;
  // ARM's answer for a token of another tenant, verbatim but for the emulator's hosts (the real
  // issuer and authority are https://sts.windows.net/{tenant}/ and https://login.windows.net/{tenant}):
  // Azure/LogicAppsUX#9068 (full body), Azure/azure-sdk-for-python#38382, Azure/pcs-cli#357; 401
  // (Azure/azure-sdk-for-net#49391: "Unauthorized"). It names the tenant the subscription expects.
  if (lc(claims.tid) !== lc(subscription.tenantId)) {
    const message =
      `The access token is from the wrong issuer '${claims.iss}'. It must match the tenant '${issuerFor(claims, subscription.tenantId)}' associated with this subscription. ` +
      `Please use the authority (URL) '${ctx.baseUrl}/${subscription.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, ` +
      'but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.';
    return { ok: false, res: armErr(ctx, 401, 'InvalidAuthenticationTokenTenant', message, challenge('The access token is from the wrong issuer.')) };
  }
  const badVersion = apiVersionProblem(req, ctx);
  if (badVersion) return { ok: false, res: withArmHeaders(badVersion) };
  return { ok: true, value: { claims, subscriptionId: id, subscription } };
}

// ---------------------------------------------------------------- gated routes

/** Paths under a subscription: `${SUBSCRIPTION}/providers/…`. */
export const SUBSCRIPTION = '/subscriptions/:subscriptionId';
/** Paths under a resource group: `${RESOURCE_GROUP}/providers/…`. */
export const RESOURCE_GROUP = `${SUBSCRIPTION}/resourceGroups/:resourceGroup`;

/** A handler behind a gate: it gets what the gate checked (the caller's access, the parent resource). */
export type GatedHandler<T> = (req: EmuRequest, ctx: EmuContext, params: Params, value: T) => EmuResponse | undefined;
export type GatedOperations<T> = { [M in Method | 'ANY']?: GatedHandler<T> };
export type RouteGate<T> = (req: EmuRequest, ctx: EmuContext, params: Params) => Gate<T>;

/**
 * A route whose every operation passes `gate` first, in ARM's order: the token, api-version,
 * subscription and tenant, then the scope's parents (resource group, parent resource). A
 * declaration that gates one route (e.g. the api-versions an operation accepts) joins it here.
 */
export function gated<T>(path: string, gate: RouteGate<T>, operations: GatedOperations<T>): Route {
  const route: Route = { path };
  for (const [method, handler] of Object.entries(operations) as Array<[Method | 'ANY', GatedHandler<T>]>) {
    route[method] = (req, ctx, params) => {
      // the operation of the held spec at the api-version called (contract.ts): its body is checked
      // before the handler runs, and every answer (the gate's errors too) against it
      const op = operationOf(req);
      const g = gate(req, ctx, params);
      let res: EmuResponse | undefined;
      if (!g.ok) res = g.res;
      else {
        const bad = op && requestProblem(req, ctx, op);
        res = bad ? withArmHeaders(bad) : handler(req, ctx, params, g.value);
      }
      return res && op ? checkedResponse(req, ctx, op, res) : res;
    };
  }
  return route;
}

/** ARM's headers on an answer built by ctx.armError. */
function withArmHeaders(res: EmuResponse): EmuResponse {
  return { ...res, headers: { ...armHeaders(), ...(res.headers ?? {}) } };
}

/** The gate of `/subscriptions/{subscriptionId}/…`. */
export const subscriptionGate: RouteGate<SubscriptionAccess> = (req, ctx, p) => gateSubscription(req, ctx, p.subscriptionId);

/** The gate of `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/…`. */
export const resourceGroupGate: RouteGate<SubscriptionAccess> = (req, ctx, p) => gateResourceGroup(req, ctx, p.subscriptionId, p.resourceGroup);

/** The gate of a location's operation (`…/locations/{location}/…/{operationId}`): the subscription, then the operation, in it. */
export function operationGate(idOf: (segment: string) => string = (segment) => segment): RouteGate<ArmOperation> {
  return (req, ctx, p) => gateOperation(req, ctx, p.subscriptionId, idOf(p.operationId), p.operationId);
}

/** After its gate, the request passes on (to ARM's answer for routes the emulator does not serve). */
export const pass: GatedHandler<unknown> = () => undefined;

/** GET of a resource type's collection: in the subscription, or in the route's resource group. */
export function listOf(type: string): GatedHandler<SubscriptionAccess> {
  return (req, ctx, p, { subscriptionId }) => json(200, page(req, ctx, listResources(ctx.state, subscriptionId, type, p.resourceGroup)));
}

// ---------------------------------------------------------------- resources and resource groups

/** A route under /subscriptions/{s}/resourceGroups/{rg}: the subscription gate, then the group (404 ResourceGroupNotFound). */
export function gateResourceGroup(req: EmuRequest, ctx: EmuContext, subscriptionId: string, resourceGroup: string): Gate<SubscriptionAccess> {
  const gate = gateSubscription(req, ctx, subscriptionId);
  if (!gate.ok) return gate;
  if (!findResourceGroup(ctx.state, gate.value.subscriptionId, resourceGroup)) return { ok: false, res: resourceGroupNotFound(ctx, resourceGroup) };
  return gate;
}

/** A GET of a location's operation status: the subscription gate, then the operation, which must belong to that subscription. */
export function gateOperation(req: EmuRequest, ctx: EmuContext, subscriptionId: string, operationId: string, label: string): Gate<ArmOperation> {
  const gate = gateSubscription(req, ctx, subscriptionId);
  if (!gate.ok) return gate;
  const op = findOperation(ctx.state, operationId);
  if (!op || !lc(op.resourceId).startsWith(`/subscriptions/${lc(gate.value.subscriptionId)}/`)) {
    return { ok: false, res: armErr(ctx, 404, 'NotFound', `Operation '${label}' was not found.`) };
  }
  return { ok: true, value: op };
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export interface ResourceGroupInfo {
  id: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
}

/** Resource groups exist when listed in state.resourceGroups or when any resource lives in them. */
export function findResourceGroup(state: EmulatorState, subscriptionId: string, resourceGroup: string): ResourceGroupInfo | undefined {
  const key = lc(resourceGroupId(subscriptionId, resourceGroup));
  const listed = state.resourceGroups?.[key];
  if (listed) return { id: resourceGroupId(subscriptionId, listed.name), name: listed.name, location: listed.location, tags: listed.tags };
  for (const [id, res] of Object.entries(state.resources)) {
    if (id.startsWith(`${key}/`)) {
      const name = String(res.id ?? id).split('/')[4] ?? resourceGroup;
      return { id: resourceGroupId(subscriptionId, name), name, location: String(res.location ?? 'eastus') };
    }
  }
  return undefined;
}

export function listResourceGroups(state: EmulatorState, subscriptionId: string): ResourceGroupInfo[] {
  const names = new Map<string, ResourceGroupInfo>();
  const prefix = `/subscriptions/${lc(subscriptionId)}/resourcegroups/`;
  for (const key of Object.keys(state.resourceGroups ?? {})) {
    if (key.startsWith(prefix)) {
      const info = findResourceGroup(state, subscriptionId, key.slice(prefix.length));
      if (info) names.set(lc(info.name), info);
    }
  }
  for (const id of Object.keys(state.resources)) {
    if (!id.startsWith(prefix)) continue;
    const rg = id.slice(prefix.length).split('/')[0];
    if (!names.has(rg)) {
      const info = findResourceGroup(state, subscriptionId, rg);
      if (info) names.set(rg, info);
    }
  }
  return [...names.values()];
}

export function resourceGroupNotFound(ctx: EmuContext, resourceGroup: string): EmuResponse {
  return armErr(ctx, 404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
}

export function resourceNotFound(ctx: EmuContext, type: string, name: string, resourceGroup: string): EmuResponse {
  return armErr(
    ctx,
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function getResource(state: EmulatorState, id: string): Record<string, any> | undefined {
  return state.resources[lc(id)];
}

/** Resources of one type (case-insensitive) in a subscription, optionally one resource group, in id order. */
export function listResources(state: EmulatorState, subscriptionId: string, type: string, resourceGroup?: string): Record<string, any>[] {
  const prefix = resourceGroup ? `${lc(resourceGroupId(subscriptionId, resourceGroup))}/` : `/subscriptions/${lc(subscriptionId)}/`;
  return Object.entries(state.resources)
    .filter(([id, r]) => id.startsWith(prefix) && lc(String(r.type ?? '')) === lc(type))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}

/** Scope check for role assignments and the like: is `id` at or below `scope` (case-insensitive, segment-wise)? */
export function isAtOrBelow(id: string, scope: string): boolean {
  const a = lc(trimSlashes(id));
  const s = lc(trimSlashes(scope));
  if (s === '') return true;
  return a === s || a.startsWith(`${s}/`);
}

// ---------------------------------------------------------------- list paging

/** ARM list paging: `{ value, nextLink? }` with an absolute nextLink carrying `$skipToken`. */
export function page(req: EmuRequest, ctx: EmuContext, items: unknown[], pageSize = 50): Record<string, unknown> {
  const start = Math.max(0, Number.parseInt(req.query.get('$skipToken') ?? '0', 10) || 0);
  const value = items.slice(start, start + pageSize);
  const out: Record<string, unknown> = { value };
  if (start + pageSize < items.length) {
    // keep the caller's query as sent (ARM's nextLinks carry `$filter`/`$skipToken` unencoded)
    const kept = req.url.search
      .replace(/^\?/, '')
      .split('&')
      .filter((p) => p && !/^(\$|%24)skipToken=/i.test(p));
    kept.push(`$skipToken=${start + pageSize}`);
    out.nextLink = `${ctx.baseUrl}${req.url.pathname}?${kept.join('&')}`;
  }
  return out;
}

// ---------------------------------------------------------------- long-running operations

const BUILDERS = { json, empty, armErr };

/** Start a long-running operation and answer its first request in the shape the test selected (lro.ts). */
export function startLro(req: EmuRequest, ctx: EmuContext, start: LroStart): EmuResponse {
  return lro.startLro(req, ctx, start, BUILDERS);
}

/** What an Azure-AsyncOperation URL answers. */
export function pollAsyncOperation(req: EmuRequest, ctx: EmuContext, op: ArmOperation): EmuResponse {
  return lro.pollAsyncOperation(req, ctx, op, selfUrl(req, ctx), BUILDERS);
}

/** What a Location URL answers. */
export function pollLocation(req: EmuRequest, ctx: EmuContext, op: ArmOperation): EmuResponse {
  return lro.pollLocation(req, ctx, op, selfUrl(req, ctx), BUILDERS);
}

export const findOperation = lro.findOperation;

/** The URL the request was sent to, on the emulator's own origin (what an operation's status points back at). */
export function selfUrl(req: EmuRequest, ctx: EmuContext): string {
  return `${ctx.baseUrl}${req.url.pathname}${req.url.search}`;
}

export function apiVersionOf(req: EmuRequest): string {
  return req.query.get('api-version') ?? '';
}

/** systemData as ARM RPs write it for a service principal caller. */
export function systemData(claims: AccessTokenClaims, now: Date, previous?: Record<string, unknown>): Record<string, unknown> {
  const at = now.toISOString();
  return {
    createdBy: previous?.createdBy ?? claims.appid,
    createdByType: previous?.createdByType ?? 'Application',
    createdAt: previous?.createdAt ?? at,
    lastModifiedBy: claims.appid,
    lastModifiedByType: 'Application',
    lastModifiedAt: at,
  };
}

/** Read the request body as a JSON object (ARM answers 400 on anything else). */
export function bodyObject(req: EmuRequest, ctx: EmuContext): Gate<Record<string, any>> {
  const body = req.json;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      res: armErr(ctx, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.'),
    };
  }
  return { ok: true, value: body as Record<string, any> };
}
