// In-memory fakes of the narrow client interfaces (src/azure/types.ts, src/kube/types.ts, the
// Runner), handed to the scenarios through the Deps seam: no network, no emulator, no module mock.
// Each fake keeps a small world and answers the way the real service does for the rules the
// scenarios rely on (deterministic role-assignment names, 409 RoleAssignmentExists for the same
// role under another name, conditional writes on resourceVersion, 404 as "not there"). Every
// write request is logged as a Write, with `effective: false` when it changed nothing (a PUT of
// an assignment exactly as it is).
import type {
  AcrClient,
  AksClient,
  AzureClients,
  GraphApplication,
  GraphClient,
  GraphServicePrincipal,
  ManagedCluster,
  RbacClient,
  Registry,
  RegistryResolver,
  RoleAssignment,
  ScopeMapInfo,
  TokenInfo,
} from '../../src/azure/types.ts';
import type { KubeClient, LiveSecret, LiveServiceAccount } from '../../src/kube/types.ts';
import type { Deps } from '../../src/deps.ts';
import type { Runner } from '../../src/runner.ts';
import type { Write } from '../../src/result.ts';
import type { ClusterRef, RegistryRef } from '../../src/settings.ts';
import { ApiError } from '../../src/errors.ts';
import { assignmentName, roleGuidOf, sameCondition } from '../../src/roles.ts';
import { fieldOwners, type ManagedFieldsEntry } from '../../src/kube/field-owners.ts';
import { MANAGER } from '../../src/kube/render.ts';

export const SUB = 'aaaaaaaa-0000-4000-8000-000000000001';
export const LOGIN_TENANT = '11111111-1111-4111-8111-111111111111';
export const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';
export const RG_ACR = `/subscriptions/${SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries`;

export interface LoggedWrite {
  write: Write;
  effective: boolean;
}

export interface AzureWorld {
  registries: Registry[];
  clusters: ManagedCluster[];
  /** tenant ('' = the login's) -> service principals there */
  principals: Record<string, GraphServicePrincipal[]>;
  applications: GraphApplication[];
  assignments: RoleAssignment[];
  /** tenants where the caller may provision service principals ('' = the login's) */
  canProvisionIn: string[];
  /** registry id -> token / scope map name -> object */
  tokens: Record<string, Record<string, TokenInfo>>;
  scopeMaps: Record<string, Record<string, ScopeMapInfo>>;
  admin: Record<string, { username: string; password: string }>;
  /** custom role names -> GUID */
  customRoles: Record<string, string>;
  log: LoggedWrite[];
}

export function registry(name: string, over: Partial<Registry> = {}): Registry {
  return {
    id: `${RG_ACR}/${name}`,
    name,
    subscriptionId: SUB,
    resourceGroup: 'rg-acr',
    loginServer: `${name}.azurecr.io`,
    roleAssignmentMode: 'LegacyRegistryPermissions',
    adminUserEnabled: true,
    ...over,
  };
}

export function cluster(name: string, over: Partial<ManagedCluster> = {}): ManagedCluster {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    resourceGroup: 'rg-aks',
    subscriptionId: SUB,
    label: `rg-aks/${name}`,
    usesManagedIdentity: true,
    ...over,
  };
}

export function assignment(scope: string, roleGuid: string, principalId: string, over: Partial<RoleAssignment> = {}): RoleAssignment {
  const name = over.name ?? assignmentName(scope, roleGuid, principalId);
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
    roleGuid,
    principalId,
    principalType: 'ServicePrincipal',
    condition: null,
    ...over,
  };
}

export function azureWorld(over: Partial<AzureWorld> = {}): AzureWorld {
  return {
    registries: [],
    clusters: [],
    principals: {},
    applications: [],
    assignments: [],
    canProvisionIn: [''],
    tokens: {},
    scopeMaps: {},
    admin: {},
    customRoles: {},
    log: [],
    ...over,
  };
}

const notFound = (service: string, operation: string) => new ApiError({ service, operation, status: 404, code: 'NotFound', message: 'not found.' });
const lc = (s: string | undefined) => (s ?? '').toLowerCase();
let ids = 0;
const newId = (prefix: string) => `${prefix}${String(++ids).padStart(4, '0')}-0000-4000-8000-000000000000`;

export function fakeAzure(world: AzureWorld, opts: { loginTenant?: string } = {}): AzureClients {
  const loginTenant = opts.loginTenant ?? LOGIN_TENANT;
  const tenantKey = (t?: string) => (!t || t === loginTenant ? '' : t);
  const log = (write: Write, effective = true) => world.log.push({ write, effective });

  const graph: GraphClient = {
    async servicePrincipal(appId, tenantId) {
      return world.principals[tenantKey(tenantId)]?.find((p) => lc(p.appId) === lc(appId));
    },
    async provisionServicePrincipal(appId, tenantId) {
      const key = tenantKey(tenantId);
      if (!world.canProvisionIn.includes(key))
        throw new ApiError({
          service: 'Microsoft Graph',
          operation: 'create service principal',
          status: 403,
          code: 'Authorization_RequestDenied',
          message: 'denied.',
        });
      const home = world.applications.find((a) => lc(a.appId) === lc(appId)) ? loginTenant : undefined;
      const sp: GraphServicePrincipal = { id: newId('5e'), appId, appOwnerOrganizationId: home };
      (world.principals[key] ??= []).push(sp);
      log({ kind: 'provision-principal', appId, ...(tenantId ? { tenantId } : {}) });
      return sp;
    },
    async application(appId, tenantId) {
      if (tenantKey(tenantId) !== '') return undefined;
      return world.applications.find((a) => lc(a.appId) === lc(appId));
    },
    async addPassword(appId, credential, tenantId) {
      const app = world.applications.find((a) => lc(a.appId) === lc(appId));
      if (!app || tenantKey(tenantId) !== '') throw notFound('Microsoft Graph', 'add client secret');
      const keyId = newId('ce');
      app.passwordCredentials.push({
        keyId,
        displayName: credential.displayName,
        endDateTime: credential.endDateTime,
        startDateTime: new Date().toISOString(),
      });
      log({ kind: 'add-client-secret', appId });
      return { keyId, secretText: `secret-${keyId}`, endDateTime: credential.endDateTime, tenantId };
    },
  };

  const aks: AksClient = {
    async get(ref: ClusterRef) {
      const c = world.clusters.find((x) => x.name === ref.name && x.resourceGroup === ref.resourceGroup);
      if (!c) throw notFound('AKS', `get cluster ${ref.resourceGroup}/${ref.name}`);
      return { ...c, label: ref.label };
    },
    async resetServicePrincipalProfile(c, clientId) {
      const live = world.clusters.find((x) => x.id === c.id)!;
      live.servicePrincipalClientId = clientId;
      log({ kind: 'reset-credentials', clusterId: c.id, appId: clientId });
    },
  };

  const registries: RegistryResolver = {
    async resolve(ref: RegistryRef) {
      const r = world.registries.find((x) => (ref.kind === 'loginServer' ? lc(x.loginServer) === lc(ref.loginServer) : x.name === ref.name));
      if (!r) throw new ApiError({ service: 'ACR', operation: 'find registry', code: 'NotFound', message: `no registry ${ref.name}.` });
      return r;
    },
  };

  const rbac: RbacClient = {
    async roleIdByName(_scope, name) {
      const guid = world.customRoles[name];
      if (!guid)
        throw new ApiError({ service: 'Azure RBAC', operation: `find role '${name}'`, code: 'RoleDefinitionDoesNotExist', message: 'none.' });
      return guid;
    },
    async listForPrincipal(scope, principalId) {
      return world.assignments.filter(
        (a) => lc(a.principalId) === lc(principalId) && (lc(scope).startsWith(lc(a.scope)) || lc(a.scope).startsWith(lc(scope))),
      );
    },
    async ensure(req) {
      const name = assignmentName(req.scope, req.roleGuid, req.principalId);
      const write: Write = { kind: 'grant', scope: req.scope, roleGuid: req.roleGuid, principalId: req.principalId, condition: req.condition };
      const mine = world.assignments.find((a) => lc(a.name) === name && lc(a.scope) === lc(req.scope));
      if (mine) {
        const same = sameCondition(mine.condition, req.condition);
        mine.condition = req.condition ?? null;
        log(write, !same);
        return { id: mine.id, changed: !!req.updates, assignment: mine };
      }
      const dup = world.assignments.find(
        (a) => lc(a.scope) === lc(req.scope) && a.roleGuid === roleGuidOf(req.roleGuid) && lc(a.principalId) === lc(req.principalId),
      );
      if (dup) {
        log(write, false);
        return { id: dup.id, changed: false, assignment: dup };
      }
      const a = assignment(req.scope, req.roleGuid, req.principalId, { condition: req.condition ?? null });
      world.assignments.push(a);
      log(write);
      return { id: a.id, changed: true, assignment: a };
    },
    async delete(id) {
      const i = world.assignments.findIndex((a) => lc(a.id) === lc(id));
      log({ kind: 'revoke', id }, i >= 0);
      if (i < 0) return false;
      world.assignments.splice(i, 1);
      return true;
    },
  };

  const acr: AcrClient = {
    async getScopeMap(r, name) {
      const m = world.scopeMaps[r.id]?.[name];
      return m && structuredClone(m);
    },
    async putScopeMap(r, name, body) {
      const m: ScopeMapInfo = { id: `${r.id}/scopeMaps/${name}`, name, description: body.description, actions: [...body.actions] };
      (world.scopeMaps[r.id] ??= {})[name] = m;
      log({ kind: 'put-scope-map', registryId: r.id, name });
      return structuredClone(m);
    },
    async deleteScopeMap(r, name) {
      const had = !!world.scopeMaps[r.id]?.[name];
      if (had) delete world.scopeMaps[r.id][name];
      log({ kind: 'delete-scope-map', registryId: r.id, name }, had);
      return had;
    },
    async getToken(r, name) {
      const t = world.tokens[r.id]?.[name];
      return t && structuredClone(t);
    },
    async createToken(r, name, body) {
      const t: TokenInfo = { id: `${r.id}/tokens/${name}`, name, scopeMapId: body.scopeMapId, status: body.status, passwords: [] };
      (world.tokens[r.id] ??= {})[name] = t;
      log({ kind: 'create-token', registryId: r.id, name });
      return structuredClone(t);
    },
    async updateToken(r, name, body) {
      const t = world.tokens[r.id][name];
      t.scopeMapId = body.scopeMapId;
      t.status = body.status;
      log({ kind: 'update-token', registryId: r.id, name });
      return structuredClone(t);
    },
    async deleteToken(r, name) {
      const had = !!world.tokens[r.id]?.[name];
      if (had) delete world.tokens[r.id][name];
      log({ kind: 'delete-token', registryId: r.id, name }, had);
      return had;
    },
    async generatePassword(r, tokenId, slot, expiry) {
      const name = tokenId.split('/').pop()!;
      const t = world.tokens[r.id][name];
      const entry = { name: slot, creationTime: new Date().toISOString(), expiry: expiry.toISOString() };
      t.passwords = [...t.passwords.filter((p) => p.name !== slot), entry];
      log({ kind: 'generate-password', registryId: r.id, token: name, slot });
      return { username: name, name: slot, password: `pw-${name}-${slot}-${++ids}`, expiresOn: entry.expiry };
    },
    async listAdminCredentials(r) {
      const c = world.admin[r.id];
      if (!c)
        throw new ApiError({
          service: 'ACR',
          operation: 'list admin credentials',
          status: 400,
          code: 'UnAuthorizedForCredentialOperations',
          message: 'admin user is disabled.',
        });
      return { ...c };
    },
  };

  return {
    session: {
      cloud: {
        name: 'Test',
        resourceManager: 'https://arm.test',
        armAudience: 'https://arm.test/',
        authorityHost: 'https://login.test',
        graph: 'https://graph.test',
        acrSuffix: '.azurecr.io',
        acrAudience: 'https://containerregistry.azure.net',
        custom: true,
      },
      tenantId: loginTenant,
      subscriptionId: SUB,
      credential: { getToken: async () => ({ token: 'token', expiresOnTimestamp: Date.now() + 3600e3 }) },
      token: async () => 'token',
      trace: () => undefined,
    },
    graph,
    aks,
    registries,
    rbac: () => rbac,
    acr: () => acr,
  };
}

export interface KubeWorld {
  namespaces: Set<string>;
  /** `${namespace}/${name}` -> secret */
  secrets: Map<string, LiveSecret>;
  serviceAccounts: Map<string, LiveServiceAccount>;
  /** whether the caller may list namespaces */
  canList: boolean;
  log: LoggedWrite[];
}

export function kubeWorld(namespaces: string[] = [], over: Partial<KubeWorld> = {}): KubeWorld {
  const w: KubeWorld = { namespaces: new Set(namespaces), secrets: new Map(), serviceAccounts: new Map(), canList: true, log: [], ...over };
  for (const ns of namespaces) addServiceAccount(w, ns, 'default');
  return w;
}

let rv = 100;
export function addServiceAccount(w: KubeWorld, namespace: string, name: string, pullSecrets: string[] = []) {
  w.serviceAccounts.set(`${namespace}/${name}`, {
    metadata: { name, namespace, resourceVersion: String(++rv) },
    imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
  });
}

export function addSecret(w: KubeWorld, secret: Omit<LiveSecret, 'metadata'> & { metadata: Omit<LiveSecret['metadata'], 'resourceVersion'> }) {
  w.secrets.set(`${secret.metadata.namespace}/${secret.metadata.name}`, {
    ...secret,
    metadata: { ...secret.metadata, resourceVersion: String(++rv) },
  } as LiveSecret);
}

const conflict = (what: string) =>
  new ApiError({ service: 'Kubernetes', operation: what, status: 409, code: 'Conflict', message: 'the object has been modified.' });

// ------------------------------------------------------------------ managed fields, as far as the fakes need them

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => !!v && typeof v === 'object' && !Array.isArray(v);

/** The FieldsV1 paths of a Secret's fields the action's writes touch: data keys, labels, annotations, type. */
export function secretPaths(s: {
  type?: string;
  data?: Record<string, string>;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}): string[][] {
  return [
    ...(s.type ? [['f:type']] : []),
    ...Object.keys(s.data ?? {}).map((k) => ['f:data', `f:${k}`]),
    ...Object.keys(s.metadata.labels ?? {}).map((k) => ['f:metadata', 'f:labels', `f:${k}`]),
    ...Object.keys(s.metadata.annotations ?? {}).map((k) => ['f:metadata', 'f:annotations', `f:${k}`]),
  ];
}

/** A managedFields entry owning `paths`. */
export function managedEntry(manager: string, operation: 'Apply' | 'Update', paths: string[][]): ManagedFieldsEntry {
  const fieldsV1: Tree = {};
  for (const p of paths) {
    let node = fieldsV1;
    for (const pe of p) node = (node[pe] ??= {}) as Tree;
  }
  return { manager, operation, apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1 } as ManagedFieldsEntry;
}

function dropPath(tree: unknown, path: string[]): void {
  if (!isTree(tree)) return;
  if (path.length === 1) {
    delete tree[path[0]];
    return;
  }
  dropPath(tree[path[0]], path.slice(1));
  if (isTree(tree[path[0]]) && !Object.keys(tree[path[0]] as Tree).length) delete tree[path[0]];
}

/**
 * `manager`/`operation` owns `paths`, and takes the `changed` ones from every other entry (entries
 * left empty go), as the apiserver records an apply: an unchanged value is co-owned.
 */
function take(
  entries: ManagedFieldsEntry[],
  manager: string,
  operation: 'Apply' | 'Update',
  paths: string[][],
  changed: string[][],
): ManagedFieldsEntry[] {
  const out = entries.map((e) => structuredClone(e));
  const mine = out.find((e) => e.manager === manager && e.operation === operation);
  for (const e of out) if (e !== mine) for (const p of changed) dropPath(e.fieldsV1, p);
  const kept = out.filter((e) => e === mine || (isTree(e.fieldsV1) && Object.keys(e.fieldsV1).length));
  const merged = managedEntry(manager, operation, [...paths, ...(mine ? pathsOf(mine.fieldsV1) : [])]);
  return [...kept.filter((e) => e !== mine), merged];
}

function pathsOf(tree: unknown, prefix: string[] = []): string[][] {
  if (!isTree(tree)) return [];
  const keys = Object.keys(tree);
  if (!keys.length) return prefix.length ? [prefix] : [];
  return keys.flatMap((k) => pathsOf(tree[k], [...prefix, k]));
}

const fieldConflict = (what: string, manager: string, path: string[]) =>
  new ApiError({
    service: 'Kubernetes',
    operation: what,
    status: 409,
    code: 'FieldManagerConflict',
    message: `Apply failed with 1 conflict: conflict with "${manager}": ${path.map((p) => `.${p.slice(2)}`).join('')}`,
  });

const valueAt = (s: LiveSecret | SecretObjectLike, path: string[]): string | undefined => {
  if (path[0] === 'f:type') return s.type;
  if (path[0] === 'f:data') return s.data?.[path[1].slice(2)];
  const map = path[1] === 'f:labels' ? s.metadata.labels : s.metadata.annotations;
  return map?.[path[2].slice(2)];
};
type SecretObjectLike = Pick<LiveSecret, 'type' | 'data'> & { metadata: Pick<LiveSecret['metadata'], 'labels' | 'annotations'> };

export function fakeKube(w: KubeWorld): KubeClient {
  const log = (write: Write) => w.log.push({ write, effective: true });
  return {
    server: 'https://kube.test',
    async namespaceExists(name) {
      return w.namespaces.has(name);
    },
    async listNamespaces() {
      return w.canList ? [...w.namespaces] : undefined;
    },
    async createNamespace(name) {
      w.namespaces.add(name);
      addServiceAccount(w, name, 'default');
      log({ kind: 'create-namespace', namespace: name });
    },
    async getSecret(namespace, name) {
      const s = w.secrets.get(`${namespace}/${name}`);
      return s && structuredClone(s);
    },
    async createSecret(secret) {
      const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
      if (!w.namespaces.has(secret.metadata.namespace)) throw notFound('Kubernetes', `create secret ${key}`);
      if (w.secrets.has(key)) throw conflict(`create secret ${key}`);
      const managedFields = [managedEntry(MANAGER, 'Update', secretPaths(secret))];
      const live = {
        ...structuredClone(secret),
        metadata: { ...structuredClone(secret.metadata), resourceVersion: String(++rv), managedFields },
      } as LiveSecret;
      w.secrets.set(key, live);
      log({ kind: 'create-secret', namespace: secret.metadata.namespace, name: secret.metadata.name });
      return structuredClone(live);
    },
    async applySecret(secret, resourceVersion, force) {
      const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
      const live = w.secrets.get(key);
      if (!live || live.metadata.resourceVersion !== resourceVersion) throw conflict(`apply secret ${key}`);
      // server-side apply of a configuration: maps merged key by key, so only the fields it names
      // change; a changed field another manager owns (no managedFields: all of them) is a conflict
      // unless forced, and then changes hands
      const changed = secretPaths(secret).filter((p) => valueAt(live, p) !== valueAt(secret, p));
      const mf = live.metadata.managedFields ?? [];
      for (const p of changed) {
        const other = mf.length
          ? fieldOwners(mf, p).find((o) => !(o.manager === MANAGER && o.operation === 'Apply'))
          : { manager: 'before-first-apply' };
        if (other && !force) throw fieldConflict(`apply secret ${key}`, other.manager, p);
      }
      const next = {
        type: secret.type ?? live.type,
        data: { ...live.data, ...secret.data },
        metadata: {
          ...live.metadata,
          labels: { ...live.metadata.labels, ...secret.metadata.labels },
          annotations: { ...live.metadata.annotations, ...secret.metadata.annotations },
          resourceVersion: String(++rv),
          managedFields: take(mf, MANAGER, 'Apply', secretPaths(secret), changed),
        },
      } as LiveSecret;
      w.secrets.set(key, next);
      log({ kind: 'apply-secret', namespace: secret.metadata.namespace, name: secret.metadata.name });
      return structuredClone(next);
    },
    async deleteSecret(namespace, name, resourceVersion) {
      const key = `${namespace}/${name}`;
      const live = w.secrets.get(key);
      if (live && live.metadata.resourceVersion !== resourceVersion) throw conflict(`delete secret ${key}`);
      w.secrets.delete(key);
      log({ kind: 'delete-secret', namespace, name });
    },
    async getServiceAccount(namespace, name) {
      const sa = w.serviceAccounts.get(`${namespace}/${name}`);
      return sa && structuredClone(sa);
    },
    async setImagePullSecrets(namespace, name, imagePullSecrets, resourceVersion) {
      const sa = w.serviceAccounts.get(`${namespace}/${name}`);
      if (!sa || sa.metadata.resourceVersion !== resourceVersion) throw conflict(`patch serviceaccount ${namespace}/${name}`);
      sa.imagePullSecrets = imagePullSecrets.map((s) => ({ ...s }));
      sa.metadata.resourceVersion = String(++rv);
      log({ kind: 'set-image-pull-secrets', namespace, serviceAccount: name });
    },
  };
}

export interface FakeRunner extends Runner {
  lines: string[];
  outputs: Record<string, string>;
  failures: string[];
  masked: Set<string>;
}

export function fakeRunner(inputs: Record<string, string>): FakeRunner {
  const r: FakeRunner = {
    lines: [],
    outputs: {},
    failures: [],
    masked: new Set(),
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => void (r.outputs[name] = value),
    setOutputLines: (name, values) => void (r.outputs[name] = values.join('\n')),
    setOutputJson: (name, value) => void (r.outputs[name] = JSON.stringify(value)),
    setOutputExact: (name, value) => void (r.outputs[name] = value),
    setSecret: (value) => void (value && r.masked.add(value)),
    info: (m) => void r.lines.push(m),
    group: (m, details) => void r.lines.push(m, ...details),
    debug: () => undefined,
    isDebug: () => false,
    warning: (m) => void r.lines.push(`::warning::${m}`),
    notice: (m) => void r.lines.push(`::notice::${m}`),
    fail: (m) => void r.failures.push(m),
    summary: () => undefined,
    getIDToken: async () => 'id-token',
  };
  return r;
}

/** Deps over the fakes; `now` fixed so that expiry decisions are repeatable. */
export function fakeDeps(opts: { inputs: Record<string, string>; azure?: AzureWorld; kube?: KubeWorld; now?: Date }): Deps & { runner: FakeRunner } {
  const azure = opts.azure ? fakeAzure(opts.azure) : undefined;
  const kube = opts.kube ? fakeKube(opts.kube) : undefined;
  return {
    runner: fakeRunner(opts.inputs),
    env: {},
    now: () => opts.now ?? new Date('2025-06-01T00:00:00Z'),
    sleep: async () => undefined,
    azure: async () => {
      if (!azure) throw new Error('this case signs in to no Azure');
      return azure;
    },
    kube: async () => {
      if (!kube) throw new Error('this case reaches no cluster');
      return kube;
    },
  };
}

/** A kubeconfig input that passes the preflight check (the fake Kubernetes client ignores it). */
export const KUBECONFIG =
  'apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://kube.test"}}]\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\ncurrent-context: ctx\nusers: [{name: u, user: {token: fake-kube-token}}]\n';
