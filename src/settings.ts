// The typed settings the inputs turn into (src/inputs.ts). Pure types, no runtime code.

export type ClusterType = 'aks' | 'kubernetes';
export type AuthMethod = 'managed-identity' | 'service-principal' | 'pull-secret';
export type Operation = 'attach' | 'detach' | 'verify';
export type CredentialType = 'token' | 'service-principal' | 'admin' | 'exchange' | 'basic';

export interface Cloud {
  name: string;
  /** https://management.azure.com (no trailing slash) */
  resourceManager: string;
  /** scope audience for ARM tokens, e.g. https://management.core.windows.net/ */
  armAudience: string;
  /** https://login.microsoftonline.com (no trailing slash) */
  authorityHost: string;
  /** Graph endpoint and token audience, e.g. https://graph.microsoft.com (no trailing slash) */
  graph: string;
  /** ".azurecr.io" */
  acrSuffix: string;
  /** true for a custom cloud: MSAL must not try instance discovery against the public cloud */
  custom: boolean;
}

/** How the registry was named. */
export type RegistryRef =
  | { kind: 'name'; name: string; subscriptionId?: string; resourceGroup?: string }
  | { kind: 'loginServer'; name: string; loginServer: string; subscriptionId?: string; resourceGroup?: string }
  | { kind: 'resourceId'; name: string; resourceId: string; subscriptionId: string; resourceGroup: string };

export interface ClusterRef {
  subscriptionId?: string;
  resourceGroup: string;
  name: string;
  /** how the user wrote it, for messages and results */
  label: string;
}

export type AzureLogin =
  | { kind: 'oidc'; clientId: string; tenantId: string; audience: string }
  | { kind: 'secret'; clientId: string; tenantId: string; clientSecret: string }
  | { kind: 'default' }; // environment variables, then an Azure CLI session

export interface Duration {
  ms: number;
  text: string;
}

export interface Settings {
  registry: RegistryRef;
  clusterType: ClusterType;
  /** 'auto' only remains for AKS, where the cluster decides */
  authMethod: AuthMethod | 'auto';
  operation: Operation;
  dryRun: boolean;
  clusters: ClusterRef[];
  maxParallel: number;
  /** 'auto', a role definition GUID, or a role name */
  role: string;
  repositories: string[];
  login: AzureLogin;
  /** tenant of the login, when known */
  tenantId?: string;
  subscriptionId?: string;
  cloud: Cloud;
  servicePrincipal: {
    clientId?: string;
    secret?: string;
    createSecret: boolean;
    resetClusterCredentials: boolean;
    registryTenantId?: string;
  };
  secretExpiry: Duration;
  pullSecret: {
    credentialType: CredentialType;
    tokenName?: string;
    username?: string;
    password?: string;
    namespaces: string[];
    createNamespaces: boolean;
    secretName: string;
    serviceAccounts: string[];
    apply: boolean;
    /** a path, or inline YAML/JSON */
    kubeconfig?: string;
    kubeContext?: string;
  };
}
