// OIDC federated credential: the GitHub OIDC token is the client assertion (no secret stored).
import { ClientAssertionCredential } from '@azure/identity';
import type { TokenCredentialLike } from '../azure/types.ts';
import type { Cloud } from '../settings.ts';
import { AuthError } from '../errors.ts';
import { credentialOptions } from './options.ts';
import { jwtClaims } from '../jwt.ts';

export interface OidcLogin {
  clientId: string;
  tenantId: string;
  audience: string;
}

export function oidcCredential(
  login: OidcLogin,
  cloud: Cloud,
  env: Record<string, string | undefined>,
  getIDToken: (aud: string) => Promise<string>,
): {
  credential: TokenCredentialLike;
  lastAssertion: () => string | undefined;
} {
  let last: string | undefined;
  const getAssertion = async () => {
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new AuthError(
        'Could not get a GitHub OIDC token: the job lacks the `id-token: write` permission. Add `permissions: { id-token: write, contents: read }` to the workflow or job, or sign in with client-secret or creds instead.',
      );
    }
    try {
      last = await getIDToken(login.audience);
      return last;
    } catch (e) {
      throw new AuthError(
        `Could not get a GitHub OIDC token for audience '${login.audience}': ${(e as Error).message}. Check that the job has \`permissions: id-token: write\`.`,
      );
    }
  };
  return {
    credential: new ClientAssertionCredential(login.tenantId, login.clientId, getAssertion, credentialOptions(cloud)),
    lastAssertion: () => last,
  };
}

/** The claims Entra compares with the federated credential, read from the assertion (not verified here). */
export function assertionClaims(jwt: string | undefined): { iss?: string; sub?: string; aud?: string | string[] } {
  return (jwtClaims(jwt) ?? {}) as { iss?: string; sub?: string; aud?: string | string[] };
}
