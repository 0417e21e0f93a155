// Where a pull secret's username and password come from (`credential-type`). One small strategy
// per source; each knows the registry's login server, how to obtain a credential, how to undo
// what it made in Azure (detach) and how to ask the registry whether a credential still works.
import type { PullSecretSettings as Settings } from '../../settings.ts';
import type { Deps } from '../../deps.ts';
import type { RegistryRecord } from '../../kube/render.ts';
import { checkRegistryCredential } from '../../registry-check.ts';

export interface PullCredential {
  username: string;
  password: string;
  /** ISO 8601, when the credential expires */
  expiresOn?: string;
  /** token passwords: which slot (password1/password2) holds it, recorded in the secret's annotation */
  slot?: string;
  /** true when obtaining it wrote something in Azure (scope map, token, password, client secret, role) */
  changed?: boolean;
  /** what was done in Azure, for the log and the job summary */
  lines?: string[];
  /** service-principal: the principal (object id in the registry's tenant), its pull role and the assignment */
  principalId?: string;
  role?: string;
  roleAssignmentId?: string;
}

/** What the live secret holds for this registry (read before obtain, already masked). */
export interface PreviousCredential {
  username: string;
  password: string;
  /** this action's annotation for the registry: credential type, username, expiry, slot */
  record?: RegistryRecord;
}

export interface CredentialSource {
  /** the registry's login server (may sign in to Azure to find it) */
  loginServer(): Promise<string>;
  /** the registry's ARM id, when Azure was asked */
  registryId?(): Promise<string | undefined>;
  /** obtain (create, rotate) the credential; values must be masked by the source as soon as it has them */
  obtain(previous?: PreviousCredential): Promise<PullCredential>;
  /** what obtain() would do, for dry-run plans */
  describe(): string;
  /** detach: remove what attach made in Azure (e.g. the token and scope map); returns whether anything changed */
  detach?(dryRun: boolean): Promise<{ changed: boolean; lines: string[] }>;
  /**
   * after the secrets were written: is the credential obtained still the live one? False when a
   * concurrent run regenerated the same token password slot meanwhile (attach obtains again).
   */
  confirm?(cred: PullCredential): Promise<boolean>;
  /** verify: undefined when the registry accepts the credential, else what is wrong */
  check(username: string, password: string): Promise<string | undefined>;
  /** warnings to print (e.g. short-lived exchange tokens) */
  warnings: string[];
}

export type SourceFactory = (settings: Settings, deps: Deps) => Promise<CredentialSource>;

/** `credential-type: basic`: the given username and password, no Azure at all. */
export function basicSource(settings: Settings): CredentialSource {
  const { registry, cloud } = settings;
  const basic = settings.pullSecret.credential as { username: string; password: string };
  const server = registry.kind === 'loginServer' ? registry.loginServer : `${registry.name}${cloud.acrSuffix}`;
  return {
    loginServer: async () => server,
    obtain: async () => ({ username: basic.username, password: basic.password }),
    describe: () => `use the given username '${basic.username}'`,
    check: async (u, p) => {
      const r = await checkRegistryCredential(server, u, p);
      return r.ok ? undefined : r.reason;
    },
    warnings: [],
  };
}

const SOURCES: Record<string, () => Promise<{ default: SourceFactory }>> = {
  // Azure-backed sources are loaded only when chosen (they bring the Azure SDKs).
  token: () => import('./token.ts'),
  'service-principal': () => import('./service-principal.ts'),
  admin: () => import('./admin.ts'),
  exchange: () => import('./exchange.ts'),
};

export async function credentialSource(settings: Settings, deps: Deps): Promise<CredentialSource> {
  const type = settings.pullSecret.credential.type;
  if (type === 'basic') return basicSource(settings);
  const load = SOURCES[type];
  const mod = await load();
  return mod.default(settings, deps);
}

/** The Azure side every ACR-backed source shares: the signed-in clients, the registry and its tenant. */
export interface AzureRegistryContext {
  clients: import('../../azure/types.ts').AzureClients;
  registry: import('../../azure/registry.ts').Registry;
  /** the registry's tenant when it is not the login's (registry-tenant-id), else undefined */
  tenantId?: string;
}

/** Signs in and finds the registry (loads the Azure SDKs; only ACR-backed sources call it). */
export async function azureRegistry(settings: Settings, deps: Deps): Promise<AzureRegistryContext> {
  const clients = await deps.azure(settings);
  const tenantId = settings.registry.tenantId;
  const registry = await clients.registries.resolve(settings.registry, { tenantId });
  return { clients, registry, tenantId };
}
