// The ACR data plane on <registry>.azurecr.localhost: the OAuth2 exchange and token endpoints and the
// registry API's authentication (GET /v2/, repository routes), as Azure/acr docs/AAD-OAuth.md and
// Token-BasicAuth.md describe them.
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRegistryByHost, findScopeMap, scopeMapAllows, subscriptionOf, TOKEN_TYPE } from './arm/acr.ts';
import { assignmentsAtOrAbove, roleGuidOf, ROLES } from './arm/authorization.ts';
import { isArmAudience, lc } from './arm/common.ts';
import type { Service } from './routes.ts';
import type { EmuContext, EmuRequest, EmuResponse, EmulatorState, TokenPassword } from './types.ts';
import { deniedMessage, reach } from './network.ts';

export const NULL_GUID_USER = '00000000-0000-0000-0000-000000000000';
export const ACR_ISSUER = 'Azure Container Registry';
/** Entra audience of tokens for ACR itself (besides ARM's), per AAD-OAuth.md. */
export const ACR_AUDIENCE = 'https://containerregistry.azure.net';
const REFRESH_TOKEN_SECONDS = 3 * 3600;
const ACCESS_TOKEN_SECONDS = 75 * 60;

type Permission = 'pull' | 'push' | 'delete' | 'metadata_read';

/** Who a credential authenticated as. */
type Principal =
  | { kind: 'admin'; name: string }
  | { kind: 'token'; name: string; token: Record<string, any> }
  | { kind: 'aad'; name: string; oid: string; tid: string };

// ---------------------------------------------------------------- responses

function errors(status: number, code: string, message: string, extra: Record<string, string> = {}, detail?: unknown): EmuResponse {
  const entry: Record<string, unknown> = { code, message };
  if (detail !== undefined) entry.detail = detail;
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'docker-distribution-api-version': 'registry/2.0',
      'x-ms-request-id': randomUUID(),
      ...extra,
    },
    body: { errors: [entry] },
  };
}

const unauthorized = (
  message = 'authentication required, visit https://aka.ms/acr/authorization for more information.',
  extra: Record<string, string> = {},
  detail?: unknown,
): EmuResponse => errors(401, 'UNAUTHORIZED', message, extra, detail);

function ok(body: unknown, extra: Record<string, string> = {}): EmuResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'docker-distribution-api-version': 'registry/2.0',
      'x-ms-request-id': randomUUID(),
      ...extra,
    },
    body,
  };
}

function challenge(registry: Record<string, any>, scope?: string): Record<string, string> {
  const server = String(registry.properties.loginServer);
  let value = `Bearer realm="https://${server}/oauth2/token",service="${server}"`;
  if (scope) value += `,scope="${scope}"`;
  return { 'www-authenticate': value };
}

// ---------------------------------------------------------------- authorization

/**
 * What each built-in role grants on the data plane, by the registry's role assignment mode:
 * - legacy ("RBAC Registry Permissions"): the ACR roles table (MicrosoftDocs/azure-management-docs
 *   articles/container-registry/container-registry-roles.md @ 226196fb, ms.date 10/31/2023): pull for
 *   Owner, Contributor, Reader, AcrPush, AcrPull; push for Owner, Contributor, AcrPush; delete for
 *   Owner, Contributor, AcrDelete. The docs name the Container Registry Repository roles only for
 *   ABAC-enabled registries (container-registry-rbac-built-in-roles-overview.md lists AcrPull, AcrPush,
 *   AcrDelete for "RBAC Registry Permissions"); that they grant nothing on a legacy registry is read
 *   from that, not written anywhere;
 * - ABAC ("RBAC Registry + ABAC Repository Permissions", roleAssignmentMode AbacRepositoryPermissions):
 *   "the AcrPull, AcrPush, and AcrDelete roles aren't honored in an ABAC-enabled registry. Instead ... use
 *   the Container Registry Repository Reader, Container Registry Repository Writer, and Container
 *   Registry Repository Contributor roles"; Owner, Contributor and Reader "won't grant any data plane
 *   permissions" (container-registry-rbac-abac-repository-permissions.md @ 064a6550). Reader reads,
 *   Writer reads and writes, Contributor also deletes (their dataActions, built-in roles reference).
 */
const ROLE_PERMISSIONS: Record<string, { legacy: Permission[]; abac: Permission[] }> = {
  [ROLES.acrPull]: { legacy: ['pull'], abac: [] },
  [ROLES.acrPush]: { legacy: ['pull', 'push'], abac: [] },
  [ROLES.acrDelete]: { legacy: ['delete'], abac: [] },
  [ROLES.owner]: { legacy: ['pull', 'push', 'delete'], abac: [] },
  [ROLES.contributor]: { legacy: ['pull', 'push', 'delete'], abac: [] },
  [ROLES.reader]: { legacy: ['pull'], abac: [] },
  [ROLES.repositoryReader]: { legacy: [], abac: ['pull'] },
  [ROLES.repositoryWriter]: { legacy: [], abac: ['pull', 'push'] },
  [ROLES.repositoryContributor]: { legacy: [], abac: ['pull', 'push', 'delete'] },
};

/** The roles that grant pull, by registry mode (the table above): what verify and attach must look for. */
export const PULL_ROLES = {
  legacy: Object.entries(ROLE_PERMISSIONS)
    .filter(([, p]) => p.legacy.includes('pull'))
    .map(([guid]) => guid),
  abac: Object.entries(ROLE_PERMISSIONS)
    .filter(([, p]) => p.abac.includes('pull'))
    .map(([guid]) => guid),
};

const ATTRIBUTE = String.raw`@(?:Request|Resource)\[Microsoft\.ContainerRegistry/registries/repositories:name\]`;
const OPERATORS = 'StringEqualsIgnoreCase|StringEquals|StringStartsWithIgnoreCase|StringStartsWith|StringLikeIgnoreCase|StringLike';

function stringOp(op: string, value: string, repository: string): boolean {
  const ignoreCase = /IgnoreCase$/i.test(op);
  const v = ignoreCase ? lc(value) : value;
  const r = ignoreCase ? lc(repository) : repository;
  if (/^StringEquals/i.test(op)) return r === v;
  if (/^StringStartsWith/i.test(op)) return r.startsWith(v);
  const re = new RegExp(
    `^${v
      .split('*')
      .map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(r);
}

/**
 * Evaluate the repository clauses of an ABAC condition (Container Registry Repository Reader etc.):
 * the repository is allowed when any `@Request[...repositories:name] <op> '<value>'` clause (or
 * `ForAnyOfAnyValues:<op> {'a', 'b'}`) matches. A condition without such clauses does not restrict.
 */
export function conditionAllowsRepository(condition: string | null | undefined, repository: string): boolean {
  if (!condition) return true;
  let clauses = 0;
  for (const m of condition.matchAll(new RegExp(`${ATTRIBUTE}\\s+(${OPERATORS})\\s+'([^']*)'`, 'gi'))) {
    clauses += 1;
    if (stringOp(m[1], m[2], repository)) return true;
  }
  for (const m of condition.matchAll(new RegExp(`${ATTRIBUTE}\\s+ForAnyOfAnyValues:(${OPERATORS})\\s+\\{([^}]*)\\}`, 'gi'))) {
    clauses += 1;
    for (const v of m[2].matchAll(/'([^']*)'/g)) if (stringOp(m[1], v[1], repository)) return true;
  }
  return clauses === 0;
}

const isAbac = (registry: Record<string, any>): boolean => registry.properties?.roleAssignmentMode === 'AbacRepositoryPermissions';

const armAudienceDisabled = (registry: Record<string, any>): boolean =>
  lc(String(registry.properties?.policies?.azureADAuthenticationAsArmPolicy?.status ?? 'enabled')) === 'disabled';

function registryTenant(state: EmulatorState, registry: Record<string, any>): string | undefined {
  const sub = subscriptionOf(String(registry.id));
  return Object.entries(state.subscriptions).find(([id]) => lc(id) === lc(sub))?.[1].tenantId;
}

/**
 * RBAC on the data plane: role assignments at or above the registry, as the registry's
 * roleAssignmentMode honours them (AcrPull/AcrPush/Owner/Contributor only on legacy registries,
 * Repository Reader with its ABAC condition on ABAC registries). Identities in
 * state.roleAssignmentWriters stand for the subscription owners the default world assumes:
 * they hold Owner (data-plane rights on legacy registries only).
 */
export function rbacAllows(
  state: EmulatorState,
  registry: Record<string, any>,
  oid: string,
  repository: string | undefined,
  permission: Permission,
): boolean {
  const abac = isAbac(registry);
  if (!abac && state.roleAssignmentWriters.some((w) => w === '*' || lc(w) === lc(oid))) return true;
  for (const a of assignmentsAtOrAbove(state, oid, String(registry.id))) {
    const perms = ROLE_PERMISSIONS[roleGuidOf(String(a.properties?.roleDefinitionId ?? ''))];
    if (!perms) continue;
    const granted = abac ? perms.abac : perms.legacy;
    if (!granted.includes(permission)) continue;
    if (!abac || repository === undefined || conditionAllowsRepository(a.properties?.condition, repository)) return true;
  }
  return false;
}

/** May this principal perform `permission` on `repository` (undefined: anything at all)? */
function allows(state: EmulatorState, registry: Record<string, any>, p: Principal, repository: string | undefined, permission: Permission): boolean {
  if (p.kind === 'admin') return true;
  // metadata_read (the /acr/v1 routes: tags, manifest properties): every data-plane role that pulls
  // reads metadata too (AcrPull lists tags; Repository Reader's dataActions include metadata/read);
  // a token needs metadata/read in its scope map.
  if (p.kind === 'aad') return rbacAllows(state, registry, p.oid, repository, permission === 'metadata_read' ? 'pull' : permission);
  const map = findScopeMap(state, String(p.token.properties?.scopeMapId ?? ''));
  const needed =
    permission === 'pull'
      ? 'content/read'
      : permission === 'push'
        ? 'content/write'
        : permission === 'metadata_read'
          ? 'metadata/read'
          : 'content/delete';
  if (repository === undefined) return (map?.properties?.actions ?? []).some((a: string) => a.endsWith(needed));
  return scopeMapAllows(map, repository, needed);
}

/**
 * Entra identities (service principals, refresh tokens) sign in only while they hold some data-plane
 * role on the registry, as ACR's "retrieving permissions failed"; admin and ACR tokens always do.
 */
function hasRegistryPermissions(state: EmulatorState, registry: Record<string, any>, p: Principal): boolean {
  return p.kind !== 'aad' || rbacAllows(state, registry, p.oid, undefined, 'pull');
}

/**
 * Catalog listing: the admin user; on legacy registries the registry-wide roles that pull (which of
 * them list the catalog is not documented separately: the emulator lets AcrPull, AcrPush, Owner and
 * Contributor); on ABAC registries only Container Registry Repository Catalog Lister ("To list all
 * repositories in a registry ... you must additionally assign the Container Registry Repository
 * Catalog Lister role", container-registry-rbac-abac-repository-permissions.md). Not ACR tokens.
 */
function allowsCatalog(state: EmulatorState, registry: Record<string, any>, p: Principal): boolean {
  if (p.kind === 'admin') return true;
  if (p.kind === 'token') return false;
  const roles: string[] = isAbac(registry) ? [ROLES.repositoryCatalogLister] : [ROLES.acrPull, ROLES.acrPush, ROLES.owner, ROLES.contributor];
  if (!isAbac(registry) && state.roleAssignmentWriters.some((w) => w === '*' || lc(w) === lc(p.oid))) return true;
  return assignmentsAtOrAbove(state, p.oid, String(registry.id)).some((a) =>
    roles.includes(roleGuidOf(String(a.properties?.roleDefinitionId ?? ''))),
  );
}

// ---------------------------------------------------------------- credentials

function basicCredentials(req: EmuRequest): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !/^basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  if (at < 0) return undefined;
  return { username: decoded.slice(0, at), password: decoded.slice(at + 1) };
}

const notExpired = (expiry: string | undefined, now: Date): boolean => !expiry || Date.parse(expiry) > now.getTime();

/**
 * A newly generated token password is not usable at once on real ACR: it can take up to about a
 * minute (issue #14; no Microsoft page held here gives the figure). knobs.acrPasswordDelayMs (default
 * 0) refuses it until that long after generateCredentials made it. What ACR answers meanwhile is not
 * documented: the emulator answers as for a wrong password (401 UNAUTHORIZED).
 */
function inEffect(state: EmulatorState, p: TokenPassword, now: Date): boolean {
  const delay = state.knobs?.acrPasswordDelayMs ?? 0;
  return delay <= 0 || !p.created || Date.parse(p.created) + delay <= now.getTime();
}

/** An ACR refresh token from /oauth2/exchange for this registry, still valid. */
function refreshTokenPrincipal(ctx: EmuContext, registry: Record<string, any>, refreshToken: string): Principal | undefined {
  const claims = ctx.verifyJwt(refreshToken);
  const stored = ctx.state.registrySecrets.refreshTokens[refreshToken];
  if (!claims || !stored) return undefined;
  if (claims.iss !== ACR_ISSUER || claims.grant_type !== 'refresh_token') return undefined;
  if (lc(stored.registry) !== lc(String(registry.id))) return undefined;
  if (stored.exp * 1000 <= ctx.now().getTime()) return undefined;
  return { kind: 'aad', name: String(claims.sub ?? stored.oid), oid: stored.oid, tid: stored.tid };
}

/** Resolve a username/password pair: admin user, ACR token, service principal, or null GUID + refresh token. */
function passwordPrincipal(ctx: EmuContext, registry: Record<string, any>, username: string, password: string): Principal | undefined {
  const state = ctx.state;
  const now = ctx.now();
  if (username === NULL_GUID_USER) return refreshTokenPrincipal(ctx, registry, password);

  const admin = state.registrySecrets.admin[lc(String(registry.id))];
  if (
    registry.properties?.adminUserEnabled &&
    admin &&
    lc(admin.username) === lc(username) &&
    (password === admin.password || password === admin.password2)
  ) {
    return { kind: 'admin', name: admin.username };
  }

  const tokenId = `${lc(String(registry.id))}/tokens/${lc(username)}`;
  const token = state.resources[tokenId];
  if (token && lc(String(token.type)) === lc(TOKEN_TYPE)) {
    const secrets = state.registrySecrets.tokenPasswords[tokenId] ?? {};
    const match = [secrets.password1, secrets.password2].some(
      (p) => p && p.value === password && notExpired(p.expiry, now) && inEffect(state, p, now),
    );
    if (match && token.properties?.status !== 'disabled') return { kind: 'token', name: String(token.name), token };
    return undefined;
  }

  // a service principal: appId + a current client secret of its app, SP present in the registry's tenant
  const tenantId = registryTenant(state, registry);
  const sp = tenantId ? state.tenants[tenantId]?.servicePrincipals.find((s) => lc(s.appId) === lc(username)) : undefined;
  if (!sp || !tenantId) return undefined;
  const app = Object.values(state.tenants)
    .flatMap((t) => t.applications)
    .find((a) => lc(a.appId) === lc(username));
  const valid = app?.passwordCredentials.some(
    (c) => c.secretText === password && Date.parse(c.startDateTime) <= now.getTime() && now.getTime() < Date.parse(c.endDateTime),
  );
  return valid ? { kind: 'aad', name: sp.appId, oid: sp.id, tid: tenantId } : undefined;
}

// ---------------------------------------------------------------- tokens

interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** Parse docker scopes ('repository:app/web:pull,push', 'registry:catalog:*'); several may be space-separated. */
function parseScopes(values: string[]): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const value of values) {
    for (const scope of value.split(' ').filter(Boolean)) {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      out.push({
        type: scope.slice(0, first),
        name: scope.slice(first + 1, last),
        actions: scope
          .slice(last + 1)
          .split(',')
          .filter(Boolean),
      });
    }
  }
  return out;
}

function grantedAccess(state: EmulatorState, registry: Record<string, any>, p: Principal, requested: AccessEntry[]): AccessEntry[] {
  const granted: AccessEntry[] = [];
  for (const entry of requested) {
    let actions: string[] = [];
    if (entry.type === 'repository') {
      const wanted = entry.actions.includes('*') ? ['pull', 'push', 'delete'] : entry.actions;
      actions = wanted.filter(
        (a) => (a === 'pull' || a === 'push' || a === 'delete' || a === 'metadata_read') && allows(state, registry, p, entry.name, a as Permission),
      );
      if (entry.actions.includes('*') && actions.length === 3) actions = ['*'];
    } else if (entry.type === 'registry' && entry.name === 'catalog') {
      actions = allowsCatalog(state, registry, p) ? entry.actions : [];
    }
    if (actions.length > 0) granted.push({ type: entry.type, name: entry.name, actions });
  }
  return granted;
}

function issueAccessToken(ctx: EmuContext, registry: Record<string, any>, p: Principal, access: AccessEntry[]): string {
  const now = Math.floor(ctx.now().getTime() / 1000);
  return ctx.signJwt({
    jti: randomUUID(),
    sub: p.name,
    nbf: now,
    exp: now + ACCESS_TOKEN_SECONDS,
    iat: now,
    iss: ACR_ISSUER,
    aud: String(registry.properties.loginServer),
    version: '1.0',
    rid: lc(String(registry.id)),
    access,
    roles: [],
    grant_type: 'access_token',
  });
}

function formOf(req: EmuRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

function serviceMatches(registry: Record<string, any>, service: string | null): boolean {
  if (!service) return true;
  const server = lc(String(registry.properties.loginServer));
  return lc(service) === server || lc(service) === server.replace(/:\d+$/, '');
}

function exchange(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>): EmuResponse {
  const form = formOf(req);
  const grantType = form.get('grant_type');
  if (grantType !== 'access_token') {
    if (grantType === 'access_token_refresh_token' || grantType === 'refresh_token') {
      return errors(
        400,
        'UNSUPPORTED',
        `grant type '${grantType}' (Azure AD refresh tokens) is deprecated and not supported by this registry; present an Azure AD access token`,
      );
    }
    return errors(400, 'UNSUPPORTED', 'grant_type must be access_token');
  }
  if (!serviceMatches(registry, form.get('service'))) return unauthorized(`the service '${form.get('service')}' does not match this registry`);
  const aadToken = form.get('access_token');
  if (!aadToken) return errors(400, 'BAD_REQUEST', 'access_token is required');
  const claims = ctx.verifyJwt(aadToken);
  if (!claims || typeof claims.exp !== 'number' || claims.exp * 1000 <= ctx.now().getTime())
    return unauthorized('invalid or expired Azure AD access token');
  const aud = String(claims.aud ?? '');
  const acrAudience = lc(aud.replace(/\/+$/, '')) === ACR_AUDIENCE;
  if (!isArmAudience(aud, ctx) && !acrAudience) {
    return unauthorized(`the Azure AD access token has audience '${aud}'; ACR accepts tokens for Azure Resource Manager or ${ACR_AUDIENCE}`);
  }
  // properties.policies.azureADAuthenticationAsArmPolicy.status (2025-11-01; default "enabled"):
  // "When enabled (default): The registry accepts both ARM-scoped and ACR-scoped Microsoft Entra
  // authentication. When disabled (recommended): The registry accepts only ACR-scoped Microsoft Entra
  // authentication and rejects ARM-scoped authentication." (MicrosoftDocs/azure-management-docs
  // container-registry-disable-authentication-as-arm.md @ d923d588; ../shared/azure-api/acr-dataplane/AUDIENCES.md).
  // The refusal is a 401 (MicrosoftDocs/azure-docs PR #113429: "you will get an 401 (Unauthorized)");
  // its body is not documented anywhere held here: the emulator answers in the registry's usual
  // {"errors":[{"code":"UNAUTHORIZED",...}]} shape with a message of its own.
  if (!acrAudience && armAudienceDisabled(registry)) {
    return unauthorized(
      `this registry accepts only tokens for ${ACR_AUDIENCE} (its Azure AD authentication-as-ARM policy is disabled); the token's audience is '${aud}'`,
    );
  }
  const tid = String(claims.tid ?? '');
  const oid = String(claims.oid ?? '');
  const tenantParam = form.get('tenant');
  if (tenantParam && lc(tenantParam) !== lc(tid)) return unauthorized(`the tenant '${tenantParam}' does not match the access token's tenant`);
  const tenantId = registryTenant(ctx.state, registry);
  if (!tenantId || lc(tenantId) !== lc(tid)) return unauthorized('retrieving permissions failed');
  const p: Principal = { kind: 'aad', name: String(claims.appid ?? oid), oid, tid };
  if (!rbacAllows(ctx.state, registry, oid, undefined, 'pull')) {
    return unauthorized('retrieving permissions failed');
  }
  const now = Math.floor(ctx.now().getTime() / 1000);
  const exp = now + REFRESH_TOKEN_SECONDS;
  const refreshToken = ctx.signJwt({
    jti: randomUUID(),
    sub: p.name,
    nbf: now,
    exp,
    iat: now,
    iss: ACR_ISSUER,
    aud: String(registry.properties.loginServer),
    version: '1.0',
    rid: lc(String(registry.id)),
    grant_type: 'refresh_token',
    tenant: tid,
    permissions: { actions: ['*'], notActions: [] },
    roles: [],
  });
  ctx.state.registrySecrets.refreshTokens[refreshToken] = { registry: String(registry.id), oid, tid, exp };
  return ok({ refresh_token: refreshToken });
}

function token(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>): EmuResponse {
  let principal: Principal | undefined;
  let scopes: string[];
  const basic = basicCredentials(req);
  if (req.method === 'POST' && !basic) {
    const form = formOf(req);
    if (!serviceMatches(registry, form.get('service'))) return unauthorized(`the service '${form.get('service')}' does not match this registry`);
    scopes = form.getAll('scope');
    const grantType = form.get('grant_type');
    if (grantType === 'refresh_token') {
      const rt = form.get('refresh_token');
      principal = rt ? refreshTokenPrincipal(ctx, registry, rt) : undefined;
    } else if (grantType === 'password') {
      principal = passwordPrincipal(ctx, registry, form.get('username') ?? '', form.get('password') ?? '');
    } else {
      return errors(400, 'UNSUPPORTED', 'grant_type must be refresh_token or password');
    }
  } else {
    if (!serviceMatches(registry, req.query.get('service')))
      return unauthorized(`the service '${req.query.get('service')}' does not match this registry`);
    scopes = req.query.getAll('scope');
    if (req.method === 'POST') scopes = [...scopes, ...formOf(req).getAll('scope')];
    if (!basic) return unauthorized(undefined, challenge(registry));
    principal = passwordPrincipal(ctx, registry, basic.username, basic.password);
  }
  // The data-plane spec (specs/containerregistry/data-plane-2021-07-01: Authentication_GetAcrAccessTokenFromLogin
  // and Authentication_ExchangeAcrRefreshTokenForAcrAccessToken) makes `scope` required; ACR's own docs
  // (acr-dataplane/AAD-OAuth.md) always send one. knobs.acrTokenScopeRequired, on in the default seed
  // (the action sends a scope on every path: src/azure/acr-token.ts, src/registry-login.ts), answers a
  // request without one 400; off, it gets a token without access. `docker login` sends no scope and
  // works against real ACR, so the real registry is likely lenient here: the knob is stricter than
  // what is observed, which only the action's own requests meet. The real answer to a missing scope
  // is not documented anywhere held here: the emulator's is the registry's error shape with its own message.
  if (ctx.state.knobs?.acrTokenScopeRequired && scopes.filter((v) => v.trim() !== '').length === 0) {
    return errors(400, 'BAD_REQUEST', "the 'scope' parameter is required");
  }
  if (!principal || !hasRegistryPermissions(ctx.state, registry, principal)) return unauthorized();
  const access = grantedAccess(ctx.state, registry, principal, parseScopes(scopes));
  return ok({ access_token: issueAccessToken(ctx, registry, principal, access) });
}

// ---------------------------------------------------------------- registry API (authentication only)

type Caller = { kind: 'bearer'; access: AccessEntry[] } | { kind: 'basic'; principal: Principal } | undefined;

function caller(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>): Caller | 'invalid' {
  const basic = basicCredentials(req);
  if (basic) {
    const principal = passwordPrincipal(ctx, registry, basic.username, basic.password);
    return principal && hasRegistryPermissions(ctx.state, registry, principal) ? { kind: 'basic', principal } : 'invalid';
  }
  if (!req.bearer) return undefined;
  const claims = ctx.verifyJwt(req.bearer);
  if (
    !claims ||
    claims.iss !== ACR_ISSUER ||
    claims.grant_type !== 'access_token' ||
    lc(String(claims.aud ?? '')) !== lc(String(registry.properties.loginServer)) ||
    typeof claims.exp !== 'number' ||
    claims.exp * 1000 <= ctx.now().getTime()
  ) {
    return 'invalid';
  }
  return { kind: 'bearer', access: Array.isArray(claims.access) ? (claims.access as AccessEntry[]) : [] };
}

const notServed = (): EmuResponse => errors(404, 'NOT_FOUND', 'the requested route is not served by the emulated registry');

/** GET /v2/: the API version check, which only says whether the credential is good. */
function base(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>): EmuResponse {
  const who = caller(req, ctx, registry);
  if (who === undefined || who === 'invalid') return unauthorized(undefined, challenge(registry));
  return ok({});
}

function catalog(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>): EmuResponse {
  const who = caller(req, ctx, registry);
  const scope = 'registry:catalog:*';
  const allowed =
    who !== undefined &&
    who !== 'invalid' &&
    (who.kind === 'basic'
      ? allowsCatalog(ctx.state, registry, who.principal)
      : who.access.some((a) => a.type === 'registry' && a.name === 'catalog'));
  if (!allowed) return unauthorized(undefined, challenge(registry, scope), [{ Type: 'registry', Name: 'catalog', Action: '*' }]);
  return ok({ repositories: [] });
}

/** May the caller `permission` on `repository`? (Basic credentials, or the Bearer token's access claim.) */
function callerAllows(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>, repository: string, permission: Permission): boolean {
  const who = caller(req, ctx, registry);
  if (who === undefined || who === 'invalid') return false;
  if (who.kind === 'basic') return allows(ctx.state, registry, who.principal, repository, permission);
  return who.access.some((a) => a.type === 'repository' && a.name === repository && (a.actions.includes(permission) || a.actions.includes('*')));
}

// ---------------------------------------------------------------- the image store behind the registry

interface BackendAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type Backend = NonNullable<EmulatorState['registryBackends']>[string];

const backendOf = (ctx: EmuContext, registry: Record<string, any>): Backend | undefined => ctx.state.registryBackends?.[lc(String(registry.id))];

/**
 * One request to the real registry behind an emulated ACR (Debian's docker-registry with htpasswd),
 * as the emulator's own user: what ACR's storage is to ACR. HEAD is asked as GET, so that the
 * answer's Content-Length is the manifest's (the server sends no body for a HEAD).
 */
function backendRequest(backend: Backend, method: string, path: string, headers: Record<string, string> = {}): Promise<BackendAnswer> {
  const u = new URL(path, backend.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: method === 'HEAD' ? 'GET' : method,
        ca: backend.caPem,
        headers: { ...headers, authorization: `Basic ${Buffer.from(`${backend.username}:${backend.password}`).toString('base64')}` },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the registry behind the emulator (${backend.url}) did not answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The headers of a registry answer that a client reads (the rest, such as the backend's auth realm, stay behind). */
const PASSED_HEADERS = ['content-type', 'docker-content-digest', 'docker-distribution-api-version', 'etag', 'link'];

function relayed(a: BackendAnswer): EmuResponse {
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID() };
  for (const h of PASSED_HEADERS) if (a.headers[h]) headers[h] = a.headers[h];
  if (a.status === 401 || a.status === 403) {
    // the emulator's own user was refused by the registry behind it: a test bed error, not ACR's answer
    return errors(500, 'INTERNAL_ERROR', `the registry behind the emulator refused the emulator's user (HTTP ${a.status})`);
  }
  return { status: a.status, headers, body: a.body };
}

/**
 * A repository route (manifests, blobs, tags): authorized by the method's permission (the
 * challenge names the scope, as ACR's does), then read from the registry behind the emulated one
 * when the test names one (state.registryBackends), else "not known" (no image store).
 */
function repositoryRoute(req: EmuRequest, ctx: EmuContext, registry: Record<string, any>, repository: string): EmuResponse {
  const permission: Permission = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : req.method === 'DELETE' ? 'delete' : 'push';
  const scope = `repository:${repository}:${permission}`;
  if (!callerAllows(req, ctx, registry, repository, permission))
    return unauthorized(undefined, challenge(registry, scope), [{ Type: 'repository', Name: repository, Action: permission }]);
  const backend = backendOf(ctx, registry);
  if (!backend) return errors(404, 'NAME_UNKNOWN', 'repository name not known to registry', {}, { name: repository });
  if (req.method !== 'GET' && req.method !== 'HEAD') return errors(405, 'UNSUPPORTED', 'the emulated registry serves reads only');
  const accept: Record<string, string> = typeof req.headers.accept === 'string' ? { accept: req.headers.accept } : {};
  return { status: 0, deferred: async () => relayed(await backendRequest(backend, req.method, `${req.path}${req.url.search}`, accept)) };
}

// ---------------------------------------------------------------- /acr/v1: the metadata @azure/container-registry reads

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

const CHANGEABLE = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true };

/**
 * GET /acr/v1/<repo>/_tags/<tag> (TagAttributes) and /acr/v1/<repo>/_manifests/<digest>
 * (ManifestAttributes), data-plane 2021-07-01, read from the registry behind. They need
 * `repository:<repo>:metadata_read` (the challenge names it). Times: the registry behind keeps none
 * the emulator can read, so both are the answer's time. A missing tag or manifest: 404 with the
 * registry's MANIFEST_UNKNOWN (which code ACR's /acr/v1 routes use is not documented in the sources
 * held here), a missing repository NAME_UNKNOWN.
 */
function metadataRoute(
  req: EmuRequest,
  ctx: EmuContext,
  registry: Record<string, any>,
  repository: string,
  kind: string,
  reference: string,
): EmuResponse {
  if (req.method !== 'GET') return errors(405, 'UNSUPPORTED', 'the emulated registry serves GET on /acr/v1 metadata only');
  const scope = `repository:${repository}:metadata_read`;
  if (!callerAllows(req, ctx, registry, repository, 'metadata_read'))
    return unauthorized(undefined, challenge(registry, scope), [{ Type: 'repository', Name: repository, Action: 'metadata_read' }]);
  const backend = backendOf(ctx, registry);
  if (!backend) return errors(404, 'NAME_UNKNOWN', 'repository name not known to registry', {}, { name: repository });
  const loginServer = String(registry.properties.loginServer);
  const now = ctx.now().toISOString();
  return {
    status: 0,
    deferred: async () => {
      const m = await backendRequest(backend, 'GET', `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_TYPES });
      if (m.status !== 200) return relayed(m);
      const digest = m.headers['docker-content-digest'] ?? '';
      if (kind === '_tags') {
        return ok({
          registry: loginServer,
          imageName: repository,
          tag: { name: reference, digest, createdTime: now, lastUpdateTime: now, signed: false, changeableAttributes: CHANGEABLE },
        });
      }
      let manifest: { mediaType?: string; config?: { digest?: string; mediaType?: string; size?: number }; layers?: { size?: number }[] } = {};
      try {
        manifest = JSON.parse(m.body.toString('utf8'));
      } catch {
        // an index or an unreadable body: no platform facts
      }
      let platform: { architecture?: string; os?: string } = {};
      if (manifest.config?.digest) {
        const c = await backendRequest(backend, 'GET', `/v2/${repository}/blobs/${manifest.config.digest}`);
        if (c.status === 200) {
          try {
            platform = JSON.parse(c.body.toString('utf8'));
          } catch {
            platform = {};
          }
        }
      }
      const t = await backendRequest(backend, 'GET', `/v2/${repository}/tags/list`);
      let tags: string[] = [];
      if (t.status === 200) {
        try {
          const all = (JSON.parse(t.body.toString('utf8')) as { tags?: string[] }).tags ?? [];
          for (const tag of all) {
            const h = await backendRequest(backend, 'HEAD', `/v2/${repository}/manifests/${tag}`, { accept: MANIFEST_TYPES });
            if (h.headers['docker-content-digest'] === digest) tags.push(tag);
          }
        } catch {
          tags = [];
        }
      }
      const size = (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((a, l) => a + (l.size ?? 0), 0);
      return ok({
        registry: loginServer,
        imageName: repository,
        manifest: {
          digest,
          imageSize: size,
          createdTime: now,
          lastUpdateTime: now,
          ...(platform.architecture ? { architecture: platform.architecture } : {}),
          ...(platform.os ? { os: platform.os } : {}),
          mediaType: manifest.mediaType ?? m.headers['content-type'],
          ...(manifest.config?.mediaType ? { configMediaType: manifest.config.mediaType } : {}),
          tags,
          changeableAttributes: CHANGEABLE,
        },
      });
    },
  };
}

/** The registry the request's host names (the service's `before` answered 404 for any other host). */
const registryOf = (req: EmuRequest, ctx: EmuContext): Record<string, any> => findRegistryByHost(ctx.state, req.hostname)!;

/** Preload for child processes: maps *.azurecr.localhost to 127.0.0.1 (registry hosts have no DNS here). */
export const RESOLVE_HOOK_PATH = join(dirname(fileURLToPath(import.meta.url)), 'resolve-hook.mjs');

export const acrService: Service = {
  name: 'acr',
  owns: (req) => req.hostname.endsWith('.azurecr.localhost'),
  env: (): Record<string, string> => (existsSync(RESOLVE_HOOK_PATH) ? { NODE_OPTIONS: `--import=${RESOLVE_HOOK_PATH}` } : {}),
  before(req, ctx) {
    const registry = findRegistryByHost(ctx.state, req.hostname);
    if (!registry) return errors(404, 'NAME_UNKNOWN', `no registry is served at ${req.hostname}`);
    // the registry's network rules, for the caller's route (emulator/network.ts): every data-plane path, /oauth2 included
    const route = reach(ctx.state, registry, req.caller ?? 'runner');
    if (!route.ok && route.failure === 'denied') return errors(403, 'DENIED', deniedMessage(route.ip));
    return undefined;
  },
  routes: [
    { path: '/oauth2/exchange', POST: (req, ctx) => exchange(req, ctx, registryOf(req, ctx)), ANY: () => errors(405, 'UNSUPPORTED', 'use POST') },
    {
      path: '/oauth2/token',
      GET: (req, ctx) => token(req, ctx, registryOf(req, ctx)),
      POST: (req, ctx) => token(req, ctx, registryOf(req, ctx)),
      ANY: () => errors(405, 'UNSUPPORTED', 'use GET or POST'),
    },
    { path: '/v2{/}?', ANY: (req, ctx) => base(req, ctx, registryOf(req, ctx)) },
    { path: '/v2/_catalog', ANY: (req, ctx) => catalog(req, ctx, registryOf(req, ctx)) },
    {
      path: '/v2/:repository(.+?)/:kind(manifests|blobs|tags)/:reference(.+)',
      ANY: (req, ctx, p) => repositoryRoute(req, ctx, registryOf(req, ctx), p.repository),
    },
    {
      path: '/acr/v1/:repository(.+?)/:kind(_tags|_manifests)/:reference(.+)',
      ANY: (req, ctx, p) => metadataRoute(req, ctx, registryOf(req, ctx), p.repository, p.kind, p.reference),
    },
    { path: '*', ANY: notServed },
  ],
};
