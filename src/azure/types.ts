// Narrow Azure interfaces the scenarios use. No SDK import here: implementations live beside
// (aks.ts, acr.ts, rbac.ts, graph.ts, acr-data.ts) and are loaded only on the paths that need them.
// Shared file: add members with small, targeted edits.
import type { Cloud } from '../settings.ts';

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

/** Everything Azure the scenarios may ask for; each member is created on first use. */
export interface AzureClients {
  session: AzureSession;
  /** Microsoft Graph (service principals, applications, addPassword); see graph.ts */
  readonly graph: import('./graph.ts').GraphClient;
  /** AKS managed clusters (get, resetServicePrincipalProfile); see aks.ts */
  readonly aks: import('./aks.ts').AksClient;
  /** finds the registry the `registry` input names, across subscriptions; see registry.ts */
  readonly registries: import('./registry.ts').RegistryResolver;
  /** role definitions and assignments, with tokens from `tenantId` (default: the login's); see rbac.ts */
  rbac(tenantId?: string): import('./rbac.ts').RbacClient;
  /** ACR management: scope maps, tokens, token passwords, admin credentials, with tokens from `tenantId`; see acr.ts */
  acr(tenantId?: string): import('./acr.ts').AcrClient;
}
