// ARM: Microsoft.Authorization role definitions and role assignments (2022-04-01) at any scope.
import type { Route } from '../routes.ts';
import type { AccessTokenClaims, EmuContext, EmuRequest, EmuResponse, EmulatorState } from '../types.ts';
import {
  armErr,
  bodyObject,
  empty,
  findResourceGroup,
  gated,
  gateSubscription,
  getResource,
  isAtOrBelow,
  json,
  lc,
  page,
  requireApiVersion,
  requireKnownApiVersion,
  requireArmToken,
  resourceGroupNotFound,
  resourceNotFound,
} from './common.ts';
import type { Gate, RouteGate } from './common.ts';

export const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';
export const ROLE_DEFINITION_TYPE = 'Microsoft.Authorization/roleDefinitions';

/**
 * Well-known built-in role definition GUIDs, as Microsoft's built-in roles reference lists them
 * (MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/containers.md @
 * 0088bfa77543e07f8a41771de8db977ddfc62e1d for the Acr* and Container Registry Repository roles;
 * general.md, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles#reader,
 * for Owner, Contributor, Reader and User Access Administrator).
 */
export const ROLES = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  acrDelete: 'c2f4ef07-c644-48eb-af81-4b1b4947fb11',
  repositoryReader: 'b93aa761-3e63-49ed-ac28-beffa264f7ac',
  repositoryWriter: '2a1e307c-b015-4ebd-883e-5b7698a07328',
  repositoryContributor: '2efddaa5-3f1f-4df3-97df-af3f13818f4c',
  repositoryCatalogLister: 'bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The GUID at the end of a role definition id (or the id itself when it is a bare GUID). */
export function roleGuidOf(roleDefinitionId: string): string {
  const last = roleDefinitionId.split('/').filter(Boolean).pop() ?? '';
  return lc(last);
}

/** Role assignments of a principal at or above a resource id (e.g. a registry). */
export function assignmentsAtOrAbove(state: EmulatorState, principalId: string, resourceId: string): Record<string, any>[] {
  return Object.values(state.roleAssignments).filter(
    (a) => lc(String(a.properties?.principalId ?? '')) === lc(principalId) && isAtOrBelow(resourceId, String(a.properties?.scope ?? '')),
  );
}

// ---------------------------------------------------------------- scope handling

interface ScopeInfo {
  /** the scope as the caller wrote it, with one leading slash ('/' for the tenant root) */
  scope: string;
  /** '/subscriptions/{id}' of the scope, or '' above subscriptions */
  subscriptionPrefix: string;
  tenantId?: string;
  claims: AccessTokenClaims;
}

/** Check that the scope exists and the caller may address it (subscription and tenant, RG, resource). */
function gateScope(req: EmuRequest, ctx: EmuContext, scopeSegs: string[]): Gate<ScopeInfo> {
  const scope = `/${scopeSegs.join('/')}`;
  if (scopeSegs.length === 0 || lc(scopeSegs[0]) !== 'subscriptions') {
    const auth = requireArmToken(req, ctx);
    if (!auth.ok) return auth;
    const noVersion = requireApiVersion(req, ctx) ?? requireKnownApiVersion(req, ctx);
    if (noVersion) return { ok: false, res: noVersion };
    return { ok: true, value: { scope, subscriptionPrefix: '', claims: auth.value, tenantId: auth.value.tid } };
  }
  if (scopeSegs.length < 2) {
    return { ok: false, res: armErr(ctx, 400, 'InvalidScope', `The scope '${scope}' is not valid.`) };
  }
  const gate = gateSubscription(req, ctx, scopeSegs[1]);
  if (!gate.ok) return gate;
  const { subscriptionId, subscription, claims } = gate.value;
  if (scopeSegs.length >= 3) {
    if (lc(scopeSegs[2]) !== 'resourcegroups' || scopeSegs.length < 4) {
      return { ok: false, res: armErr(ctx, 400, 'InvalidScope', `The scope '${scope}' is not valid.`) };
    }
    const rg = findResourceGroup(ctx.state, subscriptionId, scopeSegs[3]);
    if (!rg) return { ok: false, res: resourceGroupNotFound(ctx, scopeSegs[3]) };
    if (scopeSegs.length > 4) {
      if (!getResource(ctx.state, scope)) {
        const tail = scopeSegs.slice(5);
        const type = tail.filter((_, i) => i % 2 === 0 && i < tail.length - 1).join('/');
        const name = tail.filter((_, i) => i % 2 === 1).join('/');
        return { ok: false, res: resourceNotFound(ctx, type || 'resource', name || scope, scopeSegs[3]) };
      }
    }
  }
  return { ok: true, value: { scope, subscriptionPrefix: `/subscriptions/${subscriptionId}`, tenantId: subscription.tenantId, claims } };
}

function canWrite(state: EmulatorState, oid: string): boolean {
  return state.roleAssignmentWriters.some((w) => w === '*' || lc(w) === lc(oid));
}

function authorizationFailed(ctx: EmuContext, claims: AccessTokenClaims, action: string, target: string): EmuResponse {
  return armErr(
    ctx,
    403,
    'AuthorizationFailed',
    `The client '${claims.appid}' with object id '${claims.oid}' does not have authorization to perform action '${action}' over scope '${target}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

// ---------------------------------------------------------------- role definitions

function definitionByGuid(state: EmulatorState, guid: string, subscriptionPrefix: string): Record<string, any> | undefined {
  const matches = state.roleDefinitions.filter((d) => lc(String(d.name ?? roleGuidOf(String(d.id ?? '')))) === lc(guid));
  if (subscriptionPrefix) {
    const inSub = matches.find((d) => lc(String(d.id ?? '')).startsWith(`${lc(subscriptionPrefix)}/`));
    if (inSub) return inSub;
  }
  return matches[0];
}

/** A definition as ARM returns it for a scope: built-ins carry the scope's subscription in their id. */
function definitionForScope(def: Record<string, any>, subscriptionPrefix: string): Record<string, any> {
  const copy = structuredClone(def);
  copy.id = `${subscriptionPrefix}/providers/Microsoft.Authorization/roleDefinitions/${def.name}`;
  return copy;
}

function definitionFilter(filter: string | null): (d: Record<string, any>) => boolean {
  if (!filter) return () => true;
  const tests: Array<(d: Record<string, any>) => boolean> = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(roleName|type)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!m) continue;
    const want = m[2];
    if (lc(m[1]) === 'rolename') tests.push((d) => lc(String(d.properties?.roleName ?? '')) === lc(want));
    else tests.push((d) => lc(String(d.properties?.type ?? '')) === lc(want));
  }
  return (d) => tests.every((t) => t(d));
}

function roleDefinitions(req: EmuRequest, ctx: EmuContext, info: ScopeInfo, guid: string | undefined): EmuResponse {
  if (req.method !== 'GET')
    return armErr(ctx, 405, 'MethodNotAllowed', `The emulator serves role definitions read-only (${req.method} ${req.path}).`);
  if (guid !== undefined) {
    const def = definitionByGuid(ctx.state, guid, info.subscriptionPrefix);
    if (!def) return armErr(ctx, 404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
    return json(200, definitionForScope(def, info.subscriptionPrefix));
  }
  const seen = new Set<string>();
  const keep = definitionFilter(req.query.get('$filter'));
  const defs: Record<string, any>[] = [];
  const ordered = [...ctx.state.roleDefinitions].sort((a, b) => {
    // definitions stored for the scope's own subscription come first, so they win the de-duplication
    const pa = info.subscriptionPrefix && lc(String(a.id ?? '')).startsWith(`${lc(info.subscriptionPrefix)}/`) ? 0 : 1;
    const pb = info.subscriptionPrefix && lc(String(b.id ?? '')).startsWith(`${lc(info.subscriptionPrefix)}/`) ? 0 : 1;
    return pa - pb;
  });
  for (const def of ordered) {
    const name = lc(String(def.name ?? ''));
    if (seen.has(name)) continue;
    const assignable: string[] = def.properties?.assignableScopes ?? ['/'];
    const visible = assignable.some((s) => s === '/' || isAtOrBelow(info.scope, s) || isAtOrBelow(s, info.scope));
    if (!visible || !keep(def)) continue;
    seen.add(name);
    defs.push(definitionForScope(def, info.subscriptionPrefix));
  }
  return json(200, page(req, ctx, defs));
}

// ---------------------------------------------------------------- role assignments

function principalExists(state: EmulatorState, tenantId: string | undefined, principalId: string): boolean {
  if (!tenantId) return false;
  const tenant = Object.entries(state.tenants).find(([id]) => lc(id) === lc(tenantId))?.[1];
  return !!tenant?.servicePrincipals.some((sp) => lc(sp.id) === lc(principalId));
}

/** Replication delay: PrincipalNotFound while the principal is pending (time or attempts). */
function principalPending(state: EmulatorState, principalId: string, now: Date): boolean {
  const key = Object.keys(state.pendingPrincipals).find((k) => lc(k) === lc(principalId));
  if (!key) return false;
  const entry = state.pendingPrincipals[key];
  let pending = false;
  if (entry.until && Date.parse(entry.until) > now.getTime()) pending = true;
  if (entry.attempts !== undefined && entry.attempts > 0) {
    entry.attempts -= 1;
    pending = true;
  }
  return pending;
}

interface AssignmentFilter {
  atScope: boolean;
  principalId?: string;
}

function parseAssignmentFilter(filter: string | null): AssignmentFilter | string {
  const out: AssignmentFilter = { atScope: false };
  if (!filter || !filter.trim()) return out;
  for (const raw of filter.split(/\s+and\s+/i)) {
    const clause = raw.trim();
    if (/^atScope\(\)$/i.test(clause)) {
      out.atScope = true;
      continue;
    }
    const p = /^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$/i.exec(clause);
    if (p) {
      out.principalId = p[1];
      continue;
    }
    const a = /^assignedTo\('([0-9a-fA-F-]{36})'\)$/i.exec(clause);
    if (a) {
      out.principalId = a[1];
      continue;
    }
    return clause;
  }
  return out;
}

function listAssignments(req: EmuRequest, ctx: EmuContext, info: ScopeInfo): EmuResponse {
  const filter = parseAssignmentFilter(req.query.get('$filter'));
  if (typeof filter === 'string') {
    return armErr(
      ctx,
      400,
      'UnsupportedQuery',
      `The filter '${filter}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'.`,
    );
  }
  const items = Object.values(ctx.state.roleAssignments)
    .filter((a) => {
      const scope = String(a.properties?.scope ?? '');
      if (info.subscriptionPrefix && !isAtOrBelow(scope, info.subscriptionPrefix) && scope !== '/') return false;
      if (!info.subscriptionPrefix) {
        // above subscriptions: only the caller tenant's subscriptions
        const sub = scope.split('/')[2];
        const tenant = sub
          ? (ctx.state.subscriptions[sub]?.tenantId ?? Object.entries(ctx.state.subscriptions).find(([id]) => lc(id) === lc(sub))?.[1].tenantId)
          : undefined;
        if (sub && lc(tenant ?? '') !== lc(info.tenantId ?? '')) return false;
      }
      const above = isAtOrBelow(info.scope, scope);
      const below = isAtOrBelow(scope, info.scope);
      if (filter.atScope ? !above : !above && !below) return false;
      if (filter.principalId && lc(String(a.properties?.principalId ?? '')) !== lc(filter.principalId)) return false;
      return true;
    })
    .sort(
      (a, b) =>
        String(a.properties?.createdOn ?? '').localeCompare(String(b.properties?.createdOn ?? '')) || String(a.name).localeCompare(String(b.name)),
    );
  return json(200, page(req, ctx, items));
}

function putAssignment(req: EmuRequest, ctx: EmuContext, info: ScopeInfo, name: string): EmuResponse {
  const state = ctx.state;
  const id = `${info.scope === '/' ? '' : info.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  if (!canWrite(state, info.claims.oid)) return authorizationFailed(ctx, info.claims, 'Microsoft.Authorization/roleAssignments/write', id);
  if (!GUID.test(name)) {
    return armErr(ctx, 400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
  }
  const body = bodyObject(req, ctx);
  if (!body.ok) return body.res;
  const props = (body.value.properties ?? {}) as Record<string, unknown>;
  const roleDefinitionId = typeof props.roleDefinitionId === 'string' ? props.roleDefinitionId : '';
  const principalId = typeof props.principalId === 'string' ? props.principalId : '';
  if (!roleDefinitionId || !principalId) {
    return armErr(
      ctx,
      400,
      'InvalidRoleAssignmentRequest',
      'The request to create a role assignment must specify properties.roleDefinitionId and properties.principalId.',
    );
  }
  const roleGuid = roleGuidOf(roleDefinitionId);
  if (!GUID.test(roleGuid) || !definitionByGuid(state, roleGuid, info.subscriptionPrefix)) {
    return armErr(ctx, 400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${roleGuid}' does not exist.`);
  }
  if (!GUID.test(principalId)) {
    return armErr(
      ctx,
      400,
      'InvalidPrincipalId',
      `A valid principal ID must be provided for role assignment. The principal ID '${principalId}' is not valid.`,
    );
  }
  // A principal ARM cannot find in the scope's tenant: a principal of another tenant (a kubelet managed
  // identity lives only in its cluster's tenant and has no service principal anywhere else, so it can
  // never be granted on a registry of another tenant), an unknown id, or one not replicated yet. The
  // body, verbatim (the id without dashes): Azure/HubAndSpokeResearchEnclave#50, Azure/avdaccelerator#76
  // (Code: BadRequest, so 400), MicrosoftDocs/azure-docs#103085 (with principalType set, it still fails).
  if (principalPending(state, principalId, ctx.now()) || !principalExists(state, info.tenantId, principalId)) {
    return armErr(
      ctx,
      400,
      'PrincipalNotFound',
      `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${info.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
  }
  const actualType = 'ServicePrincipal';
  if (props.principalType !== undefined && props.principalType !== null && props.principalType !== actualType) {
    return armErr(
      ctx,
      400,
      'UnmatchedPrincipalType',
      `The PrincipalId '${principalId.replace(/-/g, '')}' has type '${actualType}' , which is different from specified PrincipalType '${String(props.principalType)}'.`,
    );
  }
  const condition = typeof props.condition === 'string' && props.condition.length > 0 ? props.condition : null;
  let conditionVersion = typeof props.conditionVersion === 'string' ? props.conditionVersion : null;
  if (condition && !conditionVersion) conditionVersion = '2.0';
  if (conditionVersion && !['1.0', '2.0'].includes(conditionVersion)) {
    return armErr(
      ctx,
      400,
      'InvalidConditionVersion',
      `The condition version '${conditionVersion}' is not supported. Supported values are '1.0' and '2.0'.`,
    );
  }
  if (!condition && props.conditionVersion) conditionVersion = null;
  const description = typeof props.description === 'string' ? props.description : null;
  const now = ctx.now().toISOString();

  const existing = state.roleAssignments[lc(id)];
  if (existing) {
    const p = existing.properties;
    if (lc(p.principalId) !== lc(principalId) || roleGuidOf(p.roleDefinitionId) !== roleGuid || lc(p.scope) !== lc(info.scope)) {
      return armErr(
        ctx,
        409,
        'RoleAssignmentUpdateNotPermitted',
        'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
      );
    }
    p.condition = condition;
    p.conditionVersion = conditionVersion;
    p.description = description;
    p.updatedOn = now;
    p.updatedBy = info.claims.oid;
    return json(200, existing);
  }
  // Role assignments are unique by scope + role + principal; neither the name nor the condition is part
  // of the key, so the same grant under another name (the portal, az, Bicep) is a 409 whatever its
  // condition. ARM's body names the existing assignment by its name without dashes: "The role
  // assignment already exists. The ID of the existing role assignment is 2f826ae117284c63bbb7a8a150a5a52d."
  // (public deployment logs found in the stored index: a Bicep what-if write-up and Terraform import
  // guides quoting `RoleAssignmentExists: ... The ID of the existing role assignment is <32 hex>`); older
  // answers stopped after the first sentence (Azure-Samples/azure-search-openai-demo#1091). 409 Conflict:
  // Azure/azure-cli#8599 ("If an existing role is there, instead of returning a 200 it returns a 409").
  const duplicate = Object.values(state.roleAssignments).find(
    (a) =>
      lc(String(a.properties?.scope ?? '')) === lc(info.scope) &&
      roleGuidOf(String(a.properties?.roleDefinitionId ?? '')) === roleGuid &&
      lc(String(a.properties?.principalId ?? '')) === lc(principalId),
  );
  if (duplicate) {
    return armErr(
      ctx,
      409,
      'RoleAssignmentExists',
      `The role assignment already exists. The ID of the existing role assignment is ${String(duplicate.name).replace(/-/g, '')}.`,
    );
  }

  const assignment = {
    properties: {
      roleDefinitionId,
      principalId,
      principalType: actualType,
      scope: info.scope,
      condition,
      conditionVersion,
      createdOn: now,
      updatedOn: now,
      createdBy: info.claims.oid,
      updatedBy: info.claims.oid,
      delegatedManagedIdentityResourceId: null,
      description,
    },
    id,
    type: ROLE_ASSIGNMENT_TYPE,
    name,
  };
  state.roleAssignments[lc(id)] = assignment;
  return json(201, assignment);
}

function roleAssignments(req: EmuRequest, ctx: EmuContext, info: ScopeInfo, name: string | undefined): EmuResponse {
  if (name === undefined) {
    if (req.method !== 'GET') return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on a role assignment collection.`);
    return listAssignments(req, ctx, info);
  }
  const id = `${info.scope === '/' ? '' : info.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  switch (req.method) {
    case 'GET': {
      const found = ctx.state.roleAssignments[lc(id)];
      if (!found) return armErr(ctx, 404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
      return json(200, found);
    }
    case 'PUT':
      return putAssignment(req, ctx, info, name);
    case 'DELETE': {
      if (!canWrite(ctx.state, info.claims.oid)) return authorizationFailed(ctx, info.claims, 'Microsoft.Authorization/roleAssignments/delete', id);
      const found = ctx.state.roleAssignments[lc(id)];
      if (!found) return empty(204);
      delete ctx.state.roleAssignments[lc(id)];
      return json(200, found);
    }
    default:
      return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on a role assignment.`);
  }
}

/** The gate of a role assignment or definition route: the scope before `/providers/Microsoft.Authorization`. */
const scopeGate: RouteGate<ScopeInfo> = (req, ctx, p) => gateScope(req, ctx, (p[0] ?? '').split('/').filter(Boolean));

export const authorizationRoutes: Route[] = [
  // the last '/providers/Microsoft.Authorization/' splits the scope (none: the tenant root) from the collection
  gated('*/providers/Microsoft.Authorization/:collection(roleAssignments|roleDefinitions){/:name}?', scopeGate, {
    ANY: (req, ctx, p, scope) =>
      lc(p.collection) === 'roledefinitions' ? roleDefinitions(req, ctx, scope, p.name) : roleAssignments(req, ctx, scope, p.name),
  }),
];
