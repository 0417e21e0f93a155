// Microsoft Graph v1.0 under /graph/v1.0/, multi-tenant: the tenant is the access token's `tid`.
// Service principals (get, filter, provision) and applications (get, addPassword, removePassword).
import { randomBytes, randomUUID } from 'node:crypto';
import { audienceMatches, findApplication, graphResource } from './entra.ts';
import type {
  AppRegistration,
  EmuContext,
  EmuRequest,
  EmuResponse,
  Handler,
  PasswordCredential,
  ServicePrincipalObject,
  TenantState,
} from './types.ts';

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

const DENIED = 'Insufficient privileges to complete the operation.';

function allowed(list: string[] | undefined, appid: string): boolean {
  if (!list) return false;
  const a = appid.toLowerCase();
  return list.some((x) => x === '*' || x.toLowerCase() === a);
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

const ROUTE = /^(servicePrincipals|applications)(?:\(appId='([^']*)'\)|\/([^/]+?))?(?:\/(addPassword|removePassword))?\/?$/i;

const graphHandler: Handler = (req, ctx) => {
  if (!req.path.startsWith(GRAPH_PREFIX) && req.path !== '/graph/v1.0') return undefined;
  if (req.hostname.endsWith('.azurecr.localhost')) return undefined;

  // authentication: an access token from this emulator's Entra, for Graph
  if (!req.bearer) return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const token = req.token;
  if (!token)
    return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid token signature, issuer or lifetime.');
  if (!audienceMatches(token.aud, graphResource(ctx.baseUrl))) {
    return graphError(req, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
  }
  const tid = token.tid;
  const tenant = ctx.state.tenants[tid];
  if (!tenant) return graphError(req, ctx, 401, 'InvalidAuthenticationToken', `Access token validation failure. Unknown tenant '${tid}'.`);
  const caller = token.appid;

  const route = ROUTE.exec(req.path.slice(GRAPH_PREFIX.length));
  if (!route) {
    return graphError(
      req,
      ctx,
      400,
      'BadRequest',
      `Resource not found for the segment '${req.path.slice(GRAPH_PREFIX.length).split('/')[0] ?? ''}'.`,
    );
  }
  const collection = route[1]!.toLowerCase() === 'serviceprincipals' ? 'servicePrincipals' : 'applications';
  const byAppId = route[2];
  const byId = route[3];
  const action = route[4]?.toLowerCase();
  const keyed = byAppId !== undefined || byId !== undefined;
  const base = graphBase(ctx);

  // ------------------------------------------------------------------ servicePrincipals
  if (collection === 'servicePrincipals') {
    if (action) return graphError(req, ctx, 400, 'BadRequest', `Resource not found for the segment '${route[4]}'.`);
    if (!keyed && req.method === 'GET') {
      const filter = req.query.get('$filter');
      let list = tenant.servicePrincipals.map((sp) => renderServicePrincipal(ctx, sp));
      if (filter) {
        const clauses = parseFilter(filter);
        if (!clauses) return graphError(req, ctx, 400, 'Request_UnsupportedQuery', `Unsupported query: '${filter}'.`);
        list = list.filter((o) => matchesFilter(o, clauses));
      }
      return ok(req, 200, { '@odata.context': `${base}/$metadata#servicePrincipals`, value: list.map((o) => select(o, req)) });
    }
    if (!keyed && req.method === 'POST') {
      if (!allowed(tenant.canProvisionServicePrincipals, caller)) return graphError(req, ctx, 403, 'Authorization_RequestDenied', DENIED);
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
      if (found.homeTenant !== tid && found.app.signInAudience !== 'AzureADMultipleOrgs') {
        return graphError(
          req,
          ctx,
          400,
          'Request_BadRequest',
          `The application '${appId}' is not multi-tenant (signInAudience 'AzureADMyOrg'); a service principal for it can only be created in its home tenant.`,
        );
      }
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
      return ok(
        req,
        201,
        { '@odata.context': `${base}/$metadata#servicePrincipals/$entity`, ...renderServicePrincipal(ctx, sp) },
        { location: `${base}/directoryObjects/${sp.id}/Microsoft.DirectoryServices.ServicePrincipal` },
      );
    }
    if (keyed && req.method === 'GET') {
      const sp =
        byAppId !== undefined
          ? tenant.servicePrincipals.find((s) => s.appId.toLowerCase() === byAppId.toLowerCase())
          : tenant.servicePrincipals.find((s) => s.id.toLowerCase() === byId!.toLowerCase());
      if (!sp) return notFound(req, ctx, (byAppId ?? byId)!);
      return ok(req, 200, { '@odata.context': `${base}/$metadata#servicePrincipals/$entity`, ...select(renderServicePrincipal(ctx, sp), req) });
    }
    return graphError(req, ctx, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
  }

  // ------------------------------------------------------------------ applications (home tenant only)
  const findApp = (): AppRegistration | undefined =>
    byAppId !== undefined
      ? tenant.applications.find((a) => a.appId.toLowerCase() === byAppId.toLowerCase())
      : tenant.applications.find((a) => a.id.toLowerCase() === byId!.toLowerCase());

  if (!keyed && req.method === 'GET' && !action) {
    if (!allowed(tenant.canReadApplications, caller)) return graphError(req, ctx, 403, 'Authorization_RequestDenied', DENIED);
    const filter = req.query.get('$filter');
    let list = tenant.applications.map((a) => renderApplication(a, tenant));
    if (filter) {
      const clauses = parseFilter(filter);
      if (!clauses) return graphError(req, ctx, 400, 'Request_UnsupportedQuery', `Unsupported query: '${filter}'.`);
      list = list.filter((o) => matchesFilter(o, clauses));
    }
    return ok(req, 200, { '@odata.context': `${base}/$metadata#applications`, value: list.map((o) => select(o, req)) });
  }
  if (keyed && !action && req.method === 'GET') {
    if (!allowed(tenant.canReadApplications, caller)) return graphError(req, ctx, 403, 'Authorization_RequestDenied', DENIED);
    const app = findApp();
    if (!app) return notFound(req, ctx, (byAppId ?? byId)!);
    return ok(req, 200, { '@odata.context': `${base}/$metadata#applications/$entity`, ...select(renderApplication(app, tenant), req) });
  }
  if (keyed && action && req.method === 'POST') {
    if (!allowed(tenant.canAddPassword, caller)) return graphError(req, ctx, 403, 'Authorization_RequestDenied', DENIED);
    const app = findApp();
    if (!app) return notFound(req, ctx, (byAppId ?? byId)!);
    if (action === 'addpassword') {
      const body = (req.json ?? {}) as { passwordCredential?: { displayName?: unknown; endDateTime?: unknown; startDateTime?: unknown } };
      const pc = body.passwordCredential ?? {};
      const now = ctx.now();
      const start = typeof pc.startDateTime === 'string' ? new Date(pc.startDateTime) : now;
      const end = typeof pc.endDateTime === 'string' ? new Date(pc.endDateTime) : new Date(start.getTime() + 2 * 365 * 24 * 3600 * 1000);
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
        return graphError(
          req,
          ctx,
          400,
          'Request_BadRequest',
          "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.",
        );
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
      return ok(req, 200, { '@odata.context': `${base}/$metadata#microsoft.graph.passwordCredential`, ...renderPassword(cred, true) });
    }
    // removePassword
    const keyId = (req.json as { keyId?: unknown } | undefined)?.keyId;
    if (typeof keyId !== 'string') return graphError(req, ctx, 400, 'Request_BadRequest', "A value is required for property 'keyId'.");
    const i = app.passwordCredentials.findIndex((p) => p.keyId.toLowerCase() === keyId.toLowerCase());
    if (i < 0) return graphError(req, ctx, 400, 'Request_BadRequest', `No password credential found with keyId '${keyId}'.`);
    app.passwordCredentials.splice(i, 1);
    const { 'content-type': _ct, ...headers } = graphHeaders(req);
    return { status: 204, headers };
  }
  return graphError(req, ctx, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
};

export const handlers: Handler[] = [graphHandler];
