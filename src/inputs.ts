// Raw action inputs -> typed Settings, or an InputError naming the input, the value's problem and
// the accepted form. Pure: no SDK import, no I/O (the kubeconfig is read later, still before any
// network call, by src/kube/kubeconfig.ts).
import { InputError } from './errors.ts';
import { parseCloud } from './clouds.ts';
import type { AuthMethod, AzureLogin, ClusterRef, ClusterType, CredentialType, Duration, Operation, RegistryRef, Settings } from './settings.ts';

export type GetInput = (name: string) => string;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GUID_FORM = 'a GUID such as 00000000-0000-0000-0000-000000000000';
// ACR registry names: 5-50 alphanumerics.
const REGISTRY_NAME = /^[a-zA-Z0-9]{5,50}$/;
// ARM resource group names: 1-90 of letters, digits, _ - . ( ), not ending in a period.
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;
// AKS cluster names: 1-63, letters, digits, _ and -, starting and ending alphanumeric.
const CLUSTER_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;
// Kubernetes DNS-1123 label (namespaces) and subdomain (secrets, service accounts).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// ACR token names: 5-50 of letters, digits and hyphens.
const TOKEN_NAME = /^[a-zA-Z0-9-]{5,50}$/;
// ACR repository paths (docker distribution grammar, lower case), with `*` wildcards as ACR allows
// them: a trailing `/*` or a whole `*`.
const REPO_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^(?:\\*|${REPO_COMPONENT}(?:/${REPO_COMPONENT})*(?:/\\*)?)$`);
// host[:port] for a login server
const HOST_PORT = /^(?=.{1,253}(?::\d+)?$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
const ROLE_DEF_ID = /^(\/subscriptions\/[0-9a-f-]{36})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})$/i;
const ROLE_NAME = /^[A-Za-z][A-Za-z0-9 ._()-]{1,127}$/;

const MIN_EXPIRY_MS = 60 * 60 * 1000; // 1 hour
const MAX_EXPIRY_MS = 730 * 24 * 60 * 60 * 1000; // 2 years: Entra's longest client secret

function choice<T extends string>(get: GetInput, name: string, allowed: readonly T[], fallback: T): T {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  const v = raw.toLowerCase() as T;
  if (!allowed.includes(v)) throw new InputError(name, `unknown value '${clip(raw)}'`, `one of ${allowed.join(', ')}`);
  return v;
}

function bool(get: GetInput, name: string, fallback: boolean): boolean {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  if (/^(true|yes|1)$/i.test(raw)) return true;
  if (/^(false|no|0)$/i.test(raw)) return false;
  throw new InputError(name, `'${clip(raw)}' is not a boolean`, '`true` or `false`');
}

function optional(get: GetInput, name: string): string | undefined {
  const raw = get(name).trim();
  return raw === '' ? undefined : raw;
}

function noControl(name: string, v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new InputError(name, 'contains a line break or control character', 'a single line');
  return v;
}

function guid(get: GetInput, name: string): string | undefined {
  const v = optional(get, name);
  if (v !== undefined && !GUID.test(v)) throw new InputError(name, `'${clip(v)}' is not a GUID`, GUID_FORM);
  return v?.toLowerCase();
}

/** Splits a list input: one item a line, or comma separated; blank lines and `#` comments ignored. */
export function list(raw: string): string[] {
  return raw
    .split(/[\r\n,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

function clip(v: string): string {
  const oneLine = v.replace(/[\r\n]+/g, '\\n');
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

/** `90d`, `12h`, `30m`, `2w`, or ISO 8601 (`P90D`, `PT12H`, `P1DT6H`). */
export function parseDuration(name: string, raw: string): Duration {
  const accepted = 'a duration between 1h and 730d such as 90d, 12h, 2w, or ISO 8601 P90D / PT12H';
  const v = raw.trim();
  let ms: number | undefined;
  const short = /^(\d{1,6})\s*(m|h|d|w)$/i.exec(v);
  if (short) {
    const unit = { m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[short[2].toLowerCase() as 'm' | 'h' | 'd' | 'w'];
    ms = Number(short[1]) * unit;
  } else {
    const iso = /^P(?:(\d{1,6})Y)?(?:(\d{1,6})M)?(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/i.exec(v);
    if (iso && v.length > 1 && !/T$/i.test(v)) {
      const n = (i: number) => Number(iso[i] ?? 0);
      ms = ((n(1) * 365 + n(2) * 30 + n(3) * 7 + n(4)) * 86400 + n(5) * 3600 + n(6) * 60 + n(7)) * 1000;
    }
  }
  if (ms === undefined) throw new InputError(name, `'${clip(v)}' is not a duration`, accepted);
  if (ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) throw new InputError(name, `'${clip(v)}' is out of range`, accepted);
  return { ms, text: v };
}

/** Registry name, login server or resource id. */
export function parseRegistry(raw: string, acrSuffix: string, basic: boolean): RegistryRef {
  const v = raw.trim();
  const accepted = `a registry name (5-50 letters and digits), a login server (name${acrSuffix}) or a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>)`;
  if (v === '') throw new InputError('registry', 'is required', accepted);
  noControl('registry', v);
  if (v.startsWith('/')) {
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i.exec(v);
    if (!m || !GUID.test(m[1]) || !RESOURCE_GROUP.test(m[2]) || !REGISTRY_NAME.test(m[3])) {
      throw new InputError('registry', `'${clip(v)}' is not a registry resource id`, accepted);
    }
    return { kind: 'resourceId', name: m[3].toLowerCase(), resourceId: v, subscriptionId: m[1].toLowerCase(), resourceGroup: m[2] };
  }
  if (REGISTRY_NAME.test(v)) return { kind: 'name', name: v.toLowerCase() };
  const host = v
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  if (HOST_PORT.test(host)) {
    const hostname = host.replace(/:\d+$/, '');
    if (hostname.endsWith(acrSuffix)) {
      const name = hostname.slice(0, -acrSuffix.length).split('.')[0];
      if (!REGISTRY_NAME.test(name)) throw new InputError('registry', `'${clip(v)}' does not start with a valid registry name`, accepted);
      return { kind: 'loginServer', name, loginServer: host };
    }
    // Any other registry host is fine for given credentials (custom domains, other registries).
    if (basic) return { kind: 'loginServer', name: hostname.split('.')[0], loginServer: host };
    throw new InputError('registry', `'${clip(v)}' is not under this cloud's registry suffix ${acrSuffix}`, accepted);
  }
  throw new InputError('registry', `'${clip(v)}' is not a registry name, login server or resource id`, accepted);
}

function parseCluster(line: string, fallbackSub: string | undefined, input: string): ClusterRef {
  const accepted =
    'one cluster a line: a resource id (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerService/managedClusters/<name>) or resourceGroup/name';
  noControl(input, line);
  const id = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i.exec(line);
  if (id) {
    if (!GUID.test(id[1])) throw new InputError(input, `'${clip(line)}' has a subscription that is not a GUID`, accepted);
    if (!RESOURCE_GROUP.test(id[2])) throw new InputError(input, `'${clip(line)}' has an invalid resource group`, accepted);
    if (!CLUSTER_NAME.test(id[3])) throw new InputError(input, `'${clip(line)}' has an invalid cluster name`, accepted);
    return { subscriptionId: id[1].toLowerCase(), resourceGroup: id[2], name: id[3], label: line };
  }
  const short = /^([^/]+)\/([^/]+)$/.exec(line);
  if (short && RESOURCE_GROUP.test(short[1]) && CLUSTER_NAME.test(short[2])) {
    return { subscriptionId: fallbackSub, resourceGroup: short[1], name: short[2], label: line };
  }
  throw new InputError(input, `'${clip(line)}' is not a cluster`, accepted);
}

interface CredsJson {
  clientId: string;
  clientSecret?: string;
  tenantId: string;
  subscriptionId?: string;
}

function parseCreds(raw: string): CredsJson {
  const accepted = 'a JSON object with clientId, clientSecret, tenantId and subscriptionId (as azure/login takes it)';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new InputError('creds', 'is not valid JSON', accepted);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('creds', 'is not a JSON object', accepted);
  const o = json as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).trim() !== '' ? (o[k] as string).trim() : undefined);
  const clientId = str('clientId');
  const tenantId = str('tenantId');
  if (!clientId || !GUID.test(clientId)) throw new InputError('creds', 'clientId is missing or not a GUID', accepted);
  if (!tenantId || !GUID.test(tenantId)) throw new InputError('creds', 'tenantId is missing or not a GUID', accepted);
  const subscriptionId = str('subscriptionId');
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) throw new InputError('creds', 'subscriptionId is not a GUID', accepted);
  return {
    clientId: clientId.toLowerCase(),
    tenantId: tenantId.toLowerCase(),
    clientSecret: str('clientSecret'),
    subscriptionId: subscriptionId?.toLowerCase(),
  };
}

function parseRole(raw: string): string {
  const v = raw.trim();
  if (v === '' || v.toLowerCase() === 'auto') return 'auto';
  noControl('role', v);
  if (GUID.test(v)) return v.toLowerCase();
  const id = ROLE_DEF_ID.exec(v);
  if (id) return id[2].toLowerCase();
  if (ROLE_NAME.test(v)) return v;
  throw new InputError('role', `'${clip(v)}' is not a role`, '`auto`, a role name such as AcrPull, or a role definition id (GUID)');
}

/** The one function that reads every input. Runs before any network call. */
export function readSettings(get: GetInput): Settings {
  // Login and cloud first: the cloud decides which registry suffix is valid.
  const cloud = parseCloud(get('environment'));

  const credsRaw = optional(get, 'creds');
  let clientId = guid(get, 'client-id');
  let tenantId = optional(get, 'tenant-id');
  if (tenantId !== undefined && !GUID.test(tenantId) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenantId)) {
    throw new InputError('tenant-id', `'${clip(tenantId)}' is not a tenant`, `${GUID_FORM}, or a domain such as contoso.onmicrosoft.com`);
  }
  tenantId = tenantId?.toLowerCase();
  let clientSecret = optional(get, 'client-secret');
  let subscriptionId = guid(get, 'subscription-id');
  const audience = optional(get, 'audience') ?? 'api://AzureADTokenExchange';
  noControl('audience', audience);

  if (credsRaw !== undefined) {
    if (clientId || clientSecret) {
      throw new InputError(
        'creds',
        'is given together with client-id or client-secret',
        'either creds, or client-id/tenant-id (with client-secret or OIDC)',
      );
    }
    const creds = parseCreds(credsRaw);
    clientId = creds.clientId;
    tenantId = creds.tenantId;
    clientSecret = creds.clientSecret;
    subscriptionId = subscriptionId ?? creds.subscriptionId;
  }
  let login: AzureLogin;
  if (clientId && tenantId) {
    login = clientSecret ? { kind: 'secret', clientId, tenantId, clientSecret } : { kind: 'oidc', clientId, tenantId, audience };
  } else if (clientId || clientSecret) {
    throw new InputError(clientId ? 'tenant-id' : 'client-id', 'is required with client-id/client-secret', GUID_FORM);
  } else {
    login = { kind: 'default' };
  }

  // Cluster and method.
  const clusterName = optional(get, 'cluster-name');
  const clusterGroup = optional(get, 'cluster-resource-group');
  const clusterSub = guid(get, 'cluster-subscription-id');
  const clustersRaw = get('clusters');
  const clusterLines = list(clustersRaw.replace(/,/g, '\n'));
  if (clusterName && clusterLines.length) {
    throw new InputError('clusters', 'is given together with cluster-name', 'either cluster-name (with cluster-resource-group) or clusters');
  }
  const clusters: ClusterRef[] = [];
  if (clusterName) {
    noControl('cluster-name', clusterName);
    if (!CLUSTER_NAME.test(clusterName)) {
      throw new InputError(
        'cluster-name',
        `'${clip(clusterName)}' is not a valid AKS cluster name`,
        '1-63 letters, digits, _ and -, starting and ending with a letter or digit',
      );
    }
    if (!clusterGroup) throw new InputError('cluster-resource-group', 'is required with cluster-name', 'the resource group of the AKS cluster');
    clusters.push({
      subscriptionId: clusterSub ?? subscriptionId,
      resourceGroup: checkGroup('cluster-resource-group', clusterGroup),
      name: clusterName,
      label: `${clusterGroup}/${clusterName}`,
    });
  } else {
    if (clusterGroup)
      throw new InputError('cluster-resource-group', 'is given without cluster-name', 'cluster-name together with cluster-resource-group');
    const seen = new Set<string>();
    for (const line of clusterLines) {
      const c = parseCluster(line, clusterSub ?? subscriptionId, 'clusters');
      const key = `${c.subscriptionId ?? ''}/${c.resourceGroup}/${c.name}`.toLowerCase();
      if (seen.has(key)) throw new InputError('clusters', `lists '${clip(line)}' twice`, 'each cluster once');
      seen.add(key);
      clusters.push(c);
    }
    if (clusters.length > 500)
      throw new InputError('clusters', `lists ${clusters.length} clusters`, 'at most 500 clusters; split larger fleets across matrix jobs');
  }

  const clusterType = choice<ClusterType>(get, 'cluster-type', ['aks', 'kubernetes'], clusters.length ? 'aks' : 'kubernetes');
  let authMethod = choice<AuthMethod | 'auto'>(get, 'auth-method', ['auto', 'managed-identity', 'service-principal', 'pull-secret'], 'auto');
  if (clusterType === 'kubernetes') {
    if (authMethod === 'managed-identity' || authMethod === 'service-principal') {
      throw new InputError(
        'auth-method',
        `'${authMethod}' needs an AKS cluster (cluster-type: aks with cluster-name or clusters)`,
        '`pull-secret` or `auto` for cluster-type kubernetes',
      );
    }
    if (clusters.length)
      throw new InputError('cluster-type', "'kubernetes' is given together with cluster-name or clusters", '`aks` for AKS clusters');
    authMethod = 'pull-secret';
  } else if (!clusters.length && authMethod !== 'pull-secret') {
    throw new InputError('cluster-name', 'is required with cluster-type aks', 'cluster-name with cluster-resource-group, or clusters');
  }
  const operation = choice<Operation>(get, 'operation', ['attach', 'detach', 'verify'], 'attach');
  const dryRun = bool(get, 'dry-run', false);

  const maxParallelRaw = get('max-parallel').trim() || '8';
  if (!/^\d{1,3}$/.test(maxParallelRaw) || Number(maxParallelRaw) < 1 || Number(maxParallelRaw) > 64) {
    throw new InputError('max-parallel', `'${clip(maxParallelRaw)}' is out of range`, 'a whole number from 1 to 64');
  }
  const maxParallel = Number(maxParallelRaw);

  const role = parseRole(get('role'));
  const repositories = list(get('repositories'));
  for (const r of repositories) {
    if (!REPOSITORY.test(r)) {
      throw new InputError(
        'repositories',
        `'${clip(r)}' is not a repository`,
        'lower-case repository paths such as app/web, with `*` wildcards as ACR allows (app/*), one a line',
      );
    }
  }

  // Service principal inputs.
  const spClientId = guid(get, 'service-principal-client-id');
  const spSecret = optional(get, 'service-principal-secret');
  const createSecret = bool(get, 'create-secret', false);
  const resetCluster = bool(get, 'reset-cluster-credentials', false);
  const registryTenantId = guid(get, 'registry-tenant-id');
  const secretExpiry = parseDuration('secret-expiry', get('secret-expiry').trim() || '90d');

  // Pull secret inputs.
  const credentialType = choice<CredentialType>(get, 'credential-type', ['token', 'service-principal', 'admin', 'exchange', 'basic'], 'token');
  const username = optional(get, 'username');
  const password = optional(get, 'password');
  const tokenName = optional(get, 'token-name');
  const namespaces = list(get('namespaces'));
  if (!namespaces.length) namespaces.push('default');
  const createNamespaces = bool(get, 'create-namespaces', false);
  const serviceAccounts = list(get('service-accounts'));
  const apply = bool(get, 'apply', true);
  const kubeconfig = optional(get, 'kubeconfig');
  const kubeContext = optional(get, 'kube-context');

  const registry = parseRegistry(get('registry'), cloud.acrSuffix, authMethod === 'pull-secret' && credentialType === 'basic');
  const registryGroup = optional(get, 'registry-resource-group');
  const registrySub = guid(get, 'registry-subscription-id');
  if (registry.kind === 'resourceId') {
    if (registryGroup || registrySub) {
      throw new InputError(
        'registry-resource-group',
        'is given together with a registry resource id that already names it',
        'a registry name or login server with registry-resource-group/registry-subscription-id',
      );
    }
  } else {
    if (registryGroup) registry.resourceGroup = checkGroup('registry-resource-group', registryGroup);
    if (registrySub) registry.subscriptionId = registrySub;
  }

  const secretNameRaw = optional(get, 'secret-name') ?? `acr-${registry.name}`;
  if (secretNameRaw.length > 253 || !DNS_SUBDOMAIN.test(secretNameRaw)) {
    throw new InputError(
      'secret-name',
      `'${clip(secretNameRaw)}' is not a valid Secret name`,
      'a DNS-1123 subdomain: lower-case letters, digits, - and ., at most 253 characters',
    );
  }
  const seenNs = new Set<string>();
  for (const ns of namespaces) {
    if (!DNS_LABEL.test(ns)) {
      throw new InputError(
        'namespaces',
        `'${clip(ns)}' is not a valid namespace`,
        'DNS-1123 labels: lower-case letters, digits and -, at most 63 characters, one a line or comma separated',
      );
    }
    if (seenNs.has(ns)) throw new InputError('namespaces', `lists '${ns}' twice`, 'each namespace once');
    seenNs.add(ns);
  }
  for (const sa of serviceAccounts) {
    if (sa.length > 253 || !DNS_SUBDOMAIN.test(sa)) {
      throw new InputError(
        'service-accounts',
        `'${clip(sa)}' is not a valid service account name`,
        'DNS-1123 subdomains such as default, one a line or comma separated',
      );
    }
  }
  if (tokenName !== undefined && !TOKEN_NAME.test(tokenName)) {
    throw new InputError('token-name', `'${clip(tokenName)}' is not a valid ACR token name`, '5-50 letters, digits and hyphens');
  }
  if (kubeContext !== undefined) noControl('kube-context', kubeContext);

  // Combinations.
  const isPullSecret = authMethod === 'pull-secret';
  if (isPullSecret) {
    if (credentialType === 'basic') {
      if (!username) throw new InputError('username', 'is required with credential-type basic', 'the registry username');
      if (!password) throw new InputError('password', 'is required with credential-type basic', 'the registry password');
      noControl('username', username);
    } else if (username || password) {
      throw new InputError(
        username ? 'username' : 'password',
        `is only used with credential-type basic, not '${credentialType}'`,
        'credential-type: basic with username and password',
      );
    }
    if (credentialType === 'service-principal') {
      if (!spClientId) throw new InputError('service-principal-client-id', 'is required with credential-type service-principal', GUID_FORM);
      if (!spSecret && !createSecret) {
        throw new InputError(
          'service-principal-secret',
          'is required with credential-type service-principal unless create-secret is true',
          "the service principal's client secret, or create-secret: true",
        );
      }
    }
    if (tokenName && credentialType !== 'token')
      throw new InputError('token-name', `is only used with credential-type token, not '${credentialType}'`, 'credential-type: token');
    if (resetCluster)
      throw new InputError(
        'reset-cluster-credentials',
        'is only used with auth-method service-principal',
        'auth-method: service-principal on an AKS cluster',
      );
    if (createSecret && credentialType !== 'service-principal') {
      throw new InputError(
        'create-secret',
        `is only used with auth-method service-principal or credential-type service-principal, not credential-type '${credentialType}'`,
        'credential-type: service-principal',
      );
    }
    if (!apply && operation !== 'attach')
      throw new InputError('apply', `'false' only renders; it cannot be combined with operation '${operation}'`, 'apply: true, or operation: attach');
  } else {
    if (credentialType !== 'token' && get('credential-type').trim() !== '') {
      throw new InputError('credential-type', `is only used with auth-method pull-secret, not '${authMethod}'`, 'auth-method: pull-secret');
    }
    if (username || password)
      throw new InputError(
        username ? 'username' : 'password',
        'is only used with auth-method pull-secret and credential-type basic',
        'auth-method: pull-secret',
      );
    if (authMethod === 'managed-identity' && (createSecret || resetCluster || spClientId)) {
      const name = createSecret ? 'create-secret' : resetCluster ? 'reset-cluster-credentials' : 'service-principal-client-id';
      throw new InputError(
        name,
        'is only used with auth-method service-principal',
        'auth-method: service-principal, or leave it unset for managed-identity',
      );
    }
    if (resetCluster && !createSecret && !spSecret) {
      throw new InputError(
        'reset-cluster-credentials',
        'needs a secret to reset the cluster with',
        'create-secret: true, or service-principal-secret',
      );
    }
    if (resetCluster && clusters.length > 1)
      throw new InputError('reset-cluster-credentials', 'applies to one cluster, but clusters lists several', 'cluster-name for one cluster');
    if (createSecret && spSecret)
      throw new InputError(
        'create-secret',
        'is true while service-principal-secret is also given',
        'either create-secret: true or service-principal-secret',
      );
    if (createSecret && !resetCluster) {
      // on AKS the new secret is not output: without the reset it would be an unused, live credential
      throw new InputError(
        'create-secret',
        'on an AKS cluster only makes sense with reset-cluster-credentials: true (the new secret is not output, so it would go unused)',
        'create-secret: true together with reset-cluster-credentials: true',
      );
    }
  }

  // AKS clusters named as resourceGroup/name need a subscription (a default login may bring one
  // from AZURE_SUBSCRIPTION_ID or the Azure CLI, so only explicit logins are checked here).
  if (login.kind !== 'default' && clusters.some((c) => !c.subscriptionId)) {
    throw new InputError(
      'subscription-id',
      'is required to find the AKS cluster',
      `${GUID_FORM}, or cluster-subscription-id, or clusters as resource ids`,
    );
  }

  return {
    registry,
    clusterType,
    authMethod,
    operation,
    dryRun,
    clusters,
    maxParallel,
    role,
    repositories,
    login,
    tenantId: login.kind === 'default' ? tenantId : login.tenantId,
    subscriptionId,
    cloud,
    servicePrincipal: { clientId: spClientId, secret: spSecret, createSecret, resetClusterCredentials: resetCluster, registryTenantId },
    secretExpiry,
    pullSecret: {
      credentialType: isPullSecret ? credentialType : 'token',
      tokenName,
      username,
      password,
      namespaces,
      createNamespaces,
      secretName: secretNameRaw,
      serviceAccounts,
      apply,
      kubeconfig,
      kubeContext,
    },
  };
}

function checkGroup(name: string, v: string): string {
  noControl(name, v);
  if (!RESOURCE_GROUP.test(v))
    throw new InputError(name, `'${clip(v)}' is not a valid resource group name`, '1-90 letters, digits, _ - . ( ), not ending in a period');
  return v;
}
