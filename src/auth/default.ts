// No login inputs: the environment variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET
// or AZURE_FEDERATED_TOKEN_FILE), then an Azure CLI session such as azure/login leaves.
import { AzureCliCredential, ChainedTokenCredential, EnvironmentCredential, WorkloadIdentityCredential } from '@azure/identity';
import type { TokenCredentialLike } from '../azure/types.ts';
import type { Cloud } from '../settings.ts';
import { credentialOptions } from './options.ts';

export function defaultCredential(cloud: Cloud, env: Record<string, string | undefined>): TokenCredentialLike {
  const opts = credentialOptions(cloud);
  const chain: TokenCredentialLike[] = [];
  if (env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) chain.push(new WorkloadIdentityCredential(opts));
  if (env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) chain.push(new EnvironmentCredential(opts));
  chain.push(new AzureCliCredential({ additionallyAllowedTenants: ['*'] }));
  return new ChainedTokenCredential(...(chain as ConstructorParameters<typeof ChainedTokenCredential>));
}
