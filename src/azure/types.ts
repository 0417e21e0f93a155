// The narrow Azure interfaces the scenarios use, and the facts they return. No SDK import and no
// import of an implementation: the implementations beside (graph.ts, aks.ts, registry-lookup.ts,
// rbac.ts, acr-credentials.ts) import these, the scenarios import only these, and tests implement
// them with in-memory fakes. Shared file: add members with small, targeted edits.
import type { Cloud, ClusterRef, RegistryRef } from '../settings.ts';

/** The @azure/core-auth TokenCredential shape, restated so this file imports no SDK. */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: { tenantId?: string; abortSignal?: AbortSignal },
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** A signed-in Azure session: one credential, one token cache per audience and tenant. */
export interface AzureSession {
  cloud: Cloud;
  /** the login's tenant, when known */
  tenantId?: string;
  /** the default subscription (input, creds, environment or CLI), when known */
  subscriptionId?: string;
  credential: TokenCredentialLike;
  /** an access token for `scope` (e.g. `${cloud.graph}/.default`) in `tenantId` (default: the login's) */
  token(scope: string, tenantId?: string): Promise<string>;
  /** trace one API call (method, path, status, duration; never bodies or headers) under debug */
  trace(line: string): void;
}

/** Everything Azure the scenarios may ask for; each member is created on first use (azure/index.ts). */
export interface AzureClients {
  session: AzureSession;
  /** Microsoft Graph (service principals, applications, addPassword); graph.ts */
  readonly graph: GraphClient;
  /** AKS managed clusters (get, resetServicePrincipalProfile); aks.ts */
  readonly aks: AksClient;
  /** finds the registry the `registry` input names, across subscriptions; registry-lookup.ts */
  readonly registries: RegistryResolver;
  /** role definitions and assignments, with tokens from `tenantId` (default: the login's); rbac.ts */
  rbac(tenantId?: string): RbacClient;
  /** ACR credentials in ARM: scope maps, tokens, token passwords, admin user, with tokens from `tenantId`; acr-credentials.ts */
  acr(tenantId?: string): AcrClient;
}

// ------------------------------------------------------------------------------ Microsoft Graph

export interface GraphServicePrincipal {
  /** object id in the tenant asked */
  id: string;
  appId: string;
  displayName?: string;
  /** the app registration's home tenant */
  appOwnerOrganizationId?: string;
  servicePrincipalType?: string;
}

export interface GraphPasswordCredential {
  keyId: string;
  displayName?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
  hint?: string | null;
}

export interface GraphApplication {
  /** object id in the home tenant */
  id: string;
  appId: string;
  displayName?: string;
  passwordCredentials: GraphPasswordCredential[];
}

export interface NewClientSecret {
  keyId: string;
  /** the secret value: masked by the client the moment it is parsed */
  secretText: string;
  startDateTime?: string;
  endDateTime: string;
  /** the tenant the secret was added in (the app's home tenant) */
  tenantId?: string;
}

export interface GraphClient {
  /** the service principal of `appId` in `tenantId` (default: the login's), or undefined when it is not there */
  servicePrincipal(appId: string, tenantId?: string): Promise<GraphServicePrincipal | undefined>;
  /** POST /servicePrincipals { appId } in `tenantId`; a 403 means the caller may not (admin consent needed) */
  provisionServicePrincipal(appId: string, tenantId?: string): Promise<GraphServicePrincipal>;
  /** the app registration (home tenant only), or undefined when it is not in `tenantId` */
  application(appId: string, tenantId?: string): Promise<GraphApplication | undefined>;
  /** POST /applications(appId='...')/addPassword in the app's home tenant */
  addPassword(appId: string, credential: { displayName: string; endDateTime: string }, tenantId?: string): Promise<NewClientSecret>;
}

// ---------------------------------------------------------------------------------------- AKS

export interface ManagedCluster {
  id: string;
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  /** how the user named it (resourceGroup/name or the resource id): the target in results */
  label: string;
  location?: string;
  /** identityProfile.kubeletidentity.objectId: the principal that pulls images on managed-identity clusters */
  kubeletObjectId?: string;
  kubeletClientId?: string;
  /** servicePrincipalProfile.clientId; undefined when it is absent or 'msi' */
  servicePrincipalClientId?: string;
  /** the cluster's control plane uses a managed identity (identity.type set, or clientId 'msi') */
  usesManagedIdentity: boolean;
  /** identity.tenantId, when the cluster has a managed identity */
  tenantId?: string;
  /** agentPoolProfiles[].vnetSubnetID (BYO virtual network), when set */
  vnetSubnetIds?: string[];
}

export interface AksClient {
  /** the cluster, or an ApiError (404 names the cluster, its group and subscription) */
  get(ref: ClusterRef): Promise<ManagedCluster>;
  /** POST resetServicePrincipalProfile and wait for it (AKS refuses it on managed-identity clusters) */
  resetServicePrincipalProfile(cluster: ManagedCluster, clientId: string, secret: string): Promise<void>;
}

// ----------------------------------------------------------------------------- the registry

export interface Registry {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** e.g. contosoacr.azurecr.io (as ARM reports it) */
  loginServer: string;
  /** LegacyRegistryPermissions (RBAC only) or AbacRepositoryPermissions */
  roleAssignmentMode?: string;
  adminUserEnabled?: boolean;
  sku?: string;
  location?: string;
  /** the network settings verify reads (2025-11-01 RegistryProperties); absent when ARM did not say */
  network?: RegistryNetwork;
}

/** RegistryProperties' network fields (publicNetworkAccess default Enabled; networkRuleSet.defaultAction default Allow). */
export interface RegistryNetwork {
  publicNetworkAccess?: string;
  defaultAction?: string;
  ipRules: { value: string; action?: string }[];
  privateEndpoints: { id: string; endpointId?: string; status?: string }[];
  anonymousPullEnabled?: boolean;
  networkRuleBypassOptions?: string;
}

export interface RegistryResolver {
  /** the registry `ref` names, asked in `ref.tenantId` (the registry's tenant, cross-tenant; default: the login's) */
  resolve(ref: RegistryRef): Promise<Registry>;
}

// ------------------------------------------------------------------------- role assignments

export interface RoleAssignment {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  /** lower-case GUID of the role definition */
  roleGuid: string;
  principalId: string;
  principalType?: string;
  condition?: string | null;
  createdOn?: string;
}

export interface EnsureRequest {
  /** the resource the role is granted on (e.g. the registry's id) */
  scope: string;
  roleGuid: string;
  principalId: string;
  /** ABAC condition (version 2.0) */
  condition?: string;
  description?: string;
  /** the plan found this assignment (its deterministic name) with another condition: the PUT changes it */
  updates?: boolean;
}

export interface EnsureOutcome {
  /** the assignment's id (the existing one's when it was there under another name) */
  id: string;
  /** true when this call created it (or changed its condition) */
  changed: boolean;
  assignment?: RoleAssignment;
}

export interface RbacClient {
  /** a role definition GUID by role name, as seen from `scope` (custom roles); ApiError when none matches */
  roleIdByName(scope: string, name: string): Promise<string>;
  /** role assignments of `principalId` that apply at `scope` (at, above and below it) */
  listForPrincipal(scope: string, principalId: string): Promise<RoleAssignment[]>;
  /** PUT `roleGuid` for `principalId` on `scope` under the deterministic name; idempotent */
  ensure(req: EnsureRequest): Promise<EnsureOutcome>;
  /** delete by id; false when it was already gone */
  delete(id: string): Promise<boolean>;
}

// ------------------------------------------------------------------ ACR credentials (ARM side)

/** Where a registry lives (parsed from its ARM id). */
export interface RegistryLocation {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface ScopeMapInfo {
  id: string;
  name: string;
  description?: string;
  actions: string[];
}

export type PasswordSlot = 'password1' | 'password2';

export interface TokenPasswordInfo {
  name: PasswordSlot;
  /** ISO 8601 */
  creationTime?: string;
  /** ISO 8601 */
  expiry?: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  scopeMapId?: string;
  status?: string;
  passwords: TokenPasswordInfo[];
}

export interface GeneratedPassword {
  username: string;
  name: PasswordSlot;
  password: string;
  /** ISO 8601 */
  expiresOn?: string;
}

export interface AcrClient {
  getScopeMap(registry: RegistryLocation, name: string): Promise<ScopeMapInfo | undefined>;
  /** create or replace (PUT); waits for the long-running operation */
  putScopeMap(registry: RegistryLocation, name: string, body: { actions: string[]; description?: string }): Promise<ScopeMapInfo>;
  /** true when it existed */
  deleteScopeMap(registry: RegistryLocation, name: string): Promise<boolean>;
  getToken(registry: RegistryLocation, name: string): Promise<TokenInfo | undefined>;
  /** create (PUT) a token; its passwords are generated separately */
  createToken(registry: RegistryLocation, name: string, body: { scopeMapId: string; status: 'enabled' }): Promise<TokenInfo>;
  /** update (PATCH) scope map and status, keeping the token's passwords */
  updateToken(registry: RegistryLocation, name: string, body: { scopeMapId: string; status: 'enabled' }): Promise<TokenInfo>;
  /** true when it existed */
  deleteToken(registry: RegistryLocation, name: string): Promise<boolean>;
  /** POST generateCredentials for one password slot; the other slot keeps its value */
  generatePassword(registry: RegistryLocation, tokenId: string, slot: PasswordSlot, expiry: Date): Promise<GeneratedPassword>;
  /** POST listCredentials (the admin user); ApiError when the admin user is disabled */
  listAdminCredentials(registry: RegistryLocation): Promise<{ username: string; password: string }>;
}
