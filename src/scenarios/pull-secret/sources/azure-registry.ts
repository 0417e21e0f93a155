// The Azure side every ACR-backed credential source shares: the signed-in clients, the registry
// and its tenant. Loads the Azure SDKs; only ACR-backed sources call it.
import type { PullSecretSettings } from '../../../settings.ts';
import type { Deps } from '../../../deps.ts';
import type { AzureClients, Registry } from '../../../azure/types.ts';
import { checkAcrCredential } from '../../../azure/acr-token.ts';
import type { CheckOutcome } from '../../../registry-login.ts';

export interface AzureRegistryContext {
  clients: AzureClients;
  registry: Registry;
  /** the registry's tenant when it is not the login's (registry-tenant-id), else undefined */
  tenantId?: string;
}

/** Signs in and finds the registry. */
export async function azureRegistry(settings: PullSecretSettings, deps: Deps): Promise<AzureRegistryContext> {
  const clients = await deps.azure(settings);
  const registry = await clients.registries.resolve(settings.registry);
  return { clients, registry, tenantId: settings.registry.tenantId };
}

/** The first repository named without a wildcard: what a credential check asks to pull. */
export const concreteRepository = (settings: Pick<PullSecretSettings, 'repositories'>) => settings.repositories.find((r) => !r.includes('*'));

/** The registry's answer for a username and password (asking to pull `repository`, when given). */
export function acrCheckOutcome(loginServer: string, deps: Pick<Deps, 'runner'>, repository?: string) {
  return (username: string, password: string): Promise<CheckOutcome> =>
    checkAcrCredential(loginServer, username, password, { repository, trace: (l) => deps.runner.debug(l) });
}

/** A source's check(): undefined when the registry accepts the credential, else why not. */
export function acrCheck(loginServer: string, deps: Pick<Deps, 'runner'>, repository?: string) {
  const ask = acrCheckOutcome(loginServer, deps, repository);
  return async (username: string, password: string): Promise<string | undefined> => {
    const r = await ask(username, password);
    return r.ok ? undefined : r.reason;
  };
}
