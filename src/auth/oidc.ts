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
  /** ask GitHub for the token now, so that it is at hand (or on its way) when MSAL wants it */
  prefetch: () => void;
} {
  let last: string | undefined;
  const fetchAssertion = async () => {
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
  const getAssertion = assertionCache(fetchAssertion);
  return {
    credential: new ClientAssertionCredential(login.tenantId, login.clientId, getAssertion, credentialOptions(cloud)),
    lastAssertion: () => last,
    prefetch: () => void getAssertion().catch(() => undefined),
  };
}

/**
 * One GitHub request per token's life: MSAL asks for the assertion more than once per sign-in
 * (measured: twice), and each ask was a round trip to GitHub before the token request could go.
 * A token is reused until a minute before its `exp` (a minute in all without one); a failure is
 * kept, so whoever asks next gets the same error without another request.
 */
export function assertionCache(fetch: () => Promise<string>, now: () => number = Date.now): () => Promise<string> {
  let current: { token: Promise<string>; until: number } | undefined;
  return () => {
    if (!current || now() >= current.until) {
      const entry = { token: fetch(), until: Number.POSITIVE_INFINITY };
      entry.token.then(
        (t) => {
          const exp = Number((jwtClaims(t) as { exp?: unknown } | undefined)?.exp);
          entry.until = Number.isFinite(exp) ? exp * 1000 - 60_000 : now() + 60_000;
        },
        () => undefined, // kept as it is
      );
      current = entry;
    }
    return current.token;
  };
}

/** The claims Entra compares with the federated credential, read from the assertion (not verified here). */
export function assertionClaims(jwt: string | undefined): { iss?: string; sub?: string; aud?: string | string[] } {
  return (jwtClaims(jwt) ?? {}) as { iss?: string; sub?: string; aud?: string | string[] };
}
