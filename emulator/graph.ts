// Microsoft Graph v1.0 under /graph/v1.0/, multi-tenant: the tenant is the access token's `tid`.
// Service principals (get, filter, provision) and applications (get, addPassword, removePassword).
import { randomBytes, randomUUID } from 'node:crypto';
import { audienceMatches, findApplication, graphResource } from './entra.ts';
import type { Params, Route, RouteHandler, Service } from './routes.ts';
import type { AppRegistration, EmuContext, EmuRequest, EmuResponse, PasswordCredential, ServicePrincipalObject, TenantState } from './types.ts';

export const GRAPH_PREFIX = '/graph/v1.0/';

function graphBase(ctx: EmuContext): string {
  return `${ctx.baseUrl}/graph/v1.0`;
}

function graphDate(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, '');
}

function clientRequestId(req: EmuRequest, fallback: string): string {
  const h = req.headers['client-request-id'];
  return typeof h === 'string' && h ? h : fallback;
}

function graphHeaders(req: EmuRequest): Record<string, string> {
  const requestId = randomUUID();
  return {
    'request-id': requestId,
    'client-request-id': clientRequestId(req, requestId),
    'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
    'odata-version': '4.0',
  };
}

export function graphError(req: EmuRequest, ctx: EmuContext, status: number, code: string, message: string): EmuResponse {
  const headers = graphHeaders(req);
  return {
    status,
    headers,
    body: {
      error: {
        code,
        message,
        innerError: { date: graphDate(ctx.now()), 'request-id': headers['request-id'], 'client-request-id': headers['client-request-id'] },
      },
    },
  };
}

function ok(req: EmuRequest, status: number, body: unknown, extra: Record<string, string> = {}): EmuResponse {
  return { status, headers: { ...graphHeaders(req), ...extra }, body };
}

// ------------------------------------------------------------------------------------- permissions
//
// Graph authorizes an app-only call by the application permissions in its token's `roles` claim
// (Entra puts there the Graph app roles granted to the caller's service principal in that tenant:
// TenantState.graphAppRoles, entra.ts). The permission tables are Microsoft's
// (../shared/azure-api/graph/PERMISSIONS.md, from microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/includes/permissions/*):
// - GET /servicePrincipals(...): Application.Read.All, or the higher Application.ReadWrite.OwnedBy,
//   Application.ReadWrite.All, Directory.Read.All (serviceprincipal-get-permissions.md); "A service
//   principal can retrieve its own application and service principal details without being granted
//   any application permissions" (serviceprincipal-get.md);
// - POST /servicePrincipals: Application.ReadWrite.OwnedBy, or Application.ReadWrite.All,
//   Directory.ReadWrite.All (serviceprincipal-post-serviceprincipals-permissions.md; its AgentIdentity*
//   permissions create agent identities, not an application's service principal, and are not honoured);
//   with OwnedBy alone, only for an app of the local tenant it owns: the docs do not say OwnedBy can
//   provision another tenant's app, and Graph's observed answer is the 403 below;
// - POST /applications(...)/addPassword: Application.ReadWrite.OwnedBy (on apps it owns only:
//   "It cannot update any apps that it is not an owner of", permissions reference), or
//   Application.ReadWrite.All (application-addpassword.md).
// Not in the fact sheet, so assumed the same as their neighbours (not checked against Microsoft's
// tables): listing servicePrincipals and GET /applications as GET servicePrincipals (the permissions
// reference says OwnedBy may "call GET /applications and GET /servicePrincipals"), removePassword as addPassword.
// Directory.ReadWrite.All is not in the GET table; as the write counterpart of Directory.Read.All it
// is honoured for reads too (a choice: no table held here says either way).

/** 403 Authorization_RequestDenied for a missing permission (Azure-Samples/ms-identity-python-daemon#8, full body). */
const DENIED = 'Insufficient privileges to complete the operation.';
/**
 * Graph's observed 403 for POST /servicePrincipals with Application.ReadWrite.OwnedBy for an app not in
 * the local tenant (or not owned): third-party reports of the real body (PERMISSIONS.md, "OwnedBy and
 * an app from another tenant"), verbatim, its grammar included.
 */
export const OWNED_BY_FOREIGN_APP =
  'When using this permission, the backing application of the service principal being created must in the local tenant';

const READ_APPLICATIONS = [
  'Application.Read.All',
  'Application.ReadWrite.OwnedBy',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const WRITE_ANY_APPLICATION = ['Application.ReadWrite.All', 'Directory.ReadWrite.All'];
const OWNED_BY = 'Application.ReadWrite.OwnedBy';

/** The application permissions in the caller's token (its `roles` claim). */
function rolesOf(req: EmuRequest): string[] {
  const roles = req.token?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

const holds = (req: EmuRequest, permissions: string[]): boolean => rolesOf(req).some((r) => permissions.includes(r));

/** A test override list (TenantState.can*): absent allows everyone; present allows only the appIds in it. */
function overrideAllows(list: string[] | undefined, appid: string): boolean {
  if (!list) return true;
  const a = appid.toLowerCase();
  return list.some((x) => x === '*' || x.toLowerCase() === a);
}

const denied = (req: EmuRequest, ctx: EmuContext, message = DENIED): EmuResponse => graphError(req, ctx, 403, 'Authorization_RequestDenied', message);

/** May the caller own-or-manage `app` for writing (addPassword, removePassword): ReadWrite.All, or OwnedBy on an app it owns. */
function canWriteApplication(req: EmuRequest, app: AppRegistration): boolean {
  if (holds(req, WRITE_ANY_APPLICATION)) return true;
  const oid = req.token?.oid?.toLowerCase();
  return holds(req, [OWNED_BY]) && !!oid && (app.owners ?? []).some((o) => o.toLowerCase() === oid);
}

function notFound(req: EmuRequest, ctx: EmuContext, key: string): EmuResponse {
  return graphError(
    req,
    ctx,
    404,
    'Request_ResourceNotFound',
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

// ------------------------------------------------------------------------------------- rendering

function renderServicePrincipal(ctx: EmuContext, sp: ServicePrincipalObject): Record<string, unknown> {
  const found = findApplication(ctx.state, sp.appId);
  const type = sp.servicePrincipalType ?? 'Application';
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: true,
    alternativeNames: [],
    appDisplayName: found?.app.displayName ?? sp.displayName,
    appDescription: null,
    appId: sp.appId,
    applicationTemplateId: null,
    appOwnerOrganizationId: sp.appOwnerOrganizationId,
    appRoleAssignmentRequired: false,
    createdDateTime: null,
    description: null,
    disabledByMicrosoftStatus: null,
    displayName: sp.displayName,
    homepage: null,
    loginUrl: null,
    logoutUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    preferredSingleSignOnMode: null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: [],
    servicePrincipalNames: [sp.appId],
    servicePrincipalType: type,
    signInAudience: found?.app.signInAudience ?? (type === 'ManagedIdentity' ? null : 'AzureADMyOrg'),
    tags: [],
    tokenEncryptionKeyId: null,
    addIns: [],
    appRoles: [],
    keyCredentials: [],
    oauth2PermissionScopes: [],
    passwordCredentials: [],
    resourceSpecificApplicationPermissions: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

function renderPassword(p: PasswordCredential, withSecret: boolean): Record<string, unknown> {
  return {
    customKeyIdentifier: null,
    displayName: p.displayName ?? null,
    endDateTime: p.endDateTime,
    hint: p.hint,
    keyId: p.keyId,
    secretText: withSecret ? p.secretText : null,
    startDateTime: p.startDateTime,
  };
}

function renderApplication(app: AppRegistration, tenant: TenantState): Record<string, unknown> {
  return {
    id: app.id,
    deletedDateTime: null,
    appId: app.appId,
    applicationTemplateId: null,
    disabledByMicrosoftStatus: null,
    createdDateTime: null,
    displayName: app.displayName,
    description: null,
    groupMembershipClaims: null,
    identifierUris: [],
    isDeviceOnlyAuthSupported: null,
    isFallbackPublicClient: null,
    notes: null,
    publisherDomain: `${(tenant.displayName ?? 'tenant').toLowerCase().replace(/\s+/g, '')}.onmicrosoft.com`,
    signInAudience: app.signInAudience,
    tags: [],
    tokenEncryptionKeyId: null,
    keyCredentials: [],
    passwordCredentials: app.passwordCredentials.map((p) => renderPassword(p, false)),
    requiredResourceAccess: [],
  };
}

function select(obj: Record<string, unknown>, req: EmuRequest): Record<string, unknown> {
  const sel = req.query.get('$select');
  if (!sel) return obj;
  const out: Record<string, unknown> = {};
  for (const f of sel
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const key = Object.keys(obj).find((k) => k.toLowerCase() === f.toLowerCase());
    if (key) out[key] = obj[key];
  }
  if (!('id' in out) && 'id' in obj) out.id = obj.id;
  return out;
}

/** `$filter=appId eq 'x'` / `displayName eq 'x'` / `id eq 'x'` (several joined by ` and `). */
function parseFilter(filter: string): Array<[string, string]> | undefined {
  const clauses = filter.split(/\s+and\s+/i);
  const out: Array<[string, string]> = [];
  for (const c of clauses) {
    const m = /^\s*(appId|displayName|id)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(c);
    if (!m) return undefined;
    out.push([m[1]!.toLowerCase(), m[2]!.replaceAll("''", "'")]);
  }
  return out;
}

function matchesFilter(obj: Record<string, unknown>, clauses: Array<[string, string]>): boolean {
  return clauses.every(([field, value]) => {
    const key = field === 'appid' ? 'appId' : field === 'displayname' ? 'displayName' : 'id';
    const v = obj[key];
    return typeof v === 'string' && (key === 'displayName' ? v === value : v.toLowerCase() === value.toLowerCase());
  });
}

// ------------------------------------------------------------------------------------- secrets

const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-';

export function newSecretText(length = 40): string {
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += SECRET_CHARS[bytes[i]! % SECRET_CHARS.length];
  return s;
}

// ------------------------------------------------------------------------------------- routes

/** Who calls (the access token's tenant and app): set once the service's authentication passed. */
interface Caller {
  tid: string;
  tenant: TenantState;
  appid: string;
}

function callerOf(req: EmuRequest, ctx: EmuContext): Caller {
  const token = req.token!;
  return { tid: token.tid, tenant: ctx.state.tenants[token.tid]!, appid: token.appid };
}

/** An object by its key: `(appId='…')` or `/{id}`. */
function byKey<T extends { id: string; appId: string }>(list: T[], p: Params): T | undefined {
  return p.appId !== undefined
    ? list.find((o) => o.appId.toLowerCase() === p.appId!.toLowerCase())
    : list.find((o) => o.id.toLowerCase() === p.id!.toLowerCase());
}

const keyOf = (p: Params): string => (p.appId ?? p.id)!;

/** A collection GET: `$filter` (the equality clauses Graph supports here), then `$select`. */
function listed(req: EmuRequest, ctx: EmuContext, collection: string, objects: Record<string, unknown>[]): EmuResponse {
  const filter = req.query.get('$filter');
  let list = objects;
  if (filter) {
    const clauses = parseFilter(filter);
    if (!clauses) return graphError(req, ctx, 400, 'Request_UnsupportedQuery', `Unsupported query: '${filter}'.`);
    list = list.filter((o) => matchesFilter(o, clauses));
  }
  return ok(req, 200, { '@odata.context': `${graphBase(ctx)}/$metadata#${collection}`, value: list.map((o) => select(o, req)) });
}

function createServicePrincipal(req: EmuRequest, ctx: EmuContext): EmuResponse {
  const { tid, tenant, appid } = callerOf(req, ctx);
  if (!holds(req, [...WRITE_ANY_APPLICATION, OWNED_BY]) || !overrideAllows(tenant.canProvisionServicePrincipals, appid)) return denied(req, ctx);
  const body = req.json as { appId?: unknown } | undefined;
  const appId = typeof body?.appId === 'string' ? body.appId : undefined;
  if (!appId) return graphError(req, ctx, 400, 'Request_BadRequest', "A value is required for property 'appId' of resource 'ServicePrincipal'.");
  const found = findApplication(ctx.state, appId);
  if (!found) {
    return graphError(
      req,
      ctx,
      400,
      'Request_BadRequest',
      `The appId '${appId}' of the service principal does not reference a valid application object.`,
    );
  }
  if (!holds(req, WRITE_ANY_APPLICATION)) {
    // OwnedBy alone: an app of this tenant that the caller owns, nothing else
    const oid = req.token!.oid.toLowerCase();
    const owned = found.homeTenant === tid && (found.app.owners ?? []).some((o) => o.toLowerCase() === oid);
    if (!owned) return denied(req, ctx, OWNED_BY_FOREIGN_APP);
  }
  if (found.homeTenant !== tid && found.app.signInAudience !== 'AzureADMultipleOrgs') {
    return graphError(
      req,
      ctx,
      400,
      'Request_BadRequest',
      `The application '${appId}' is not multi-tenant (signInAudience 'AzureADMyOrg'); a service principal for it can only be created in its home tenant.`,
    );
  }
  // PERMISSIONS.md: 409 Request_MultipleObjectsWithSameKeyValue, "The service principal cannot be created,
  // updated, or restored because the service principal name {appId} is already in use." (Entra docs text
  // quoting New-MgServicePrincipal's "Status: 409 (Conflict) ErrorCode: Request_MultipleObjectsWithSameKeyValue")
  if (tenant.servicePrincipals.some((sp) => sp.appId.toLowerCase() === appId.toLowerCase())) {
    return graphError(
      req,
      ctx,
      409,
      'Request_MultipleObjectsWithSameKeyValue',
      `The service principal cannot be created, updated, or restored because the service principal name ${appId} is already in use.`,
    );
  }
  const sp: ServicePrincipalObject = {
    id: ctx.newGuid(),
    appId: found.app.appId,
    displayName: found.app.displayName,
    appOwnerOrganizationId: found.homeTenant,
    servicePrincipalType: 'Application',
  };
  tenant.servicePrincipals.push(sp);
  const base = graphBase(ctx);
  return ok(
    req,
    201,
    { '@odata.context': `${base}/$metadata#servicePrincipals/$entity`, ...renderServicePrincipal(ctx, sp) },
    { location: `${base}/directoryObjects/${sp.id}/Microsoft.DirectoryServices.ServicePrincipal` },
  );
}

/** Is the route's key the caller itself (its own service principal or application)? */
function isSelf(req: EmuRequest, p: Params, kind: 'servicePrincipal' | 'application', app?: AppRegistration): boolean {
  const token = req.token!;
  if (p.appId !== undefined) return p.appId.toLowerCase() === token.appid.toLowerCase();
  return kind === 'servicePrincipal'
    ? p.id!.toLowerCase() === token.oid.toLowerCase()
    : !!app && app.appId.toLowerCase() === token.appid.toLowerCase();
}

function getServicePrincipal(req: EmuRequest, ctx: EmuContext, p: Params): EmuResponse {
  if (!holds(req, READ_APPLICATIONS) && !isSelf(req, p, 'servicePrincipal')) return denied(req, ctx);
  const sp = byKey(callerOf(req, ctx).tenant.servicePrincipals, p);
  if (!sp) return notFound(req, ctx, keyOf(p));
  return ok(req, 200, { '@odata.context': `${graphBase(ctx)}/$metadata#servicePrincipals/$entity`, ...select(renderServicePrincipal(ctx, sp), req) });
}

/**
 * The home tenant's application the route names, when the caller may read it or write it (add or
 * remove passwords); else Graph's 403 or 404. Whether Graph answers 404 or 403 to OwnedBy for an app
 * that does not exist is not documented: no permission at all is 403 first, then an unknown app 404,
 * then an app OwnedBy does not cover 403.
 */
function application(req: EmuRequest, ctx: EmuContext, p: Params, right: 'read' | 'write'): AppRegistration | EmuResponse {
  const { tenant, appid } = callerOf(req, ctx);
  const override = right === 'read' ? tenant.canReadApplications : tenant.canAddPassword;
  if (!overrideAllows(override, appid)) return denied(req, ctx);
  const app = byKey(tenant.applications, p);
  if (right === 'read') {
    if (!holds(req, READ_APPLICATIONS) && !(app && isSelf(req, p, 'application', app))) return denied(req, ctx);
    return app ?? notFound(req, ctx, keyOf(p));
  }
  if (!holds(req, [...WRITE_ANY_APPLICATION, OWNED_BY])) return denied(req, ctx);
  if (!app) return notFound(req, ctx, keyOf(p));
  return canWriteApplication(req, app) ? app : denied(req, ctx);
}

const isResponse = (v: AppRegistration | EmuResponse): v is EmuResponse => 'status' in v;

function getApplication(req: EmuRequest, ctx: EmuContext, p: Params): EmuResponse {
  const app = application(req, ctx, p, 'read');
  if (isResponse(app)) return app;
  return ok(req, 200, {
    '@odata.context': `${graphBase(ctx)}/$metadata#applications/$entity`,
    ...select(renderApplication(app, callerOf(req, ctx).tenant), req),
  });
}

function addPassword(req: EmuRequest, ctx: EmuContext, p: Params): EmuResponse {
  const app = application(req, ctx, p, 'write');
  if (isResponse(app)) return app;
  const body = (req.json ?? {}) as { passwordCredential?: { displayName?: unknown; endDateTime?: unknown; startDateTime?: unknown } };
  const pc = body.passwordCredential ?? {};
  const now = ctx.now();
  const start = typeof pc.startDateTime === 'string' ? new Date(pc.startDateTime) : now;
  const end = typeof pc.endDateTime === 'string' ? new Date(pc.endDateTime) : new Date(start.getTime() + 2 * 365 * 24 * 3600 * 1000);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    return graphError(req, ctx, 400, 'Request_BadRequest', "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.");
  }
  if (end.getTime() <= start.getTime()) {
    return graphError(req, ctx, 400, 'Request_BadRequest', 'Key credential end date is invalid.');
  }
  const secretText = newSecretText();
  const cred: PasswordCredential = {
    keyId: randomUUID(),
    displayName: typeof pc.displayName === 'string' ? pc.displayName : null,
    startDateTime: start.toISOString(),
    endDateTime: end.toISOString(),
    hint: secretText.slice(0, 3),
    secretText,
  };
  app.passwordCredentials.push(cred);
  return ok(req, 200, { '@odata.context': `${graphBase(ctx)}/$metadata#microsoft.graph.passwordCredential`, ...renderPassword(cred, true) });
}

function removePassword(req: EmuRequest, ctx: EmuContext, p: Params): EmuResponse {
  const app = application(req, ctx, p, 'write');
  if (isResponse(app)) return app;
  const keyId = (req.json as { keyId?: unknown } | undefined)?.keyId;
  if (typeof keyId !== 'string') return graphError(req, ctx, 400, 'Request_BadRequest', "A value is required for property 'keyId'.");
  const i = app.passwordCredentials.findIndex((c) => c.keyId.toLowerCase() === keyId.toLowerCase());
  if (i < 0) return graphError(req, ctx, 400, 'Request_BadRequest', `No password credential found with keyId '${keyId}'.`);
  app.passwordCredentials.splice(i, 1);
  const { 'content-type': _ct, ...headers } = graphHeaders(req);
  return { status: 204, headers };
}

const SP = '/graph/v1.0/servicePrincipals';
const APP = '/graph/v1.0/applications';
/** The two ways to name an object: its alternate key `(appId='…')`, or its id. */
const KEYS = ["\\(appId=':appId([^']*)'\\)", '/:id'];
const ACTION = ':action(addPassword|removePassword)';

/** A route for each way to name the object, with an optional trailing slash. */
const keyed = (collection: string, tail: string, operations: Omit<Route, 'path'>): Route[] =>
  KEYS.map((key) => ({ path: `${collection}${key}${tail}{/}?`, ...operations }));

const resourceNotFoundForSegment: RouteHandler = (req, ctx, p) =>
  graphError(
    req,
    ctx,
    400,
    'BadRequest',
    `Resource not found for the segment '${p.action ?? req.path.slice(GRAPH_PREFIX.length).split('/')[0] ?? ''}'.`,
  );

export const graphService: Service = {
  name: 'graph',
  owns: (req) => (req.path.startsWith(GRAPH_PREFIX) || req.path === '/graph/v1.0') && !req.hostname.endsWith('.azurecr.localhost'),
  // OData segment names are case-insensitive
  ignoreCase: true,
  requestIds: true,
  routes: [
    {
      path: `${SP}{/}?`,
      GET: (req, ctx) => {
        if (!holds(req, READ_APPLICATIONS)) return denied(req, ctx);
        return listed(
          req,
          ctx,
          'servicePrincipals',
          callerOf(req, ctx).tenant.servicePrincipals.map((sp) => renderServicePrincipal(ctx, sp)),
        );
      },
      POST: createServicePrincipal,
    },
    ...keyed(SP, '', { GET: getServicePrincipal }),
    ...keyed(SP, `/${ACTION}`, { ANY: resourceNotFoundForSegment }),
    {
      path: `${APP}{/}?`,
      GET: (req, ctx) => {
        const { tenant, appid } = callerOf(req, ctx);
        if (!holds(req, READ_APPLICATIONS) || !overrideAllows(tenant.canReadApplications, appid)) return denied(req, ctx);
        return listed(
          req,
          ctx,
          'applications',
          tenant.applications.map((a) => renderApplication(a, tenant)),
        );
      },
    },
    ...keyed(APP, '', { GET: getApplication }),
    ...keyed(APP, '/addPassword', { POST: addPassword }),
    ...keyed(APP, '/removePassword', { POST: removePassword }),
    { path: '/graph/v1.0{/*}?', ANY: resourceNotFoundForSegment },
  ],
  // authentication: an access token from this emulator's Entra, for Graph, of a tenant it knows
  before(req, ctx) {
    if (!req.bearer) return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const token = req.token;
    if (!token)
      return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid token signature, issuer or lifetime.');
    if (!audienceMatches(token.aud, graphResource(ctx.baseUrl))) {
      return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    }
    if (!ctx.state.tenants[token.tid]) {
      return graphError(req, ctx, 401, 'InvalidAuthenticationToken', `Access token validation failure. Unknown tenant '${token.tid}'.`);
    }
    return undefined;
  },
  methodNotAllowed: (req, ctx) => graphError(req, ctx, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'),
};
