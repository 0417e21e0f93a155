// Builds the Azure clients for a run. Loaded by dynamic import only on paths that talk to Azure.
// Shared file: each client is added as one lazily created member.
import type { Settings } from '../settings.ts';
import type { Runner } from '../runner.ts';
import type { AcrClient, AksClient, AzureClients, AzureSession, GraphClient, RbacClient, RegistryResolver } from './types.ts';
import { createGraphClient } from './graph.ts';
import { createAksClient } from './aks.ts';
import { createRegistryResolver } from './registry-lookup.ts';
import { createRbacClient, principalRetryFromEnv } from './rbac.ts';
import { createAcrClient } from './acr-credentials.ts';

export function createAzureClients(settings: Settings, runner: Runner, env: Record<string, string | undefined>, session: AzureSession): AzureClients {
  let graph: GraphClient | undefined;
  let aks: AksClient | undefined;
  let registries: RegistryResolver | undefined;
  const rbac = new Map<string, RbacClient>();
  const acr = new Map<string, AcrClient>();
  return {
    session,
    get graph() {
      return (graph ??= createGraphClient(session, { mask: (v) => runner.setSecret(v) }));
    },
    get aks() {
      return (aks ??= createAksClient(session));
    },
    get registries() {
      return (registries ??= createRegistryResolver(session));
    },
    rbac(tenantId) {
      const key = tenantId ?? '';
      let c = rbac.get(key);
      if (!c)
        rbac.set(key, (c = createRbacClient(session, { tenantId, principalRetry: principalRetryFromEnv(env), onRetry: (m) => runner.info(m) })));
      return c;
    },
    acr(tenantId) {
      const key = tenantId ?? '';
      let c = acr.get(key);
      if (!c) acr.set(key, (c = createAcrClient(session, tenantId)));
      return c;
    },
  };
}
