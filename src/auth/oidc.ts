// OIDC federated credential: the GitHub OIDC token is the client assertion (no secret stored).
import { ClientAssertionCredential } from '@azure/identity';
import type { TokenCredentialLike } from '../azure/types.ts';
import type { Cloud } from '../settings.ts';
import { credentialOptions } from './options.ts';
import type { GithubAssertion } from './assertion.ts';

export interface OidcLogin {
  clientId: string;
  tenantId: string;
  audience: string;
}

export function oidcCredential(login: OidcLogin, cloud: Cloud, assertion: GithubAssertion): TokenCredentialLike {
  return new ClientAssertionCredential(login.tenantId, login.clientId, () => assertion.get(), credentialOptions(cloud));
}
