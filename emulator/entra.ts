// Entra ID (v2.0 endpoints), enough for MSAL (@azure/identity 4.x with disableInstanceDiscovery):
// OpenID discovery, JWKS, instance discovery, and the client-credentials token endpoint with a
// client secret or a federated client assertion (GitHub OIDC).
import { randomUUID } from 'node:crypto';
import { collapsedPath } from './routes.ts';
import type { Service } from './routes.ts';
import type { AppRegistration, EmuContext, EmuRequest, EmuResponse, EmulatorState, ServicePrincipalObject } from './types.ts';

export const ACCESS_TOKEN_LIFETIME_S = 3600;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Resource ids compare equal when they differ only by trailing slashes (and case). */
export function normalizeResource(resource: string): string {
  return resource.replace(/\/+$/, '').toLowerCase();
}
export function audienceMatches(aud: unknown, resource: string): boolean {
  const want = normalizeResource(resource);
  const auds = Array.isArray(aud) ? aud : [aud];
  return auds.some((a) => typeof a === 'string' && normalizeResource(a) === want);
}

/** The Graph resource id (token audience) of an emulator at baseUrl. */
export function graphResource(baseUrl: string): string {
  return `${baseUrl}/graph`;
}

/** The issuer of access tokens for tenant `tid`. */
export function issuerFor(baseUrl: string, tid: string): string {
  return `${baseUrl}/${tid}/v2.0`;
}

/** Find a tenant by id or by `<displayName>.onmicrosoft.com`. */
export function resolveTenant(state: EmulatorState, tenant: string): string | undefined {
  if (state.tenants[tenant]) return tenant;
  const t = tenant.toLowerCase();
  for (const [id, ts] of Object.entries(state.tenants)) {
    if (id.toLowerCase() === t) return id;
    if (ts.displayName && `${ts.displayName.toLowerCase().replace(/\s+/g, '')}.onmicrosoft.com` === t) return id;
  }
  return undefined;
}

/** The app registration with this client id, wherever its home tenant is. */
export function findApplication(state: EmulatorState, appId: string): { app: AppRegistration; homeTenant: string } | undefined {
  const want = appId.toLowerCase();
  for (const [tid, tenant] of Object.entries(state.tenants)) {
    const app = tenant.applications.find((a) => a.appId.toLowerCase() === want);
    if (app) return { app, homeTenant: tid };
  }
  return undefined;
}

export function findServicePrincipal(state: EmulatorState, tid: string, appId: string): ServicePrincipalObject | undefined {
  const want = appId.toLowerCase();
  return state.tenants[tid]?.servicePrincipals.find((sp) => sp.appId.toLowerCase() === want);
}

// ------------------------------------------------------------------------------------- errors

function entraTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** An error in Entra's token-endpoint shape. */
export function entraError(req: EmuRequest, ctx: EmuContext, status: number, error: string, code: number, text: string): EmuResponse {
  const traceId = randomUUID();
  const clientRequestId = req.headers['client-request-id'];
  const correlationId = typeof clientRequestId === 'string' && clientRequestId ? clientRequestId : randomUUID();
  const timestamp = entraTimestamp(ctx.now());
  return {
    status,
    headers: { 'x-ms-request-id': traceId, 'client-request-id': correlationId, 'cache-control': 'no-store, no-cache' },
    body: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${ctx.baseUrl}/error?code=${code}`,
    },
  };
}

/** Unknown tenant: 'invalid_tenant' on discovery documents, 'invalid_request' on the token endpoint (as Entra answers). */
function tenantNotFound(req: EmuRequest, ctx: EmuContext, tenant: string, error = 'invalid_request'): EmuResponse {
  return entraError(
    req,
    ctx,
    400,
    error,
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

// ------------------------------------------------------------------------------------- discovery

function openIdConfiguration(ctx: EmuContext, tenantSegment: string, tid: string | undefined): Record<string, unknown> {
  const b = ctx.baseUrl;
  const t = tenantSegment;
  return {
    token_endpoint: `${b}/${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${b}/${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${b}/${tid ?? '{tenantid}'}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${b}/graph/oidc/userinfo`,
    authorization_endpoint: `${b}/${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${b}/${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${b}/${t}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${b}/${t}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'emulator.localhost',
    cloud_graph_host_name: new URL(b).host,
    msgraph_host: `${new URL(b).host}/graph`,
    rbac_url: b,
  };
}

function instanceDiscovery(ctx: EmuContext): Record<string, unknown> {
  const host = new URL(ctx.baseUrl).host;
  return {
    tenant_discovery_endpoint: `${ctx.baseUrl}/{tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

// ------------------------------------------------------------------------------------- token endpoint

function readForm(req: EmuRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

function basicAuth(req: EmuRequest): { id: string; secret: string } | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !/^basic /i.test(h)) return undefined;
  const raw = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return undefined;
  return { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
}

function decodeUnverified(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const v = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isoFromEpoch(s: unknown): string {
  return typeof s === 'number' ? new Date(s * 1000).toISOString() : 'unknown';
}

const FIC_CHECK = 'Check your federated identity credential Subject, Audience and Issuer against the presented assertion.';
const FIC_PLEASE_CHECK = 'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.';

/**
 * Entra's answer when no federated identity credential of the app matches the presented assertion,
 * per ../shared/azure-api/entra/AADSTS.md (real responses cited there), as OAuth2 JSON (entraError):
 * - no credential with the assertion's issuer: AADSTS700211, 401 invalid_client (Azure/azure-workload-identity#1200);
 * - the issuer matches, the subject does not: AADSTS700213, 401 invalid_client (Terraform quickstart CI
 *   records; Azure/login#482, #453, #379, #617);
 * - it matches but for letter case: AADSTS7002138 (Azure/login#515, #497; case-sensitive matching since
 *   August 2024, #517). Its status and `error` are not shown in the sources: its siblings' (401
 *   invalid_client) are used;
 * - issuer and subject match, the audience does not: AADSTS700212. Not seen in a real trace here; its
 *   documented expectation is 401 invalid_client (one third-party test uses 400 invalid_request), used here;
 * - with knobs.federatedErrors 'aadsts70021', every mismatch is the older AADSTS70021, 400
 *   invalid_request, naming issuer, subject and audience (Azure/azure-workload-identity#616, #340).
 * In which order Entra compares issuer, subject and audience is not documented: issuer, then subject,
 * then audience here. Matching stays exact and case-sensitive in both modes.
 */
function federatedMismatch(
  req: EmuRequest,
  ctx: EmuContext,
  credentials: AppRegistration['federatedIdentityCredentials'],
  claims: Record<string, unknown>,
): EmuResponse | undefined {
  const iss = String(claims.iss ?? '');
  const sub = String(claims.sub ?? '');
  const auds = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).map(String);
  const byIssuer = credentials.filter((fc) => fc.issuer === iss);
  const bySubject = byIssuer.filter((fc) => fc.subject === sub);
  if (bySubject.some((fc) => fc.audiences.some((a) => auds.includes(a)))) return undefined;
  if (ctx.state.knobs?.federatedErrors === 'aadsts70021') {
    return entraError(
      req,
      ctx,
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${auds.join(',')}'.`,
    );
  }
  if (byIssuer.length === 0) {
    return entraError(
      req,
      ctx,
      401,
      'invalid_client',
      700211,
      `No matching federated identity record found for presented assertion issuer '${iss}'. ${FIC_PLEASE_CHECK}`,
    );
  }
  if (bySubject.length === 0) {
    if (byIssuer.some((fc) => fc.subject.toLowerCase() === sub.toLowerCase())) {
      return entraError(
        req,
        ctx,
        401,
        'invalid_client',
        7002138,
        `No matching federated identity record found for presented assertion subject '${sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. ${FIC_CHECK} See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
      );
    }
    return entraError(
      req,
      ctx,
      401,
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${sub}'. ${FIC_CHECK}`,
    );
  }
  return entraError(
    req,
    ctx,
    401,
    'invalid_client',
    700212,
    `No matching federated identity record found for presented assertion audience '${auds.join(',')}'. ${FIC_PLEASE_CHECK}`,
  );
}

function tokenEndpoint(req: EmuRequest, ctx: EmuContext, tenantSegment: string): EmuResponse {
  const form = readForm(req);
  const basic = basicAuth(req);
  const tid = resolveTenant(ctx.state, tenantSegment);
  if (!tid) return tenantNotFound(req, ctx, tenantSegment);
  const tenantName = ctx.state.tenants[tid]?.displayName ?? tid;

  const grantType = form.get('grant_type');
  if (grantType !== 'client_credentials') {
    return entraError(req, ctx, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType ?? ''}'.`);
  }
  const clientId = form.get('client_id') ?? basic?.id;
  if (!clientId) {
    return entraError(req, ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  }
  const scopeParam = form.get('scope') ?? '';
  const scope = scopeParam.split(/\s+/).find((s) => s.endsWith('/.default'));
  if (!scope) {
    return entraError(
      req,
      ctx,
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const resource = scope.slice(0, -'/.default'.length);

  const found = findApplication(ctx.state, clientId);
  const sp = findServicePrincipal(ctx.state, tid, clientId);
  const crossTenantDenied = found && found.homeTenant !== tid && found.app.signInAudience !== 'AzureADMultipleOrgs';
  if (!found || !sp || crossTenantDenied) {
    return entraError(
      req,
      ctx,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  const { app } = found;
  const now = ctx.now();

  const assertionType = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  const secret = form.get('client_secret') ?? basic?.secret;
  if (assertion || assertionType) {
    if (assertionType !== CLIENT_ASSERTION_TYPE || !assertion) {
      return entraError(
        req,
        ctx,
        400,
        'invalid_request',
        50027,
        `Invalid JWT token. The client_assertion_type must be '${CLIENT_ASSERTION_TYPE}' with a client_assertion.`,
      );
    }
    const claims = ctx.verifyJwt(assertion);
    if (!claims) {
      const unverified = decodeUnverified(assertion);
      const exp = unverified?.exp;
      const expired = typeof exp === 'number' && exp * 1000 <= now.getTime();
      return entraError(
        req,
        ctx,
        400,
        'invalid_client',
        700024,
        expired
          ? `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${isoFromEpoch(unverified?.nbf ?? unverified?.iat)}, expiry time of assertion ${isoFromEpoch(exp)}.`
          : 'Client assertion failed signature validation, or is not within its valid time range.',
      );
    }
    const mismatch = federatedMismatch(req, ctx, app.federatedIdentityCredentials, claims);
    if (mismatch) return mismatch;
  } else if (secret !== undefined && secret !== null) {
    const cred = app.passwordCredentials.find((p) => p.secretText === secret);
    if (!cred) {
      return entraError(
        req,
        ctx,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (Date.parse(cred.endDateTime) <= now.getTime()) {
      return entraError(
        req,
        ctx,
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    }
  } else {
    return entraError(
      req,
      ctx,
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }

  const iat = Math.floor(now.getTime() / 1000);
  // app-only tokens carry, in `roles`, the app roles granted to the caller's service principal on the
  // resource (the `roles` claim of Microsoft's access token claims reference); only Microsoft Graph's
  // are modelled (TenantState.graphAppRoles). Without any, the emulator leaves the claim out.
  const roles = audienceMatches(resource, graphResource(ctx.baseUrl)) ? (ctx.state.tenants[tid]?.graphAppRoles?.[sp.id] ?? []) : [];
  const accessToken = ctx.signJwt({
    ...(roles.length ? { roles: [...roles] } : {}),
    aud: resource,
    iss: issuerFor(ctx.baseUrl, tid),
    iat,
    nbf: iat,
    exp: iat + ACCESS_TOKEN_LIFETIME_S,
    aio: randomUUID(),
    appid: app.appId,
    appidacr: assertion ? '2' : '1',
    azp: app.appId,
    azpacr: assertion ? '2' : '1',
    idp: issuerFor(ctx.baseUrl, tid),
    idtyp: 'app',
    oid: sp.id,
    rh: '0.emulator.',
    sub: sp.id,
    tid,
    uti: randomUUID().replaceAll('-', '').slice(0, 22),
    ver: '2.0',
  });
  return {
    status: 200,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': randomUUID() },
    body: { token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_S, ext_expires_in: ACCESS_TOKEN_LIFETIME_S, access_token: accessToken },
  };
}

// ------------------------------------------------------------------------------------- routes

export const entraService: Service = {
  name: 'entra',
  // every path of the emulator's own host that starts with a tenant (not /_emulator, /_github or /graph)
  owns(req) {
    if (req.hostname.endsWith('.azurecr.localhost')) return false;
    const tenant = req.path.split('/').find((s) => s !== '');
    return tenant !== undefined && !tenant.startsWith('_') && tenant !== 'graph';
  },
  routePath: collapsedPath,
  routes: [
    { path: '/common/discovery/instance', GET: (_req, ctx) => ({ status: 200, body: instanceDiscovery(ctx) }) },
    {
      path: '/:tenant{/v2.0}?/.well-known/openid-configuration',
      GET: (req, ctx, { tenant }) => {
        const generic = ['common', 'organizations', 'consumers'].includes(tenant.toLowerCase());
        const tid = generic ? undefined : resolveTenant(ctx.state, tenant);
        if (!generic && !tid) return tenantNotFound(req, ctx, tenant, 'invalid_tenant');
        return { status: 200, body: openIdConfiguration(ctx, tenant, tid) };
      },
    },
    {
      path: '/:tenant/discovery{/v2.0}?/keys',
      GET: (_req, ctx) => {
        const jwk = ctx.signingJwk?.() ?? {};
        return { status: 200, body: { keys: [{ ...jwk, issuer: `${ctx.baseUrl}/{tenantid}/v2.0` }] } };
      },
    },
    {
      path: '/:tenant/oauth2/v2.0/token',
      POST: (req, ctx, { tenant }) => tokenEndpoint(req, ctx, tenant),
      ANY: (req, ctx) => entraError(req, ctx, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests. Received a GET request.'),
    },
  ],
};
