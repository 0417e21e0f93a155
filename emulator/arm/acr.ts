// ARM: Microsoft.ContainerRegistry registries, scope maps, tokens and their credentials (2025-04-01 shapes).
import { randomBytes } from 'node:crypto';
import type { Route } from '../routes.ts';
import type { AccessTokenClaims, ArmOperation, EmuContext, EmuRequest, EmuResponse, EmulatorState } from '../types.ts';
import {
  RESOURCE_GROUP,
  SUBSCRIPTION,
  apiVersionOf,
  armErr,
  bodyObject,
  empty,
  findOperation,
  gated,
  json,
  lc,
  listOf,
  operationGate,
  page,
  pass,
  pollAsyncOperation,
  pollLocation,
  resourceGroupGate,
  resourceNotFound,
  startLro,
  subscriptionGate,
  systemData,
} from './common.ts';
import type { Gate, RouteGate } from './common.ts';

export const REGISTRY_TYPE = 'Microsoft.ContainerRegistry/registries';
export const SCOPE_MAP_TYPE = 'Microsoft.ContainerRegistry/registries/scopeMaps';
export const TOKEN_TYPE = 'Microsoft.ContainerRegistry/registries/tokens';

// ---------------------------------------------------------------- helpers shared with the data plane

/** The registry whose login server host (without port) is `host`. */
export function findRegistryByHost(state: EmulatorState, host: string): Record<string, any> | undefined {
  const want = lc(host.replace(/:\d+$/, ''));
  return Object.values(state.resources).find(
    (r) => lc(String(r.type ?? '')) === lc(REGISTRY_TYPE) && lc(String(r.properties?.loginServer ?? '').replace(/:\d+$/, '')) === want,
  );
}

/** The subscription id inside an ARM resource id. */
export function subscriptionOf(id: string): string {
  return String(id).split('/')[2] ?? '';
}

/** ACR's built-in scope maps, present in every registry. */
const SYSTEM_SCOPE_MAPS: Array<{ name: string; description: string; actions: string[] }> = [
  {
    name: '_repositories_admin',
    description: 'Can perform all read, write and delete operations on the registry',
    actions: [
      'repositories/*/metadata/read',
      'repositories/*/metadata/write',
      'repositories/*/content/read',
      'repositories/*/content/write',
      'repositories/*/content/delete',
    ],
  },
  { name: '_repositories_pull', description: 'Can pull any repository of the registry', actions: ['repositories/*/content/read'] },
  {
    name: '_repositories_pull_metadata_read',
    description: 'Can perform all read operations on the registry',
    actions: ['repositories/*/content/read', 'repositories/*/metadata/read'],
  },
  {
    name: '_repositories_push',
    description: 'Can push to any repository of the registry',
    actions: ['repositories/*/content/read', 'repositories/*/content/write'],
  },
  {
    name: '_repositories_push_metadata_write',
    description: 'Can perform all read and write operations on the registry',
    actions: ['repositories/*/metadata/read', 'repositories/*/metadata/write', 'repositories/*/content/read', 'repositories/*/content/write'],
  },
];

function systemScopeMaps(registry: Record<string, any>): Record<string, any>[] {
  return SYSTEM_SCOPE_MAPS.map((m) => ({
    id: `${registry.id}/scopeMaps/${m.name}`,
    name: m.name,
    type: SCOPE_MAP_TYPE,
    properties: {
      description: m.description,
      type: 'SystemDefined',
      creationDate: registry.properties?.creationDate ?? '2024-01-01T00:00:00.0000000+00:00',
      provisioningState: 'Succeeded',
      actions: [...m.actions],
    },
  }));
}

/** A scope map by id (user-defined from state, or a system one of its registry). */
export function findScopeMap(state: EmulatorState, scopeMapId: string): Record<string, any> | undefined {
  const stored = state.resources[lc(scopeMapId)];
  if (stored) return stored;
  const at = lc(scopeMapId).lastIndexOf('/scopemaps/');
  if (at < 0) return undefined;
  const registry = state.resources[lc(scopeMapId).slice(0, at)];
  if (!registry) return undefined;
  return systemScopeMaps(registry).find((m) => lc(m.id) === lc(scopeMapId));
}

/** ACR repository patterns in scope maps: exact names, `prefix/*`, or `*`. */
export function repoPatternMatches(pattern: string, repository: string): boolean {
  const p = lc(pattern);
  const r = lc(repository);
  if (p === '*') return true;
  if (p.endsWith('/*')) return r.startsWith(p.slice(0, -1));
  return p === r;
}

/** Does a scope map grant `repositories/<repo>/<permission>` (e.g. content/read) for this repository? */
export function scopeMapAllows(scopeMap: Record<string, any> | undefined, repository: string, permission: string): boolean {
  const actions: string[] = scopeMap?.properties?.actions ?? [];
  return actions.some((a) => {
    const m = /^repositories\/(.+)\/((?:content|metadata)\/(?:read|write|delete))$/i.exec(a);
    return !!m && lc(m[2]) === lc(permission) && repoPatternMatches(m[1], repository);
  });
}

const ACTION =
  /^(repositories\/(\*|[a-z0-9]+(?:[._\-/][a-z0-9]+)*(?:\/\*)?)\/(content\/(read|write|delete)|metadata\/(read|write))|gateway\/[a-z0-9-]+\/(config|message)\/(read|write))$/;
/** The names ACR accepts for a registry's scope maps and tokens. */
const CHILD_NAMES = {
  scopeMaps: { what: 'scope map', rule: /^[a-zA-Z0-9-_]{5,50}$/, characters: "alphanumeric characters, '-' and '_'" },
  tokens: { what: 'token', rule: /^[a-zA-Z0-9-]{5,50}$/, characters: "alphanumeric characters and '-'" },
};

const newSecret = (): string => randomBytes(24).toString('base64');

// ---------------------------------------------------------------- registries

interface RegistryCtx {
  claims: AccessTokenClaims;
  subscriptionId: string;
  resourceGroup: string;
  registry: Record<string, any>;
}

function listCredentials(ctx: EmuContext, r: RegistryCtx): EmuResponse {
  const registry = r.registry;
  if (!registry.properties?.adminUserEnabled) {
    return armErr(
      ctx,
      400,
      'UnAuthorizedForCredentialOperations',
      `Cannot perform credential operations for ${registry.id} as admin user is disabled. Kindly enable admin user as per docs: https://docs.microsoft.com/azure/container-registry/container-registry-authentication#admin-account`,
    );
  }
  const key = lc(String(registry.id));
  const admin = (ctx.state.registrySecrets.admin[key] ??= { username: String(registry.name), password: newSecret(), password2: newSecret() });
  return json(200, {
    username: admin.username,
    passwords: [
      { name: 'password', value: admin.password },
      { name: 'password2', value: admin.password2 },
    ],
  });
}

function regenerateCredential(req: EmuRequest, ctx: EmuContext, r: RegistryCtx): EmuResponse {
  const body = bodyObject(req, ctx);
  if (!body.ok) return body.res;
  const name: unknown = body.value.name;
  if (name !== 'password' && name !== 'password2') {
    return armErr(ctx, 400, 'InvalidParameter', "The parameter 'name' must be 'password' or 'password2'.");
  }
  if (!r.registry.properties?.adminUserEnabled) return listCredentials(ctx, r);
  const key = lc(String(r.registry.id));
  const admin = (ctx.state.registrySecrets.admin[key] ??= { username: String(r.registry.name), password: newSecret(), password2: newSecret() });
  admin[name] = newSecret();
  return listCredentials(ctx, r);
}

function generateCredentials(req: EmuRequest, ctx: EmuContext, r: RegistryCtx): EmuResponse {
  const body = bodyObject(req, ctx);
  if (!body.ok) return body.res;
  const { tokenId, expiry, name } = body.value as { tokenId?: unknown; expiry?: unknown; name?: unknown };
  if (typeof tokenId !== 'string' || !tokenId) {
    return armErr(ctx, 400, 'InvalidParameter', 'The parameter tokenId is required to generate credentials.');
  }
  if (name !== undefined && name !== 'password1' && name !== 'password2') {
    return armErr(ctx, 400, 'InvalidParameter', "The parameter 'name' must be 'password1' or 'password2'.");
  }
  if (expiry !== undefined && (typeof expiry !== 'string' || Number.isNaN(Date.parse(expiry)))) {
    return armErr(ctx, 400, 'InvalidParameter', `The expiry '${String(expiry)}' is not a valid date-time.`);
  }
  const token = ctx.state.resources[lc(tokenId)];
  if (!token || lc(String(token.type)) !== lc(TOKEN_TYPE) || !lc(tokenId).startsWith(`${lc(String(r.registry.id))}/tokens/`)) {
    const tokenName = tokenId.split('/').pop() ?? tokenId;
    return resourceNotFound(ctx, `${REGISTRY_TYPE}/${r.registry.name}/tokens`, tokenName, r.resourceGroup);
  }
  const names: Array<'password1' | 'password2'> = name ? [name] : ['password1', 'password2'];
  const v = encodeURIComponent(apiVersionOf(req));
  // Registries_GenerateCredentials: 200 (the result) or 202 (Location, Retry-After), final-state-via
  // location (specs/containerregistry/2025-11-01/containerregistry.json; its RegistryGenerateCredentials.json
  // example's 202 has a Location .../operationStatuses/registries-...). Default: 202 with both headers.
  return startLro(req, ctx, {
    resourceId: String(r.registry.id),
    kind: 'action',
    defaultShape: 'both',
    urls: (id) => ({
      asyncUrl: `${ctx.baseUrl}${r.registry.id}/operationStatuses/registries-${id}?api-version=${v}`,
      locationUrl: `${ctx.baseUrl}/subscriptions/${r.subscriptionId}/providers/Microsoft.ContainerRegistry/locations/${locationCode(r.registry)}/operationResults/registries-${id}?api-version=${v}`,
    }),
    apply: () => {
      const created = ctx.now();
      const creationTime = created.toISOString();
      const secrets = (ctx.state.registrySecrets.tokenPasswords[lc(tokenId)] ??= {});
      token.properties ??= {};
      token.properties.credentials ??= { certificates: [], passwords: [] };
      const listed: Record<string, any>[] = token.properties.credentials.passwords ?? [];
      const passwords = names.map((n) => {
        const value = newSecret();
        // created: when the data plane starts accepting it (knobs.acrPasswordDelayMs, acr.ts)
        secrets[n] = { value, created: creationTime, ...(expiry ? { expiry: String(expiry) } : {}) };
        const entry: Record<string, unknown> = { creationTime, name: n };
        if (expiry) entry.expiry = new Date(String(expiry)).toISOString();
        const at = listed.findIndex((p) => p.name === n);
        if (at >= 0) listed[at] = entry;
        else listed.push(entry);
        return { ...entry, value };
      });
      listed.sort((a, b) => String(a.name).localeCompare(String(b.name)));
      token.properties.credentials.passwords = listed;
      return { status: 200, body: { username: token.name, passwords } };
    },
  });
}

const locationCode = (resource: Record<string, any>): string =>
  String(resource.location ?? 'eastus')
    .replace(/\s+/g, '')
    .toUpperCase();

// ---------------------------------------------------------------- scope maps

/** What a PUT or PATCH of a scope map or token passes first: PATCH needs the child, the name its rule, the body an object. */
function childWrite(
  req: EmuRequest,
  ctx: EmuContext,
  r: RegistryCtx,
  collection: keyof typeof CHILD_NAMES,
  name: string,
  existing: Record<string, any> | undefined,
): Gate<Record<string, any>> {
  if (req.method === 'PATCH' && !existing) {
    return { ok: false, res: resourceNotFound(ctx, `${REGISTRY_TYPE}/${r.registry.name}/${collection}`, name, r.resourceGroup) };
  }
  const { what, rule, characters } = CHILD_NAMES[collection];
  if (!rule.test(name)) {
    const message = `The ${what} name '${name}' is invalid. It must be 5-50 characters long and contain only ${characters}.`;
    return { ok: false, res: armErr(ctx, 400, 'InvalidParameter', message) };
  }
  const body = bodyObject(req, ctx);
  if (!body.ok) return body;
  return { ok: true, value: (body.value.properties ?? {}) as Record<string, any> };
}

function childCollection(state: EmulatorState, registry: Record<string, any>, type: string): Record<string, any>[] {
  const prefix = `${lc(String(registry.id))}/`;
  return Object.entries(state.resources)
    .filter(([id, res]) => id.startsWith(prefix) && lc(String(res.type ?? '')) === lc(type))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, res]) => res);
}

function asyncUrlFor(ctx: EmuContext, req: EmuRequest, resourceId: string, prefix: string, opId: string): string {
  return `${ctx.baseUrl}${resourceId}/operationStatuses/${prefix}-${opId}?api-version=${encodeURIComponent(apiVersionOf(req))}`;
}

/** A Location URL for a PUT of a scope map or token (no spec names one: ACR's PUTs answer with Azure-AsyncOperation only). */
function resultUrlFor(ctx: EmuContext, req: EmuRequest, r: RegistryCtx, prefix: string, opId: string): string {
  return `${ctx.baseUrl}${r.registry.id}/operationResults/${prefix}-${opId}?api-version=${encodeURIComponent(apiVersionOf(req))}`;
}

/** A scope map's or token's DELETE: 200/204 (none to delete) or 202 with Location (Tokens_Delete, ScopeMaps_Delete; final-state-via location). */
function deleteChild(req: EmuRequest, ctx: EmuContext, r: RegistryCtx, id: string, prefix: string, onDelete: () => void): EmuResponse {
  if (!ctx.state.resources[lc(id)]) return empty(204);
  const v = encodeURIComponent(apiVersionOf(req));
  return startLro(req, ctx, {
    resourceId: id,
    kind: 'delete',
    defaultShape: 'location',
    urls: (opId) => ({
      asyncUrl: asyncUrlFor(ctx, req, id, prefix, opId),
      locationUrl: `${ctx.baseUrl}/subscriptions/${r.subscriptionId}/providers/Microsoft.ContainerRegistry/locations/${locationCode(r.registry)}/operationResults/${prefix}-${opId}?api-version=${v}`,
    }),
    apply: () => {
      onDelete();
      return { status: 200 };
    },
  });
}

function scopeMaps(req: EmuRequest, ctx: EmuContext, r: RegistryCtx, name: string | undefined): EmuResponse {
  const registry = r.registry;
  if (name === undefined) {
    if (req.method !== 'GET') return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on scope maps.`);
    return json(200, page(req, ctx, [...systemScopeMaps(registry), ...childCollection(ctx.state, registry, SCOPE_MAP_TYPE)]));
  }
  const id = `${registry.id}/scopeMaps/${name}`;
  const existing = ctx.state.resources[lc(id)];
  const system = name.startsWith('_') ? systemScopeMaps(registry).find((m) => lc(m.name) === lc(name)) : undefined;
  switch (req.method) {
    case 'GET': {
      const found = existing ?? system;
      if (!found) return resourceNotFound(ctx, `${REGISTRY_TYPE}/${registry.name}/scopeMaps`, name, r.resourceGroup);
      return json(200, found);
    }
    case 'PUT':
    case 'PATCH': {
      if (system) return armErr(ctx, 400, 'BadRequest', `The system defined scope map '${name}' cannot be modified.`);
      const write = childWrite(req, ctx, r, 'scopeMaps', name, existing);
      if (!write.ok) return write.res;
      const props = write.value;
      const actions = props.actions;
      if (req.method === 'PUT' || actions !== undefined) {
        if (!Array.isArray(actions) || actions.length === 0 || actions.some((a) => typeof a !== 'string')) {
          return armErr(ctx, 400, 'InvalidParameter', 'The scope map must have at least one action.');
        }
        const bad = (actions as string[]).find((a) => !ACTION.test(a));
        if (bad)
          return armErr(
            ctx,
            400,
            'InvalidParameter',
            `The scope map action '${bad}' is invalid. Actions look like repositories/{repository}/content/read.`,
          );
      }
      const now = ctx.now().toISOString();
      const scopeMap: Record<string, any> = existing ?? {
        id,
        name,
        type: SCOPE_MAP_TYPE,
        properties: { type: 'UserDefined', creationDate: now, provisioningState: 'Succeeded', actions: [] },
      };
      scopeMap.systemData = systemData(r.claims, ctx.now(), existing?.systemData);
      if (actions !== undefined) scopeMap.properties.actions = [...(actions as string[])];
      if (typeof props.description === 'string') scopeMap.properties.description = props.description;
      else if (req.method === 'PUT') delete scopeMap.properties.description;
      ctx.state.resources[lc(id)] = scopeMap;
      // ScopeMaps_Create/Update: 200 or 201 (Azure-AsyncOperation, Retry-After), final-state-via
      // azure-async-operation. The emulator's default: a PUT of an existing map answers 200 at once,
      // any other write 201 with Azure-AsyncOperation; state.lroShapes selects another shape
      const shown = structuredClone(scopeMap);
      if (existing) shown.properties.provisioningState = 'Updating';
      return startLro(req, ctx, {
        resourceId: id,
        kind: 'put',
        defaultShape: existing && req.method === 'PUT' ? 'sync' : 'async-operation',
        urls: (opId) => ({ asyncUrl: asyncUrlFor(ctx, req, id, 'scopemaps', opId), locationUrl: resultUrlFor(ctx, req, r, 'scopemaps', opId) }),
        apply: () => ({ status: 200, body: scopeMap }),
        accepted: { status: 201, body: shown },
        created: !existing,
      });
    }
    case 'DELETE': {
      if (system) return armErr(ctx, 400, 'BadRequest', `The system defined scope map '${name}' cannot be deleted.`);
      const inUse = childCollection(ctx.state, registry, TOKEN_TYPE).find((t) => lc(String(t.properties?.scopeMapId ?? '')) === lc(id));
      if (inUse) {
        return armErr(ctx, 400, 'BadRequest', `The scope map '${name}' cannot be deleted because it is associated with token '${inUse.name}'.`);
      }
      return deleteChild(req, ctx, r, id, 'scopemap', () => {
        delete ctx.state.resources[lc(id)];
      });
    }
    default:
      return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on a scope map.`);
  }
}

// ---------------------------------------------------------------- tokens

/** Keep only the password entries (and secrets) named in a PUT/PATCH body's credentials.passwords. */
function applyPasswordList(state: EmulatorState, token: Record<string, any>, requested: unknown): void {
  if (!Array.isArray(requested)) return;
  const keep = new Set(requested.map((p) => (p && typeof p === 'object' ? String((p as Record<string, unknown>).name ?? '') : '')));
  const listed: Record<string, any>[] = token.properties.credentials.passwords ?? [];
  token.properties.credentials.passwords = listed.filter((p) => keep.has(String(p.name)));
  const secrets = state.registrySecrets.tokenPasswords[lc(String(token.id))];
  if (secrets) {
    if (!keep.has('password1')) delete secrets.password1;
    if (!keep.has('password2')) delete secrets.password2;
  }
}

function tokens(req: EmuRequest, ctx: EmuContext, r: RegistryCtx, name: string | undefined): EmuResponse {
  const registry = r.registry;
  if (name === undefined) {
    if (req.method !== 'GET') return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on tokens.`);
    return json(200, page(req, ctx, childCollection(ctx.state, registry, TOKEN_TYPE)));
  }
  const id = `${registry.id}/tokens/${name}`;
  const existing = ctx.state.resources[lc(id)];
  switch (req.method) {
    case 'GET':
      if (!existing) return resourceNotFound(ctx, `${REGISTRY_TYPE}/${registry.name}/tokens`, name, r.resourceGroup);
      return json(200, existing);
    case 'PUT':
    case 'PATCH': {
      const write = childWrite(req, ctx, r, 'tokens', name, existing);
      if (!write.ok) return write.res;
      const props = write.value;
      const scopeMapId = props.scopeMapId;
      if (req.method === 'PUT' && (typeof scopeMapId !== 'string' || !scopeMapId)) {
        return armErr(ctx, 400, 'InvalidParameter', 'The token must reference a scope map (properties.scopeMapId).');
      }
      if (scopeMapId !== undefined) {
        const map = typeof scopeMapId === 'string' ? findScopeMap(ctx.state, scopeMapId) : undefined;
        if (!map || !lc(String(scopeMapId)).startsWith(`${lc(String(registry.id))}/scopemaps/`)) {
          return armErr(ctx, 404, 'ResourceNotFound', `The scope map '${String(scopeMapId)}' was not found in registry '${registry.name}'.`);
        }
      }
      if (props.status !== undefined && props.status !== 'enabled' && props.status !== 'disabled') {
        return armErr(ctx, 400, 'InvalidParameter', `The token status '${String(props.status)}' is invalid. It must be 'enabled' or 'disabled'.`);
      }
      const now = ctx.now().toISOString();
      const token: Record<string, any> = existing ?? {
        id,
        name,
        type: TOKEN_TYPE,
        properties: {
          creationDate: now,
          provisioningState: 'Succeeded',
          scopeMapId,
          credentials: { certificates: [], passwords: [] },
          status: 'enabled',
        },
      };
      token.systemData = systemData(r.claims, ctx.now(), existing?.systemData);
      if (typeof scopeMapId === 'string') token.properties.scopeMapId = scopeMapId;
      if (props.status !== undefined) token.properties.status = props.status;
      else if (req.method === 'PUT') token.properties.status = 'enabled';
      token.properties.credentials ??= { certificates: [], passwords: [] };
      if (existing) applyPasswordList(ctx.state, token, props.credentials?.passwords);
      ctx.state.resources[lc(id)] = token;
      // Tokens_Create/Update: 200 or 201 (Azure-AsyncOperation, Retry-After), final-state-via azure-async-operation
      const shown = structuredClone(token);
      shown.properties.provisioningState = existing ? 'Updating' : 'Creating';
      return startLro(req, ctx, {
        resourceId: id,
        kind: 'put',
        defaultShape: 'async-operation',
        urls: (opId) => ({ asyncUrl: asyncUrlFor(ctx, req, id, 'token', opId), locationUrl: resultUrlFor(ctx, req, r, 'token', opId) }),
        apply: () => ({ status: 200, body: token }),
        accepted: { status: existing && req.method === 'PUT' ? 200 : 201, body: shown },
        created: !existing,
      });
    }
    case 'DELETE':
      return deleteChild(req, ctx, r, id, 'token', () => {
        delete ctx.state.resources[lc(id)];
        delete ctx.state.registrySecrets.tokenPasswords[lc(id)];
      });
    default:
      return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on a token.`);
  }
}

// ---------------------------------------------------------------- routes

/** Operation ids in ACR URLs carry a prefix ('token-', 'registries-'): the GUID is what follows it. */
const opIdOf = (segment: string): string => segment.replace(/^[a-z]+-(?=[0-9a-f]{8}-)/i, '');

/** The operation an ACR status URL names, when it acts on a resource at or below `resourcePrefix`; else ARM's 404. */
function operationUnder(ctx: EmuContext, segment: string, resourcePrefix: string): Gate<ArmOperation> {
  const op = findOperation(ctx.state, opIdOf(segment));
  if (!op || !lc(op.resourceId).startsWith(lc(resourcePrefix))) {
    return { ok: false, res: armErr(ctx, 404, 'NotFound', `Operation '${segment}' was not found.`) };
  }
  return { ok: true, value: op };
}

/** What an Azure-AsyncOperation URL under a registry answers (GET only). */
function pollUnder(req: EmuRequest, ctx: EmuContext, segment: string, resourcePrefix: string): EmuResponse {
  if (req.method !== 'GET') return armErr(ctx, 405, 'MethodNotAllowed', `${req.method} is not supported on operation status.`);
  const op = operationUnder(ctx, segment, resourcePrefix);
  return op.ok ? pollAsyncOperation(req, ctx, op.value) : op.res;
}

const PROVIDER = `${SUBSCRIPTION}/providers/Microsoft.ContainerRegistry`;
const REGISTRIES = `${RESOURCE_GROUP}/providers/Microsoft.ContainerRegistry/registries`;
const REGISTRY = `${REGISTRIES}/:registry`;

/** The gate of a registry's routes: the resource group's, then the registry itself (404 ResourceNotFound). */
const registryGate: RouteGate<RegistryCtx> = (req, ctx, p) => {
  const gate = resourceGroupGate(req, ctx, p);
  if (!gate.ok) return gate;
  const { subscriptionId, claims } = gate.value;
  const registryId = `/subscriptions/${subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${p.registry}`;
  const registry = ctx.state.resources[lc(registryId)];
  if (!registry) return { ok: false, res: resourceNotFound(ctx, REGISTRY_TYPE, p.registry, p.resourceGroup) };
  return { ok: true, value: { claims, subscriptionId, resourceGroup: p.resourceGroup, registry } };
};

export const acrArmRoutes: Route[] = [
  gated(`${PROVIDER}/registries`, subscriptionGate, { GET: listOf(REGISTRY_TYPE) }),
  gated(`${PROVIDER}/locations/:location/operationResults/:operationId`, operationGate(opIdOf), {
    GET: (req, ctx, _p, op) => pollLocation(req, ctx, op),
  }),
  // the collection, then (for any other method) ARM's answer for routes not served, behind the resource group gate
  gated(REGISTRIES, resourceGroupGate, { GET: listOf(REGISTRY_TYPE), ANY: pass }),
  gated(REGISTRY, registryGate, {
    GET: (_req, _ctx, _p, r) => json(200, r.registry),
    ANY: (req, ctx) => armErr(ctx, 405, 'MethodNotAllowed', `The emulator does not implement ${req.method} on registries.`),
  }),
  gated(`${REGISTRY}/listCredentials`, registryGate, { POST: (_req, ctx, _p, r) => listCredentials(ctx, r) }),
  gated(`${REGISTRY}/regenerateCredential`, registryGate, { POST: (req, ctx, _p, r) => regenerateCredential(req, ctx, r) }),
  gated(`${REGISTRY}/generateCredentials`, registryGate, { POST: (req, ctx, _p, r) => generateCredentials(req, ctx, r) }),
  gated(`${REGISTRY}/scopeMaps{/:name}?`, registryGate, { ANY: (req, ctx, p, r) => scopeMaps(req, ctx, r, p.name) }),
  gated(`${REGISTRY}/tokens{/:name}?`, registryGate, { ANY: (req, ctx, p, r) => tokens(req, ctx, r, p.name) }),
  gated(`${REGISTRY}/operationStatuses/:operationId`, registryGate, {
    ANY: (req, ctx, p, r) => pollUnder(req, ctx, p.operationId, String(r.registry.id)),
  }),
  gated(`${REGISTRY}/operationResults/:operationId`, registryGate, {
    ANY: (req, ctx, p, r) => {
      const op = operationUnder(ctx, p.operationId, String(r.registry.id));
      return op.ok ? pollLocation(req, ctx, op.value) : op.res;
    },
  }),
  gated(`${REGISTRY}/:child(scopeMaps|tokens)/:name/operationStatuses/:operationId`, registryGate, {
    ANY: (req, ctx, p, r) => pollUnder(req, ctx, p.operationId, `${r.registry.id}/${p.child}/${p.name}`),
  }),
  // any other route under a registry: the registry gate, then ARM's answer for routes not served
  gated(`${REGISTRY}/*`, registryGate, { ANY: pass }),
];
