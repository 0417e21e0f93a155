// The GitHub OIDC token that OIDC sign-in hands Entra as its client assertion. No Azure SDK here:
// create-deps.ts asks GitHub for it before @azure/identity has loaded, so GitHub's answer time
// overlaps that load instead of coming after it.
import { ApiError, AuthError } from '../errors.ts';
import { jwtClaims } from '../jwt.ts';

export interface GithubAssertion {
  /** the token (cached: see assertionCache) */
  get(): Promise<string>;
  /** ask now and keep the answer for get(); failures surface there, not here */
  prefetch(): void;
  /** the last token received (for the AADSTS700213 message), if any */
  last(): string | undefined;
}

export function githubAssertion(
  audience: string,
  env: Record<string, string | undefined>,
  getIDToken: (aud: string) => Promise<string>,
): GithubAssertion {
  let last: string | undefined;
  const get = assertionCache(async () => {
    if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new AuthError(
        'Could not get a GitHub OIDC token: the job lacks the `id-token: write` permission. Add `permissions: { id-token: write, contents: read }` to the workflow or job, or sign in with client-secret or creds instead.',
      );
    }
    try {
      last = await getIDToken(audience);
      return last;
    } catch (e) {
      // An ApiError names the request, what went wrong and what to do (a refusal: the permission).
      if (e instanceof ApiError) throw new AuthError(`Could not get a GitHub OIDC token for audience '${audience}': ${e.message}`);
      throw new AuthError(
        `Could not get a GitHub OIDC token for audience '${audience}': ${(e as Error).message}. Check that the job has \`permissions: id-token: write\`.`,
      );
    }
  });
  return { get, prefetch: () => void get().catch(() => undefined), last: () => last };
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
