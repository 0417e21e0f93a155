// Client secret (client-secret input or creds JSON).
import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredentialLike } from '../azure/types.ts';
import type { Cloud } from '../settings.ts';
import { credentialOptions } from './options.ts';

export function secretCredential(login: { clientId: string; tenantId: string; clientSecret: string }, cloud: Cloud): TokenCredentialLike {
  return new ClientSecretCredential(login.tenantId, login.clientId, login.clientSecret, credentialOptions(cloud));
}
