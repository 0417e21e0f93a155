// The emulator's shared contract: every service module (entra, graph, arm, acr, kube, github, admin)
// is a set of routes (routes.ts) over one mutable EmulatorState. Run with Node 24 type stripping:
// erasable TypeScript only (no enums, no parameter properties, no namespaces).
import type { IncomingHttpHeaders } from 'node:http';

/** Claims of an access token the emulator's Entra issued (verified by the server before handlers run). */
export interface AccessTokenClaims {
  aud: string; // audience, e.g. the ARM or Graph resource id (no trailing '/.default')
  iss: string;
  tid: string; // tenant the token was issued for
  oid: string; // service principal object id in that tenant
  appid: string; // client id of the caller
  sub: string;
  exp: number;
  iat: number;
  [k: string]: unknown;
}

export interface EmuRequest {
  method: string;
  /** full URL as received (host from the Host header) */
  url: URL;
  /** url.pathname, percent-decoded */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** lower-cased Host header without port, e.g. 127.0.0.1 or myreg.azurecr.localhost */
  hostname: string;
  body: Buffer;
  /** body parsed as JSON, or undefined when empty / not JSON */
  json: unknown;
  /** present when the request carried `Authorization: Bearer <jwt>` that the emulator's Entra signed and that has not expired */
  token?: AccessTokenClaims;
  /** raw bearer value when present (also for tokens not issued by Entra, e.g. the Kubernetes bearer token) */
  bearer?: string;
  /** where the connection came from (emulator/network.ts): the cluster's nodes (through the cluster egress) or the runner */
  caller?: 'runner' | 'cluster';
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  /** objects are sent as JSON; strings and Buffers as they are */
  body?: unknown;
  /**
   * An answer that needs I/O (the ACR data plane asking the real registry behind it): the server
   * awaits it and sends what it gives instead (status and body above are then ignored).
   */
  deferred?: () => Promise<EmuResponse>;
}

/** A request handler: the answer, or undefined when the request is not its to answer (see routes.ts for the route table). */
export type Handler = (req: EmuRequest, ctx: EmuContext) => EmuResponse | undefined;

export interface EmuContext {
  state: EmulatorState;
  /** https://127.0.0.1:PORT (no trailing slash) */
  baseUrl: string;
  port: number;
  /** sign a JWT (RS256) with the emulator's Entra key; used by Entra (access tokens) and the GitHub OIDC endpoint */
  signJwt(claims: Record<string, unknown>): string;
  /** verify a JWT signed by signJwt; returns claims or undefined */
  verifyJwt(token: string): Record<string, unknown> | undefined;
  /** the public half of the signing key as a JWK (kty, use, kid, alg, n, e), for JWKS endpoints */
  signingJwk?(): Record<string, unknown>;
  /** ARM error body helper: { error: { code, message } } with the given status */
  armError(status: number, code: string, message: string): EmuResponse;
  /** counter-based helpers for deterministic ids in tests */
  newGuid(): string;
  now(): Date;
  /** the cluster egress (emulator/network.ts): HTTPS_PROXY for the kubelet stand-in's pulls */
  clusterEgressUrl?: string;
  /** the emulator's CA certificate (PEM path): what the kubelet stand-in's skopeo trusts */
  caCertPath?: string;
}

// ---------------------------------------------------------------- seed / state

export interface PasswordCredential {
  keyId: string;
  displayName?: string | null;
  startDateTime: string;
  endDateTime: string;
  hint: string; // first 3 chars of the secret
  /** emulator-only: the secret value (never returned by GET routes) */
  secretText: string;
}

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface AppRegistration {
  id: string; // object id of the application in its home tenant
  appId: string; // client id
  displayName: string;
  signInAudience: 'AzureADMyOrg' | 'AzureADMultipleOrgs';
  passwordCredentials: PasswordCredential[];
  federatedIdentityCredentials: FederatedCredential[];
  /** object ids of its owners (service principals of its home tenant): what Application.ReadWrite.OwnedBy may manage */
  owners?: string[];
}

export interface ServicePrincipalObject {
  id: string; // object id in this tenant
  appId: string;
  displayName: string;
  appOwnerOrganizationId: string; // home tenant of the app
  servicePrincipalType?: string;
}

export interface TenantState {
  displayName?: string;
  /** applications whose home tenant is this tenant */
  applications: AppRegistration[];
  /** service principals (enterprise apps) present in this tenant */
  servicePrincipals: ServicePrincipalObject[];
  /**
   * Microsoft Graph application permissions (app roles, by value: 'Application.Read.All', ...) granted
   * to service principals of this tenant, by service principal object id: Entra puts them in the
   * `roles` claim of the app-only tokens it issues for Graph, and Graph authorizes by that claim.
   */
  graphAppRoles?: Record<string, string[]>;
  /**
   * Test overrides, not Azure rules (absent: no effect): when a list is present, only the appIds in it
   * ('*' = anyone) may POST /servicePrincipals, read applications, or add/remove passwords in this
   * tenant, whatever their Graph permissions. Kept for the end-to-end tests written before graphAppRoles.
   */
  canProvisionServicePrincipals?: string[];
  canReadApplications?: string[];
  canAddPassword?: string[];
}

export interface SubscriptionState {
  tenantId: string;
  displayName: string;
}

/** A Kubernetes object as stored: metadata.resourceVersion is managed by the server. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeState {
  /** bearer token the API server accepts */
  token: string;
  /** next resourceVersion (monotonic counter) */
  resourceVersion: number;
  namespaces: Record<string, KubeObject>;
  /** namespace -> name -> object */
  secrets: Record<string, Record<string, KubeObject>>;
  serviceaccounts: Record<string, Record<string, KubeObject>>;
  // ---- RBAC, authentication and controllers (emulator/kube/); all optional
  /** rbac.authorization.k8s.io/v1 objects: namespace -> name -> object (roles, rolebindings), name -> object (cluster-scoped) */
  roles?: Record<string, Record<string, KubeObject>>;
  rolebindings?: Record<string, Record<string, KubeObject>>;
  clusterroles?: Record<string, KubeObject>;
  clusterrolebindings?: Record<string, KubeObject>;
  /** static bearer tokens, as kube-apiserver's --token-auth-file: token -> user name, uid and groups */
  tokens?: Record<string, { user: string; uid?: string; groups?: string[] }>;
  /** requests without credentials act as system:anonymous (kube-apiserver's --anonymous-auth); off: they get 401 */
  anonymous?: boolean;
  /** kube-controller-manager's controllers: how long after its trigger each one acts (ms; 0 or unset: at once) */
  controllers?: { serviceAccountDelayMs?: number; namespaceDeletionDelayMs?: number };
  // ---- Pods, events and the kubelet stand-in (emulator/kube/pods.ts, kubelet.ts); all optional
  pods?: Record<string, Record<string, KubeObject>>;
  events?: Record<string, Record<string, KubeObject>>;
  /** the nodes: where their pulls come from (emulator/network.ts) and whose identity pulls without a pull secret */
  kubelet?: KubeletSettings;
}

/** The cluster's nodes, as the kubelet stand-in and the network model see them. */
export interface KubeletSettings {
  /** the AKS cluster this API server belongs to: its agent pool's vnetSubnetID is the nodes' network, its kubelet identity pulls when a Pod names no pull secret */
  aksClusterId?: string;
  /** the nodes' subnet id (a cluster that is not AKS, or to override the AKS cluster's) */
  subnetId?: string;
  /** the public address the nodes' traffic leaves from (default 198.51.100.20) */
  egressIp?: string;
  /** the nodes' DNS resolves *.azurecr.* through a linked privatelink.azurecr.io zone (no record for a registry without an endpoint in their network) */
  privateDnsZone?: boolean;
  /** the nodes' outbound internet traffic is blocked (only private traffic gets out) */
  egressBlocked?: boolean;
  /** how long the pull of one image may take before the stand-in records a timeout (default 60 s) */
  pullTimeoutMs?: number;
  /** delay before the stand-in acts on a new Pod (default 0) */
  startDelayMs?: number;
}

export interface TokenPassword {
  value: string;
  expiry?: string;
  /** when generateCredentials made it (knobs.acrPasswordDelayMs counts from here; absent: valid at once) */
  created?: string;
}

/** Secrets behind ARM resources that GET never returns. */
export interface RegistrySecrets {
  /** registry resource id (lower-case) -> admin passwords */
  admin: Record<string, { username: string; password: string; password2: string }>;
  /** token resource id (lower-case) -> password1/password2 values, expiries and creation times (ISO) */
  tokenPasswords: Record<string, { password1?: TokenPassword; password2?: TokenPassword }>;
  /** refresh tokens issued by /oauth2/exchange: token -> claims */
  refreshTokens: Record<string, { registry: string; oid: string; tid: string; exp: number }>;
}

export interface EmulatorState {
  /** tenantId -> tenant */
  tenants: Record<string, TenantState>;
  /** subscriptionId -> subscription */
  subscriptions: Record<string, SubscriptionState>;
  /**
   * ARM resources by resource id in lower case: managed clusters, registries, scope maps, tokens.
   * Values are ARM JSON as GET returns it (shaped on ../shared/azure-api/specs examples).
   */
  resources: Record<string, Record<string, any>>;
  /** role definitions (built-in ones at least AcrPull, Container Registry Repository Reader, Owner, Contributor) */
  roleDefinitions: Record<string, any>[];
  /** role assignments by id in lower case, ARM JSON (RoleAssignment 2022-04-01) */
  roleAssignments: Record<string, Record<string, any>>;
  /** oids (service principal object ids) allowed to write/delete role assignments; '*' = anyone */
  roleAssignmentWriters: string[];
  /**
   * principal object ids that ARM does not see yet (replication delay): PUT role assignment answers 400
   * PrincipalNotFound until the given ISO time, or for the given number of further attempts.
   */
  pendingPrincipals: Record<string, { until?: string; attempts?: number }>;
  registrySecrets: RegistrySecrets;
  kube: KubeState;
  /** GitHub OIDC: claims of the token the OIDC endpoint issues (iss/sub/aud/exp set by the endpoint unless given) */
  githubOidc: { subject: string; repository: string; enabled: boolean };
  // ---- added by the ARM/ACR module (emulator/arm, emulator/acr.ts); all optional
  /** resource groups that exist even without resources: id in lower case -> name (as cased) and location */
  resourceGroups?: Record<string, { name: string; location: string; tags?: Record<string, string> }>;
  /** ARM long-running operations by operation id (lower case) */
  armOperations?: Record<string, ArmOperation>;
  /** AKS side table: cluster id (lower case) -> the service principal credentials last set by resetServicePrincipalProfile */
  clusterSecrets?: Record<string, { clientId: string; secret: string; updatedAt: string }>;
  /** how many times an LRO status/Location poll answers InProgress/202 before it completes (default 1) */
  lroPolls?: number;
  /** make matching LROs end in status Failed with this error (regular expression over the initial request path) */
  lroFailures?: Array<{ method?: string; pathPattern: string; code: string; message: string; times?: number }>;
  /** how matching long-running operations answer (emulator/arm/lro.ts): each shape ARM's async guideline allows, per test */
  lroShapes?: LroShapeRule[];
  /** switches between answers real Azure may give, each defaulting to the emulator's earlier answer (see Knobs) */
  knobs?: Knobs;
  // ---- the network model (emulator/network.ts) and the image store behind the ACR data plane (emulator/acr.ts)
  network?: {
    /** the runner's public address (default 203.0.113.7) */
    runnerIp?: string;
    /** where private endpoints live, standing in for Microsoft.Network: endpoint id (lower case) -> its subnet id */
    privateEndpoints?: Record<string, { subnetId: string }>;
  };
  /**
   * The real registry (Debian's docker-registry) behind an emulated ACR: registry id (lower case) ->
   * its https origin, the htpasswd user the emulator reads with and the CA it trusts (PEM). The data
   * plane checks ACR's own authorization first, then reads manifests, blobs and tags from it.
   */
  registryBackends?: Record<string, { url: string; username: string; password: string; caPem?: string }>;
}

/**
 * Answers real Azure may give that today's action does not survive yet: off by default, so the suite
 * stays green, and turned on per test (or by the action-side helper once the action handles them).
 */
export interface Knobs {
  /** Entra: federated-credential mismatches answer the older AADSTS70021 (400 invalid_request) instead of 700211/700212/700213/7002138 */
  federatedErrors?: 'current' | 'aadsts70021';
  /** ACR data plane: a newly generated token password is refused until this many ms after its creation (real ACR: up to about a minute); default 0 */
  acrPasswordDelayMs?: number;
  /**
   * ACR data plane: /oauth2/token requires `scope`, as its spec (data-plane 2021-07-01) says. On in the
   * default seed (seed/arm.json), since the action sends a scope on every path; false: a request without
   * one gets a token without access (what docker login, which sends none, is observed to get)
   */
  acrTokenScopeRequired?: boolean;
}

/** One long-running operation's answer (emulator/arm/lro.ts): the first rule whose method and path match applies. */
export interface LroShapeRule {
  method?: string;
  /** regular expression over the initial request's path (case-insensitive) */
  pathPattern: string;
  /**
   * sync: the final answer at once (200, or the PUT's 200/201, no polling);
   * async-operation: 201/202 with Azure-AsyncOperation only; location: 202 (a PUT's 201) with Location only;
   * both: both headers. Unset: the operation's own default shape.
   */
  shape?: 'sync' | 'async-operation' | 'location' | 'both';
  /** what a Location URL answers at the end of an operation without a result body: 200 (default) or 204 */
  final?: 200 | 204;
  /** Retry-After seconds on the first answer and while running; null: no Retry-After header (default 0) */
  retryAfter?: number | null;
  /** terminal status (default Succeeded); Failed and Canceled carry `code` and `message` */
  outcome?: 'Succeeded' | 'Failed' | 'Canceled';
  code?: string;
  message?: string;
  /** apply to this many operations, then stop (undefined = always) */
  times?: number;
}

/** An ARM long-running operation (AKS/ACR): polled through its Azure-AsyncOperation and Location URLs. */
export interface ArmOperation {
  id: string;
  /** ARM resource id the operation acts on */
  resourceId: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  /** polls answered so far on the Azure-AsyncOperation URL and on the Location URL */
  asyncPolls: number;
  locationPolls: number;
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
  /** what the Location URL answers once the operation has completed */
  result?: { status: number; body?: unknown };
  /** the terminal status it reaches (default Succeeded when it has no error, else Failed) */
  outcome?: 'Succeeded' | 'Failed' | 'Canceled';
  /** Retry-After seconds while it runs (null: none; default 0) */
  retryAfter?: number | null;
  /** the request that started it: what its final answer is validated against (emulator/arm/contract.ts) */
  origin?: { method: string; path: string; apiVersion: string };
}

// ---------------------------------------------------------------- faults and the request log

export interface FaultRule {
  /** match on method (exact, upper-case) and a regular expression over `${hostname}${path}` */
  method?: string;
  pathPattern?: string;
  /**
   * latency: delay every matching request by ms (count unlimited unless `times`);
   * body: answer with `status` (default 200) and a body of our choosing instead of the handler's
   * (hostile answers): `body` as given, or `bodyBytes` bytes of valid JSON ({"padding":"xxx…"})
   */
  kind: 'latency' | 'status' | 'reset' | 'stall' | 'armError' | 'body';
  ms?: number;
  status?: number;
  retryAfter?: number; // seconds, for 429
  code?: string; // ARM error code for kind 'armError' (e.g. 'Conflict')
  message?: string;
  /** kind 'body': the body sent as it is (e.g. invalid JSON) */
  body?: string;
  /** kind 'body': the size of a generated valid-JSON body, in bytes (e.g. 50 MB), when `body` is not given */
  bodyBytes?: number;
  /** kind 'body': the content-type header (default application/json; charset=utf-8) */
  contentType?: string;
  /** kind 'body': more response headers (e.g. a hostile www-authenticate or azure-asyncoperation) */
  headers?: Record<string, string>;
  /** apply to this many matching requests, then stop (undefined = always) */
  times?: number;
}

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  host: string;
  path: string;
  query: string;
  status: number;
  /** which service answered: entra | github | arm | graph | acr | kube | admin | none */
  service: string;
  /** token claims summary when the request carried one */
  tid?: string;
  appid?: string;
  fault?: string;
  durationMs: number;
}
