// Sign-in: picks the strategy from the settings, caches one token per scope and tenant, and turns
// identity failures into AuthError messages that say what to fix.
import type { Settings } from '../settings.ts';
import type { Runner } from '../runner.ts';
import type { AzureSession, TokenCredentialLike } from './types.ts';
import { AuthError } from '../errors.ts';
import { lastTransportFailure } from './arm.ts';
import { oidcCredential } from '../auth/oidc.ts';
import { assertionClaims, type GithubAssertion } from '../auth/assertion.ts';
import { federationMismatchMessage, isFederationCode, mismatchClaims } from '../auth/federation.ts';
import { secretCredential } from '../auth/secret.ts';
import { defaultCredential } from '../auth/default.ts';

/** `assertion`: for OIDC sign-in, GitHub's token, which create-deps asks for before this module loads. */
export function createSession(
  settings: Settings,
  runner: Runner,
  env: Record<string, string | undefined>,
  assertion: GithubAssertion | undefined,
): AzureSession {
  const { login, cloud } = settings;
  let credential: TokenCredentialLike;
  let lastAssertion: () => string | undefined = () => undefined;
  if (login.kind === 'oidc') {
    if (!assertion) throw new Error('OIDC sign-in needs the GitHub token source (create-deps makes it)');
    credential = oidcCredential(login, cloud, assertion);
    lastAssertion = assertion.last;
  } else if (login.kind === 'secret') {
    credential = secretCredential(login, cloud);
  } else {
    credential = defaultCredential(cloud, env);
  }
  const tenantId = settings.tenantId ?? env.AZURE_TENANT_ID;
  const cache = new Map<string, Promise<{ token: string; exp: number }>>();

  const session: AzureSession = {
    cloud,
    tenantId,
    subscriptionId: settings.subscriptionId ?? env.AZURE_SUBSCRIPTION_ID,
    credential,
    trace: (line) => runner.debug(line),
    async token(scope, tenant) {
      const key = `${tenant ?? ''}|${scope}`;
      const hit = cache.get(key);
      if (hit) {
        // A sign-in in flight that fails, fails every caller waiting for it: the transport has
        // retried it already (src/net/retry.ts), and asking again would start its retries over.
        const v = await hit;
        if (v.exp - Date.now() > 120_000) return v.token;
      }
      const p = (async () => {
        try {
          const t = await credential.getToken(scope, tenant ? { tenantId: tenant } : {});
          if (!t) throw new AuthError(`Azure sign-in returned no token for ${scope}.`);
          runner.setSecret(t.token);
          return { token: t.token, exp: t.expiresOnTimestamp };
        } catch (e) {
          throw signInError(e, settings, lastAssertion());
        }
      })();
      cache.set(key, p);
      p.catch(() => cache.delete(key));
      return (await p).token;
    },
  };
  return session;
}

/** Maps an @azure/identity failure to what the user must fix. */
export function signInError(e: unknown, settings: Settings, assertion: string | undefined): Error {
  if (e instanceof AuthError) return e;
  const err = e as Error & { errorResponse?: { error?: string; errorDescription?: string }; cause?: unknown };
  if (err?.cause instanceof AuthError) return err.cause;
  // ChainedTokenCredential's AggregateAuthenticationError carries each credential's reason.
  const inner = (err as { errors?: Error[] })?.errors?.map((x) => x?.message?.split(/\r?\n/)[0]).filter(Boolean) ?? [];
  const text = `${err?.message ?? String(e)}${inner.length ? ` (${inner.join('; ')})` : ''}`;
  if (/\b(network_error|endpoints_resolution_error)\b/.test(text)) {
    // MSAL reports every transport failure so; the guarded HTTP client noted which one it was
    const failure = lastTransportFailure(settings.cloud.authorityHost);
    return new AuthError(
      `Azure sign-in failed for ${settings.login.kind === 'default' ? 'the environment / Azure CLI login' : `client ${settings.login.clientId} in tenant ${settings.login.tenantId}`}: Entra ID at ${settings.cloud.authorityHost} gave no usable answer (${failure ?? 'network error'}), after retries. Check the network and the environment input.`,
    );
  }
  if (/id-token: write/.test(text)) {
    const m = /(Could not get a GitHub OIDC token[^\n]*)/.exec(text);
    return new AuthError(m ? m[1] : text);
  }
  const codeMatch = /AADSTS(\d+)/.exec(text);
  const code = codeMatch ? `AADSTS${codeMatch[1]}` : undefined;
  const desc = (err?.errorResponse?.errorDescription ?? text)
    .replace(/\s+Trace ID.*$/s, '')
    .replace(/\s*\r?\n\s*/g, ' ')
    .slice(0, 600);
  const login = settings.login;
  const who = login.kind === 'default' ? 'the environment / Azure CLI login' : `client ${login.clientId} in tenant ${login.tenantId}`;
  if (isFederationCode(code)) {
    // The claims come from the token the action presented, else from Entra's own message (an
    // environment login presents a token the action never saw).
    const claims = mismatchClaims(assertionClaims(assertion), desc);
    return new AuthError(federationMismatchMessage(code, who, login.kind === 'default' ? undefined : login.clientId, claims));
  }
  if (code === 'AADSTS7000215' || code === 'AADSTS7000222') {
    return new AuthError(
      `Entra ID rejected the client secret for ${who} (${code}): it is wrong or expired. Create a new secret and update the client-secret / creds input.`,
    );
  }
  if (code === 'AADSTS700016') {
    return new AuthError(
      `Entra ID does not know the application for ${who} (${code}): check client-id and tenant-id, and that the app has a service principal in that tenant.`,
    );
  }
  if (code === 'AADSTS90002') {
    return new AuthError(`Entra ID does not know tenant ${settings.tenantId ?? ''} (${code}): check tenant-id and the environment (cloud).`);
  }
  if (/AzureCliCredential|az login|Azure CLI/i.test(text) && login.kind === 'default') {
    return new AuthError(
      'No Azure login: give client-id and tenant-id (OIDC, with `permissions: id-token: write`), client-secret, or creds; or run azure/login before this step; or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET.',
    );
  }
  const next = code
    ? `Look ${code} up (README, Troubleshooting, or https://login.microsoftonline.com/error?code=${code.slice(6)}) and check client-id, tenant-id and the secret, creds or OIDC federation.`
    : 'Check client-id, tenant-id and the secret, creds or OIDC federation (README, Troubleshooting).';
  return new AuthError(`Azure sign-in failed for ${who}${code ? ` (${code})` : ''}: ${desc}${/[.!?]$/.test(desc.trim()) ? '' : '.'} ${next}`);
}
