// The typed settings the inputs turn into (src/inputs/): one discriminated union per auth method,
// so each scenario sees only the inputs that apply to it. Pure types, no runtime code.

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
  /** Entra audience of tokens for ACR itself (no trailing slash): https://containerregistry.azure.net in every cloud (clouds.ts) */
  acrAudience: string;
  /** true for a custom cloud: MSAL must not try instance discovery against the public cloud */
  custom: boolean;
}

/** How the registry was named, and (registry-tenant-id) the tenant it lives in when that is not the login's. */
export type RegistryRef = (
  | { kind: 'name'; name: string; subscriptionId?: string; resourceGroup?: string }
  | { kind: 'loginServer'; name: string; loginServer: string; subscriptionId?: string; resourceGroup?: string }
  | { kind: 'resourceId'; name: string; resourceId: string; subscriptionId: string; resourceGroup: string }
) & { tenantId?: string };

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

/** An image the run must prove pullable (src/verify/image-ref.ts parses it). */
export interface ImageSetting {
  repository: string;
  tag?: string;
  digest?: string;
  /** the login server as written in the input, when one was */
  host?: string;
}

/** Where images are proven from: the runner (token flow and the signed-in identity) or the cluster (a probe Pod). */
export type VerifyFrom = 'runner' | 'cluster';

/** `image` and `verify-from`: what verify proves, and attach after writing. */
export interface VerifySettings {
  images: ImageSetting[];
  from: VerifyFrom;
  /** AKS methods with verify-from cluster: the kubeconfig (path or inline), context and namespace of the probe Pod */
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string;
}

export interface Duration {
  ms: number;
  text: string;
}

/** What every auth method reads. */
interface CommonSettings {
  registry: RegistryRef;
  operation: Operation;
  dryRun: boolean;
  /** AKS clusters (for pull-secret, only the default token name reads them) */
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
  /** lifetime of a client secret or token password this action creates */
  secretExpiry: Duration;
  /** the images to prove pullable (none: the checks of before) and from where */
  verify: VerifySettings;
}

/** The service-principal inputs of the AKS methods. */
export interface ServicePrincipalInputs {
  clientId?: string;
  secret?: string;
  createSecret: boolean;
  resetClusterCredentials: boolean;
}

interface AksCommon extends CommonSettings {
  clusterType: 'aks';
}

/** auth-method: managed-identity: the kubelet identity of each cluster is granted. */
export interface ManagedIdentitySettings extends AksCommon {
  authMethod: 'managed-identity';
}

/** auth-method: service-principal: the cluster's (or the named) service principal is granted. */
export interface ServicePrincipalSettings extends AksCommon {
  authMethod: 'service-principal';
  servicePrincipal: ServicePrincipalInputs;
}

/** auth-method: auto on AKS: each cluster decides (a kubelet identity means managed-identity). */
export interface AutoAksSettings extends AksCommon {
  authMethod: 'auto';
  servicePrincipal: ServicePrincipalInputs;
}

export type AksSettings = ManagedIdentitySettings | ServicePrincipalSettings | AutoAksSettings;
/** The AKS settings under which a cluster may use its service principal. */
export type ServicePrincipalCapable = ServicePrincipalSettings | AutoAksSettings;

/** Where a pull secret's username and password come from (`credential-type`), with that type's inputs. */
export type CredentialInputs =
  | { type: 'token'; tokenName?: string }
  | { type: 'service-principal'; clientId: string; secret?: string; createSecret: boolean }
  | { type: 'admin' }
  | { type: 'exchange' }
  | { type: 'basic'; username: string; password: string };

export interface PullSecretInputs {
  credential: CredentialInputs;
  namespaces: string[];
  createNamespaces: boolean;
  secretName: string;
  serviceAccounts: string[];
  apply: boolean;
  /** a path, or inline YAML/JSON */
  kubeconfig?: string;
  kubeContext?: string;
}

/** auth-method: pull-secret: any cluster, through a dockerconfigjson Secret. */
export interface PullSecretSettings extends CommonSettings {
  clusterType: ClusterType;
  authMethod: 'pull-secret';
  pullSecret: PullSecretInputs;
}

export type Settings = AksSettings | PullSecretSettings;
